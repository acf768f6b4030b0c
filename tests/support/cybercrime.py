"""The UN Convention against Cybercrime (XVIII-16) in UNTC's markup, with its first ratifications.

72 signatures at its opening in Hanoi on 25 October 2025 (the European Union among them), and
five ratifications in 2026 plus the European Union's approval, which art. 65(1) does not count
as additional to its member States': 5 qualifying instruments of the 40 needed.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def rows(ratified: Sequence[date] = RATIFIED) -> list[Row]:
    """72 signatories; the `ratified` dates go to the States in a fixed order (at most 71)."""
    names = list(own_pages._names()[:71])  # the same State names as the other own pages
    order = names[3::10] + [n for n in names if n not in names[3::10]]
    by_name = dict(zip(order, ratified, strict=False))
    found = [Row(n, OPENED, by_name.get(n)) for n in names]
    found.append(Row("European Union", OPENED, EU_APPROVED, "AA"))
    return sorted(found, key=lambda r: r.name)


def page(
    status_as_at: str = "01-12-2026 10:00:00 EST", ratified: Sequence[date] = RATIFIED
) -> bytes:
    return render(
        Page(
            treaty_id="XVIII-16",
            title="United Nations Convention against Cybercrime",
            rows=rows(ratified),
            adopted="Hanoi, 25 October 2025",
            status_as_at=status_as_at,
        )
    )


def ingest_with_references(session_factory, observed=None, body=None) -> None:
    """The 30 treaties of support.own_pages (the references) and this page (or `body`),
    ingested through the real parser, as the tracker would hold them."""
    from datetime import UTC, datetime

    from tracker.services.ingest import FetchedPage, ingest_page

    when = observed or datetime(2026, 12, 1, 12, tzinfo=UTC)
    pages = [(t, b) for t, _, b in own_pages.status_pages()] + [("XVIII-16", body or page())]
    for treaty, one in pages:
        fetched = FetchedPage(
            "untc", own_pages.url_of(treaty), one, when, when, expected_treaty=treaty
        )
        assert ingest_page(session_factory, fetched).outcome == "accepted", treaty
