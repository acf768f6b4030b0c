"""One deterministic ingest history that walks every kind of write ingestion makes, for the
stored-data golden test (tests/golden/test_stored_data.py).

TPNW (XXVI-9) month by month from its opening to its entry into force and after, with one
party dropped from two pages in a row (an absence confirmed, its event retracted) and then
printed again (a return); the same bytes fetched again and a 304's cached copy (unchanged, no
row); a rejected page (quarantined); the 30 own UNTC treaties; the Cybercrime Convention
approaching its threshold (an approaching event with its forecast); the WIPO fixture pages,
accepted and rejected. Two subscriptions so each alertable event gets its deliveries.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker
from support import cybercrime, own_pages
from support.two_sources import WIPO_FIXTURES, wipo_url
from support.untc_render import Page, render

from db.models import Subscription
from tracker.alerts.policy import ALERT_KINDS
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.services.pages import IngestResult

UNTC_FIXTURES = WIPO_FIXTURES.parent / "untc"
TPNW_URL = own_pages.url_of("XXVI-9")
DROPPED = "Austria"


def _at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _stamp(day: date) -> str:
    return f"{day.day:02d}-{day.month:02d}-{day.year} 09:00:00 EST"


def _tpnw(until: date, drop: bool = False) -> bytes:
    rows = own_pages.tpnw_rows(until)
    if drop:
        rows = [r for r in rows if r.name != DROPPED]
    in_force = until >= date(2021, 1, 22)
    return render(
        Page(
            treaty_id="XXVI-9",
            title=own_pages._title("XXVI-9"),
            rows=rows,
            in_force=own_pages.TPNW_IN_FORCE if in_force else None,
            eif_text_not_in_force="(see article 15(1)).",
            status_as_at=_stamp(until),
        )
    )


def pages() -> Iterator[FetchedPage]:
    """Every page of the history, in the order it is ingested."""
    untc = "text/html; charset=utf-8"
    day = date(2018, 1, 15)
    while day <= date(2021, 6, 15):
        drop = date(2019, 3, 1) <= day < date(2019, 9, 1)
        body = _tpnw(day, drop)
        yield FetchedPage(
            "untc", TPNW_URL, body, _at(day), expected_treaty="XXVI-9", content_type=untc
        )
        if day == date(2018, 7, 15):  # the same bytes again, then a 304's copy of them
            yield FetchedPage(
                "untc", TPNW_URL, body, _at(day, 18), expected_treaty="XXVI-9", content_type=untc
            )
            yield FetchedPage(
                "untc",
                TPNW_URL,
                body,
                _at(day, 20),
                expected_treaty="XXVI-9",
                content_type=untc,
                revalidated=True,
            )
        day = (day.replace(day=1) + timedelta(days=45)).replace(day=15)
    maintenance = (UNTC_FIXTURES / "viewdetails_maintenance.html").read_bytes()
    yield FetchedPage(
        "untc",
        own_pages.url_of("XXVI-4"),
        maintenance,
        _at(date(2026, 2, 3), 8),
        expected_treaty="XXVI-4",
        content_type=untc,
    )
    when = _at(date(2026, 2, 3))
    for treaty, url, body in own_pages.status_pages():
        if treaty != "XXVI-9":
            yield FetchedPage("untc", url, body, when, expected_treaty=treaty, content_type=untc)
    cyber = own_pages.url_of("XVIII-16")
    for n in (5, 30, 36, 38):
        ratified = [cybercrime.RATIFIED[0] + timedelta(days=9 * i) for i in range(n)]
        yield FetchedPage(
            "untc",
            cyber,
            cybercrime.page(ratified=ratified),
            _at(date(2026, 11, 1) + timedelta(days=n)),
            expected_treaty="XVIII-16",
            content_type=untc,
        )
    wipo_at = _at(date(2026, 2, 3), 14)
    for treaty, name in (
        ("843", "marrakesh_few.html"),
        ("2", "paris_few.html"),
        ("29", "washington_not_in_force.html"),
        ("843", "members_disagree.html"),
        ("843", "listed_twice.html"),
    ):
        body = (WIPO_FIXTURES / name).read_bytes()
        yield FetchedPage(
            "wipo",
            wipo_url(treaty),
            body,
            wipo_at,
            expected_treaty=treaty,
            content_type="text/html; charset=utf-8",
        )


def subscribe(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        session.add(
            Subscription(
                channel="webhook",
                target="http://127.0.0.1:9/never",
                kinds=[str(k) for k in ALERT_KINDS],
                state="active",
                secret="golden-secret",
            )
        )
        session.add(
            Subscription(
                channel="email",
                target="golden@example.org",
                kinds=[],
                treaties=["XXVI-9"],
                state="active",
            )
        )


def run(session_factory: sessionmaker[Session]) -> list[IngestResult]:
    """Subscribe, then ingest the whole history; the results in order."""
    subscribe(session_factory)
    return [ingest_page(session_factory, page) for page in pages()]


__all__ = ["pages", "run"]
