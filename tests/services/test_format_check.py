"""One history per treaty, in one format at a time; a page of another is a cross-check.

Real UNTC parsing on the project's own pages: `render` (ViewDetails HTML) and `render_xml`
(its MTDSG XML twin) of one `Page`."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from statuses import counts
from support.untc_render import Page, Row, render, render_xml

from db.models import Event, FormatAgreement, Quarantine, RawPage, Snapshot, Source, Treaty
from tracker.services.crawl_records import record_crawl
from tracker.services.format_check import HANDOVER_AFTER, history_format
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.sources.untc.urls import status_page_url, xml_url

pytestmark = pytest.mark.db

TREATY = "XXVI-9"
BASE = "https://treaties.un.org"
T0 = datetime(2026, 2, 3, 15, 0, tzinfo=UTC)
H = timedelta(hours=1)


def tpnw(*rows: Row) -> Page:
    return Page(
        TREATY,
        "Treaty on the Prohibition of Nuclear Weapons",
        list(rows)
        or [
            Row("Algeria", signature=date(2017, 9, 20)),
            Row("Austria", signature=date(2017, 9, 20), consent=date(2018, 5, 8)),
            Row("Cook Islands", consent=date(2018, 9, 4), letter="a"),
        ],
        in_force="22 January 2021, in accordance with article 15.",
    )


def html(p: Page, when: datetime) -> FetchedPage:
    url = status_page_url(BASE, p.treaty_id)
    return FetchedPage("untc", url, render(p), when, expected_treaty=p.treaty_id)


def xml(p: Page, when: datetime) -> FetchedPage:
    url = xml_url(BASE, p.treaty_id)
    return FetchedPage("untc", url, render_xml(p), when, expected_treaty=p.treaty_id)


def source_row(session_factory) -> Source:
    with session_factory() as session:
        return session.scalars(select(Source)).one()


def quarantined(session_factory) -> list[Quarantine]:
    with session_factory() as session:
        return list(session.scalars(select(Quarantine).order_by(Quarantine.id)))


def treaty_events(session_factory) -> list[tuple[str, str | None]]:
    with session_factory() as session:
        rows = session.scalars(select(Event).where(Event.treaty_id.is_not(None)).order_by(Event.id))
        return [(e.kind, e.participant_name) for e in rows]


def good_crawl(session_factory, at: datetime) -> None:
    record_crawl(session_factory, "untc", {"pages": 1}, True, None, at)


def test_an_agreeing_xml_page_is_unchanged_and_its_agreement_recorded(session_factory):
    first = ingest_page(session_factory, html(tpnw(), T0))
    assert first.outcome == "accepted"
    before = counts(session_factory)
    result = ingest_page(session_factory, xml(tpnw(), T0 + H))
    assert (result.outcome, result.snapshot_id, result.events) == (
        "unchanged",
        first.snapshot_id,
        0,
    )
    assert "agrees with the html history" in (result.reason or "")
    after = counts(session_factory)
    # One raw page (the XML, kept as evidence) and one agreement; no snapshot, action or event.
    assert after == {**before, "raw_pages": 2, "format_agreements": 1}
    with session_factory() as session:
        agreement = session.scalars(select(FormatAgreement)).one()
        raw = session.get_one(RawPage, agreement.raw_page_id)
        assert (agreement.format, agreement.primary_format) == ("xml", "html")
        assert agreement.snapshot_id == first.snapshot_id
        assert agreement.first_checked_at == agreement.last_checked_at == T0 + H
        assert agreement.checks == 1 and raw.size == len(render_xml(tpnw()))
        assert session.scalars(select(Treaty.last_checked_at)).one() == T0 + H
    # The same XML again: the one agreement row moves, nothing else grows.
    again = ingest_page(session_factory, xml(tpnw(), T0 + 2 * H))
    assert again.outcome == "unchanged"
    assert counts(session_factory) == after
    with session_factory() as session:
        agreement = session.scalars(select(FormatAgreement)).one()
        assert (agreement.checks, agreement.last_checked_at) == (2, T0 + 2 * H)
        assert agreement.first_checked_at == T0 + H


def disagreeing_pages() -> list[tuple[str, Page, list[str]]]:
    base = tpnw()
    late = dataclasses.replace(base, rows=list(base.rows))
    late.rows[1] = Row("Austria", signature=date(2017, 9, 20), consent=date(2018, 5, 9))
    missing = dataclasses.replace(base, rows=[base.rows[0], base.rows[2]])
    letter = dataclasses.replace(base, rows=list(base.rows))
    letter.rows[2] = Row("Cook Islands", consent=date(2018, 9, 4), letter="d")
    return [
        (
            "a date differs",
            late,
            ["Austria (AUT), consent: dated 8 May 2018 in the html, 9 May 2018 in the xml"],
        ),
        (
            "a participant missing",
            missing,
            [
                "Austria (AUT) is listed in the html but not in the xml",
                "printed count of signatories: 2 in the html, 1 in the xml",
                "printed count of parties: 2 in the html, 1 in the xml",
            ],
        ),
        (
            "a letter differs",
            letter,
            ["Cook Islands (COK), consent: accession (a) in the html, succession (d) in the xml"],
        ),
    ]


@pytest.mark.parametrize(
    ("case", "other", "differences"),
    disagreeing_pages(),
    ids=[c for c, _, _ in disagreeing_pages()],
)
def test_a_disagreeing_xml_page_is_quarantined_with_its_differences(
    session_factory, case, other, differences
):
    first = ingest_page(session_factory, html(tpnw(), T0))
    good_crawl(session_factory, T0)
    assert source_row(session_factory).healthy
    before = counts(session_factory)
    result = ingest_page(session_factory, xml(other, T0 + H))
    assert result.outcome == "quarantined" and result.snapshot_id is None and result.events == 0
    n = len(differences)
    assert result.reason == (
        "format disagreement: the xml page says otherwise than the treaty's html history "
        f"(snapshot {first.snapshot_id}, observed {T0.isoformat()}): "
        f"{n} difference{'' if n == 1 else 's'}: "
        + "; ".join(differences)
        + f"; the html was last observed {T0.isoformat()}: a change since then enters the "
        "history from the next html page, never from the xml"
    )
    # No snapshot, no action, no event (so no alert): only the quarantined page and its body.
    assert counts(session_factory) == {**before, "quarantine": 1, "raw_pages": 2}
    (row,) = quarantined(session_factory)
    assert (row.kind, row.reason, row.expected_treaty) == (
        "format_disagreement",
        result.reason,
        TREATY,
    )
    with session_factory() as session:
        assert session.scalars(select(Event)).all() == []
        assert session.get_one(RawPage, row.raw_page_id).size == len(render_xml(other))
    # The source is unhealthy at once, as for a page that failed validation.
    source = source_row(session_factory)
    assert (source.healthy, source.last_error) == (False, result.reason)
    verdict = record_crawl(
        session_factory, "untc", {"pages": 1, "quarantined": 1}, False, "1 quarantined", T0 + 2 * H
    )
    assert not verdict.healthy and "failed validation" in verdict.reasons[0]
    with session_factory() as session:
        assert session.scalars(select(Event)).all() == []  # held: no source_unhealthy alert yet
    # The history is untouched: the next HTML page, the same as before, is unchanged.
    assert ingest_page(session_factory, html(tpnw(), T0 + 3 * H)).outcome == "unchanged"


def test_a_treaty_only_ever_crawled_as_xml_has_its_history_from_xml(session_factory):
    first = ingest_page(session_factory, xml(tpnw(), T0))
    assert (first.outcome, first.events) == ("accepted", 0)
    ratified = tpnw()
    ratified.rows[0] = Row("Algeria", signature=date(2017, 9, 20), consent=date(2026, 3, 2))
    second = ingest_page(session_factory, xml(ratified, T0 + 24 * H))
    assert (second.outcome, second.events) == ("accepted", 1)
    with session_factory() as session:
        assert history_format(session, "untc", session.scalars(select(Treaty.id)).one()) == "xml"
        snapshots = session.scalars(select(Snapshot.url).order_by(Snapshot.id)).all()
        assert all(url.endswith(".en.xml") for url in snapshots) and len(snapshots) == 2
        (event,) = session.scalars(select(Event)).all()
        assert (event.kind, event.participant_name, event.legal_date) == (
            "consent",
            "Algeria",
            date(2026, 3, 2),
        )
    # Its HTML twin is now the cross-check: agreeing, it adds nothing to that history.
    checked = ingest_page(session_factory, html(ratified, T0 + 25 * H))
    assert (checked.outcome, checked.snapshot_id) == ("unchanged", second.snapshot_id)
    assert "the html page agrees with the xml history" in (checked.reason or "")
    # Disagreeing, it is quarantined, named the other way round.
    wrong = ingest_page(session_factory, html(tpnw(), T0 + 26 * H))
    assert wrong.outcome == "quarantined"
    assert (
        "Algeria (DZA), consent: the xml has ratification of 2 Mar 2026, the html has no such cell"
        in (wrong.reason or "")
    )
    with session_factory() as session:
        assert len(session.scalars(select(Snapshot)).all()) == 2
        assert len(session.scalars(select(Event)).all()) == 1


def test_an_older_xml_page_is_compared_with_the_snapshot_of_its_time(session_factory):
    """Printed on different days: an XML page observed between two HTML snapshots may show
    either side of the change between them (it happened in between); only a page that matches
    neither disagrees. One older than the whole history is out of order."""
    before_change = tpnw()
    after_change = tpnw()
    after_change.rows[0] = Row("Algeria", signature=date(2017, 9, 20), consent=date(2026, 3, 2))
    v1 = ingest_page(session_factory, html(before_change, T0))
    v2 = ingest_page(session_factory, html(after_change, T0 + 48 * H))
    assert (v1.outcome, v2.outcome, v2.events) == ("accepted", "accepted", 1)
    events = treaty_events(session_factory)
    between = T0 + 24 * H

    old = ingest_page(session_factory, xml(before_change, between))
    assert (old.outcome, old.snapshot_id) == ("unchanged", v1.snapshot_id)
    new = ingest_page(session_factory, xml(after_change, between))
    assert (new.outcome, new.snapshot_id) == ("unchanged", v2.snapshot_id)

    neither = tpnw()
    neither.rows[1] = Row("Austria", signature=date(2017, 9, 21), consent=date(2018, 5, 8))
    wrong = ingest_page(session_factory, xml(neither, between))
    assert wrong.outcome == "quarantined"
    assert f"(snapshot {v1.snapshot_id}, observed {T0.isoformat()})" in (wrong.reason or "")
    assert "Austria (AUT), signature: dated 20 Sep 2017 in the html, 21 Sep 2017 in the xml" in (
        wrong.reason or ""
    )
    assert "does not agree with the next html snapshot either" in (wrong.reason or "")

    # A newer XML page that shows the state before the change: a disagreement (the history
    # already holds the change).
    stale = ingest_page(session_factory, xml(before_change, T0 + 49 * H))
    assert stale.outcome == "quarantined"
    assert "Algeria (DZA), consent: the html has ratification of 2 Mar 2026" in (stale.reason or "")

    ancient = ingest_page(session_factory, xml(before_change, T0 - 24 * H))
    assert ancient.outcome == "rejected"
    assert "before the treaty's first html snapshot" in (ancient.reason or "")
    kinds = [q.kind for q in quarantined(session_factory)]
    assert kinds == ["format_disagreement", "format_disagreement", "out_of_order"]
    # No cross-check wrote a treaty event. (The source's own `source_unhealthy` may come, once
    # its unhealthy state has held the hold's 13 hours: the operators' alert, as for any
    # quarantined page.)
    assert treaty_events(session_factory) == events
    assert counts(session_factory)["snapshots"] == 2
    with session_factory() as session:
        agreements = session.scalars(select(FormatAgreement.snapshot_id)).all()
        assert sorted(agreements) == sorted([v1.snapshot_id, v2.snapshot_id])


def test_the_history_format_stays_live_while_it_is_observed(session_factory):
    """Unchanged pages of the history's format keep it live: long after its snapshot, a page
    of the other format is still a cross-check, not a handover."""
    ingest_page(session_factory, html(tpnw(), T0))
    polled = T0 + 2 * HANDOVER_AFTER
    assert ingest_page(session_factory, html(tpnw(), polled)).outcome == "unchanged"
    with session_factory() as session:
        assert session.scalars(select(Treaty.history_observed_at)).one() == polled
    changed = tpnw()
    changed.rows[0] = Row("Algeria", signature=date(2017, 9, 20), consent=date(2026, 3, 2))
    late = ingest_page(session_factory, xml(changed, polled + H))
    assert late.outcome == "quarantined"
    assert f"the html was last observed {polled.isoformat()}" in (late.reason or "")
    assert treaty_events(session_factory) == []


def test_a_page_long_after_the_history_format_went_silent_hands_the_history_over(
    session_factory,
):
    """A backfill across formats: the 2018 MTDSG XML archive, then the 2026 page. The history
    passes to HTML (what changed in between are events), and the XML is then the cross-check."""
    old = tpnw()
    old.rows[1] = Row("Austria", signature=date(2017, 9, 20))
    first = ingest_page(session_factory, xml(old, T0 - 8 * 365 * 24 * H))
    assert first.outcome == "accepted"
    handed = ingest_page(session_factory, html(tpnw(), T0))
    assert (handed.outcome, handed.events) == ("accepted", 1)
    assert (handed.reason or "").startswith(
        "the history passes from xml to html: its xml pages were last observed 2018-"
    )
    assert treaty_events(session_factory) == [("consent", "Austria")]
    with session_factory() as session:
        assert history_format(session, "untc", session.scalars(select(Treaty.id)).one()) == "html"
    # Now the XML is the cross-check: the old XML again, a day later, disagrees; the current
    # one agrees.
    stale = ingest_page(session_factory, xml(old, T0 + 24 * H))
    assert stale.outcome == "quarantined"
    assert "the xml page says otherwise than the treaty's html history" in (stale.reason or "")
    assert ingest_page(session_factory, xml(tpnw(), T0 + 25 * H)).outcome == "unchanged"
    assert treaty_events(session_factory) == [("consent", "Austria")]
