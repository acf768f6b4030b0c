"""The declarations, reservations, objections and notifications of the 30 real ViewDetails
pages (Feb 2026, after <a name="EndDec">): every page's read, each entry matched to a
participant of its table, the counts per section printed and pinned.

Counted on the pages as captured (each `div[id$=_divParticipant]` of the four section tables):
1296 entries, 779 declarations and reservations, 251 objections, 216 declarations under an
article and 50 notifications (IV-3-a, IV-4, IV-9-b)."""

from __future__ import annotations

from collections import Counter

import pytest
from support.real import ABSENT, REAL

from tracker.sources.untc.html import parse_html

PAGES = REAL / "untc_viewdetails_html_2026-02-03"
SECTIONS = {
    "declarations": 779,
    "objections": 251,
    "declarations_under_article": 216,
    "notifications": 50,
}
pytestmark = pytest.mark.skipif(not PAGES.is_dir(), reason=ABSENT)


def test_declarations_are_read_from_all_30_pages():
    total: Counter[str] = Counter()
    unmatched = []
    pages = sorted(PAGES.glob("*.html"))
    assert len(pages) == 30
    for path in pages:
        status = parse_html(path.read_bytes())
        assert status.declarations, path.name  # every real page prints at least one
        keys = {p.key for p in status.participants}
        unmatched += [(path.name, d.participant) for d in status.declarations if d.key not in keys]
        assert all(d.text and "\n\n" not in d.text for d in status.declarations), path.name
        counts = Counter(d.section for d in status.declarations)
        print(f"{status.treaty_id}: {sum(counts.values())} {dict(counts)}")
        total.update(counts)
    print(f"all 30 pages: {sum(total.values())} {dict(total)}")
    assert dict(total) == SECTIONS
    assert unmatched == []  # each entry names a participant of its page's table


def test_a_known_declaration_reads_as_printed():
    status = parse_html((PAGES / "XXVI-8__att.html").read_bytes())
    belgium = next(d for d in status.declarations if d.participant == "Belgium")
    assert belgium.section == "declarations" and belgium.iso3 == "BEL"
    assert belgium.text.splitlines() == [
        "7 June 2013",
        "Declaration:",
        "“This signature engages also the Walloon Region, the Flemish Region and the "
        "Brussels-Capital Region.”",
    ]
