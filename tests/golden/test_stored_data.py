"""What ingestion stores is exactly what it stored before a change made for speed (issue 15).

A deterministic history (tests/golden/scenario.py: ~50 TPNW versions with an absence confirmed
and a return, unchanged pages and a 304 copy, a rejected page, 30 own treaties, Cybercrime
approaching, WIPO accepted and rejected, two subscriptions) is ingested into an empty database,
then every table is dumped canonically (tests/support/db_dump.py) and digested per table.
The digests must equal the committed ones in `stored_data.json`, on SQLite and on PostgreSQL.

A deliberate change of what is stored regenerates the file
(`TRACKER_WRITE_GOLDEN=1 pytest tests/golden`), and the commit says why; a change for speed
never does.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest
from support.db_dump import digests

from tests.golden import scenario

pytestmark = [pytest.mark.db, pytest.mark.slow]

GOLDEN = Path(__file__).with_name("stored_data.json")


def _compare(name: str, found: dict) -> None:
    if os.environ.get("TRACKER_WRITE_GOLDEN") == "1":
        known = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
        known[name] = found
        GOLDEN.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")
    expected = json.loads(GOLDEN.read_text())[name]
    differ = {
        table: (expected.get(table), got)
        for table, got in found.items()
        if expected.get(table) != got
    }
    assert not differ, f"stored data changed in {sorted(differ)}: {differ}"
    assert set(expected) == set(found)


def test_the_history_stores_what_it_stored_before(session_factory, db_engine):
    results = scenario.run(session_factory)
    outcomes = Counter(r.outcome for r in results)
    # The scenario walks every outcome, and writes events and deliveries.
    assert outcomes["accepted"] > 40 and outcomes["unchanged"] >= 2, outcomes
    assert outcomes["quarantined"] >= 3, outcomes
    found = digests(db_engine)
    for table in ("events", "deliveries", "actions", "snapshots", "raw_pages", "quarantine"):
        assert found[table]["rows"] > 0, table
    _compare("scenario", found)


def _real_pages():
    """The real captures in date order: the 407 MTDSG XML files of Jan 2018, then the 30 status
    pages and the 26 WIPO Lex pages of Feb 2026 (a treaty in both formats is cross-checked)."""
    from datetime import UTC, datetime

    from support.real import REAL

    from tracker.services.ingest import FetchedPage

    index = json.loads((REAL / "index.json").read_text("utf-8"))
    plan = (
        ("untc_mtdsg_xml", "untc", datetime(2018, 1, 15, 12, tzinfo=UTC), "application/xml"),
        ("untc_viewdetails_html", "untc", datetime(2026, 2, 3, 12, tzinfo=UTC), "text/html"),
        ("wipo_lex_html", "wipo", datetime(2026, 2, 3, 13, tzinfo=UTC), "text/html"),
    )
    for kind, source, when, content_type in plan:
        for entry in (e for e in index if e["kind"] == kind):
            body = (REAL.parent.parent / entry["path"]).read_bytes()
            yield FetchedPage(source, entry["original_url"], body, when, content_type=content_type)


def test_the_real_captures_store_what_they_stored_before(session_factory, db_engine):
    from support.real import ABSENT, REAL

    from tracker.services.ingest import ingest_page

    if not (REAL / "index.json").exists():
        pytest.skip(ABSENT)
    scenario.subscribe(session_factory)
    outcomes = Counter(ingest_page(session_factory, page).outcome for page in _real_pages())
    assert outcomes["accepted"] > 250 and outcomes["quarantined"] > 100, outcomes
    _compare("real", digests(db_engine))
