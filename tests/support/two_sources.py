"""A database holding both depositaries' treaties, from the project's own pages: UNTC's
(support.own_pages: TPNW XXVI-9 of Jan 2018 and Feb 2026, the CTBT XXVI-4) and WIPO Lex's
(tests/fixtures/wipo: Marrakesh WIPO-843, Paris WIPO-2, Washington WIPO-29), each source with a
good crawl recorded. Austria (AUT) is in TPNW (a party) and in Marrakesh (a signatory), so its
country page lists treaties of both depositaries.

`marrakesh_austria_ratified()` is a later Marrakesh page on which Austria ratified: ingested
after the seed, it makes a WIPO consent event (the tests of WIPO alerts).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from support import own_pages
from support.wipo_fixtures import MARRAKESH_ROWS
from support.wipo_render import page as wipo_page
from tracker.services.crawl_records import record_crawl
from tracker.services.ingest import FetchedPage, ingest_page

WIPO_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "wipo"
WIPO_PAGES = {
    "843": "marrakesh_few.html",
    "2": "paris_few.html",
    "29": "washington_not_in_force.html",
}
SEEDED = "2026-02-03"
AUSTRIA_RATIFIED = date(2026, 2, 10)
AUSTRIA_IN_FORCE = date(2026, 5, 10)  # as WIPO Lex prints it (three months later)


def wipo_url(treaty_id: str) -> str:
    return (
        f"https://www.wipo.int/wipolex/en/treaties/ShowResults?search_what=C&treaty_id={treaty_id}"
    )


def noon(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def ingest(
    session_factory: sessionmaker[Session], source: str, url: str, body: bytes, day: str
) -> None:
    when = noon(day)
    assert ingest_page(session_factory, FetchedPage(source, url, body, when, when)) is not None


def seed_two_sources(session_factory: sessionmaker[Session]) -> None:
    """TPNW (twice) and the CTBT from UNTC, three WIPO Lex treaties, and a good crawl of each."""
    untc = [
        ("XXVI-9", own_pages.tpnw_page(date(2018, 1, 15)), "2018-01-15"),
        ("XXVI-9", own_pages.page_of("XXVI-9"), SEEDED),
        ("XXVI-4", own_pages.page_of("XXVI-4"), SEEDED),
    ]
    for treaty, body, day in untc:
        ingest(session_factory, "untc", own_pages.url_of(treaty), body, day)
    for treaty, name in WIPO_PAGES.items():
        ingest(
            session_factory, "wipo", wipo_url(treaty), (WIPO_FIXTURES / name).read_bytes(), SEEDED
        )
    for source in ("untc", "wipo"):
        record_crawl(session_factory, source, {"pages": 3}, True, None, noon(SEEDED))


def marrakesh_austria_ratified() -> bytes:
    """Marrakesh as on the fixture, Austria's ratification added (Total Members 4)."""
    rows = [
        (name, signed, ("Ratification", AUSTRIA_RATIFIED), AUSTRIA_IN_FORCE)
        if name == "Austria"
        else (name, signed, instrument, in_force)
        for name, signed, instrument, in_force in MARRAKESH_ROWS
    ]
    return wipo_page("843", "Marrakesh VIP Treaty", "(Total Members: 4)", rows)


def austria_ratifies_marrakesh(session_factory: sessionmaker[Session], day: str) -> None:
    ingest(session_factory, "wipo", wipo_url("843"), marrakesh_austria_ratified(), day)
