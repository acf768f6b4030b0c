"""The UN Convention against Cybercrime (XVIII-16) in UNTC's markup, with its first ratifications.

72 signatures at its opening in Hanoi on 25 October 2025 (the European Union among them), and
five ratifications in 2026 plus the European Union's approval, which art. 65(1) does not count
as additional to its member States': 5 qualifying instruments of the 40 needed.
"""

from __future__ import annotations

from datetime import date

from support import own_pages
from support.untc_render import Page, Row, render

OPENED = date(2025, 10, 25)
RATIFIED = (
    date(2026, 3, 12),
    date(2026, 5, 20),
    date(2026, 7, 1),
    date(2026, 9, 15),
    date(2026, 11, 3),
)
EU_APPROVED = date(2026, 6, 2)


def rows() -> list[Row]:
    names = list(own_pages._names()[:71])
    ratified = dict(zip(names[3::10], RATIFIED, strict=False))
    found = [Row(n, OPENED, ratified.get(n)) for n in names]
    found.append(Row("European Union", OPENED, EU_APPROVED, "AA"))
    return sorted(found, key=lambda r: r.name)


def page(status_as_at: str = "01-12-2026 10:00:00 EST") -> bytes:
    return render(
        Page(
            treaty_id="XVIII-16",
            title="United Nations Convention against Cybercrime",
            rows=rows(),
            adopted="Hanoi, 25 October 2025",
            status_as_at=status_as_at,
        )
    )


def ingest_with_references(session_factory, observed=None) -> None:
    """The 30 treaties of support.own_pages (the references) and this page, ingested through
    the real parser, as the tracker would hold them."""
    from datetime import UTC, datetime

    from tracker.services.ingest import FetchedPage, ingest_page

    when = observed or datetime(2026, 12, 1, 12, tzinfo=UTC)
    pages = [(t, body) for t, _, body in own_pages.status_pages()] + [("XVIII-16", page())]
    for treaty, body in pages:
        fetched = FetchedPage(
            "untc", own_pages.url_of(treaty), body, when, when, expected_treaty=treaty
        )
        assert ingest_page(session_factory, fetched).outcome == "accepted", treaty
