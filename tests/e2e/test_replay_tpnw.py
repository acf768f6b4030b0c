"""Replay of TPNW (XXVI-9): its status of Jan 2018, then its status page of Feb 2026, on the
project's own pages (tests/conformance/test_replay_tpnw_real.py replays the real MTDSG XML of
Jan 2018 and page of Feb 2026). Two snapshots, and one consent event for each participant that
became a party between."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from support.own_pages import write_tpnw_replay

from tracker.sources import parse

pytestmark = [pytest.mark.db, pytest.mark.slow]


@pytest.fixture
def tpnw(tmp_path: Path) -> tuple[Path, Path]:
    """TPNW's two pages, Jan 2018 then Feb 2026: the project's own (support.own_pages); the
    real XML and page in tests/conformance/test_replay_*_real.py."""
    return write_tpnw_replay(tmp_path)


def tracker(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "tracker.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_tpnw_2018_then_2026(cli_env, tpnw):
    old_page, new_page = tpnw
    first = tracker(
        cli_env, "ingest", "--source", "untc", "--observed-at", "2018-01-15", str(old_page)
    )
    assert first.returncode == 0, first.stdout + first.stderr
    second = tracker(cli_env, "ingest", "--source", "untc", str(new_page))
    assert second.returncode == 0, second.stdout + second.stderr

    history = json.loads(tracker(cli_env, "history", "XXVI-9", "--json").stdout)
    assert [s["observed_at"][:10] for s in history["snapshots"]] == ["2018-01-15", "2026-02-03"]

    old = parse("untc", old_page.read_bytes(), url=str(old_page))
    new = parse("untc", new_page.read_bytes(), url=str(new_page))
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
    again = tracker(cli_env, "ingest", "--source", "untc", str(new_page))
    assert again.returncode == 0 and "unchanged" in again.stdout
    assert json.loads(tracker(cli_env, "history", "XXVI-9", "--json").stdout) == history
