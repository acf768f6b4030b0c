"""Replay of real captures: TPNW (XXVI-9) as MTDSG XML of Jan 2018, then its status page of
Feb 2026. Two snapshots, and one consent event for each participant that became a party between."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest

from tracker.devtools.paths import REAL
from tracker.sources import parse

pytestmark = [pytest.mark.db, pytest.mark.slow]

XML = REAL / "untc_mtdsg_xml_2018-01-15" / "XXVI-9.en.xml"
HTML = REAL / "untc_viewdetails_html_2026-02-03" / "XXVI-9__tpnw.html"


def tracker(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "tracker.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.skipif(
    not REAL.exists(), reason=f"real fixtures absent: {REAL} (shared/ not beside the repo)"
)
def test_tpnw_2018_then_2026(cli_env):
    first = tracker(cli_env, "ingest", "--source", "untc", "--observed-at", "2018-01-15", str(XML))
    assert first.returncode == 0, first.stdout + first.stderr
    second = tracker(cli_env, "ingest", "--source", "untc", str(HTML))
    assert second.returncode == 0, second.stdout + second.stderr

    history = json.loads(tracker(cli_env, "history", "XXVI-9", "--json").stdout)
    assert [s["observed_at"][:10] for s in history["snapshots"]] == ["2018-01-15", "2026-02-03"]

    old = parse("untc", XML.read_bytes(), url=str(XML))
    new = parse("untc", HTML.read_bytes(), url=str(HTML))
    assert (old.parties, new.parties) == (3, 74)
    old_parties = {p.name for p in old.participants if p.is_party}
    became_parties = {p.name for p in new.participants if p.is_party and p.name not in old_parties}
    assert len(became_parties) == 71

    consents = Counter(e["participant"] for e in history["events"] if e["kind"] == "consent")
    assert set(consents) == became_parties
    assert set(consents.values()) == {1}  # exactly one each
    for event in history["events"]:
        assert event["observed_at"][:10] == "2026-02-03"
        assert event["legal_date"] is None or event["legal_date"] <= "2026-02-03"

    # Replaying the same page again changes nothing.
    again = tracker(cli_env, "ingest", "--source", "untc", str(HTML))
    assert again.returncode == 0 and "unchanged" in again.stdout
    assert json.loads(tracker(cli_env, "history", "XXVI-9", "--json").stdout) == history
