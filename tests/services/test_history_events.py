"""The `revocation` and `reaccession` events through ingest: a revocation needs the footnotes'
word (an absence alone stays a suspicious `action_disappeared`), and a re-accession whose cell a
confirmed absence shows was never there is retracted like a consent."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update
from statuses import subscribe
from support.climate_history import status_stamp
from support.untc_render import Page, Row, render

from db.models import Delivery, Event
from tracker.alerts.policy import ALERT_KINDS, EventFacts, Filters, wants
from tracker.services.ingest import FetchedPage, ingest_page

pytestmark = pytest.mark.db

D = date.fromisoformat
URL = (
    "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-4&chapter=26&clang=_en"
)


def noon(day: str, hour: int = 12) -> datetime:
    return datetime.combine(D(day), datetime.min.time(), UTC).replace(hour=hour)


def body(printed: str, *rows: Row) -> bytes:
    page = Page("XXVI-4", "Comprehensive Nuclear-Test-Ban Treaty", list(rows))
    page.status_as_at = status_stamp(noon(printed))
    return render(page)


FRANCE = Row("France", D("1996-09-24"), D("1998-04-06"))
RATIFIED = Row("Russian Federation", D("1996-09-24"), D("2000-06-30"))
SIGNED = Row("Russian Federation", D("1996-09-24"), footnotes=("1",))


def ingest(session_factory, content: bytes, observed: datetime):
    page = FetchedPage("untc", URL, content, observed, None, "XXVI-4")
    return ingest_page(session_factory, page)


def events(session_factory):
    with session_factory() as session:
        return [
            (e.kind, e.state, e.participant_name, e.legal_date, e.details)
            for e in session.scalars(select(Event).order_by(Event.id))
        ]


REVOKED = (
    "On 2 November 2023, the Government of the Russian Federation notified the Secretary-General "
    "of the revocation of its instrument of ratification, with effect from 2 November 2023."
)


def sent(session_factory, kind: str) -> list[tuple[int, str]]:
    """(subscription, delivery state) of every delivery of events of `kind`."""
    with session_factory() as session:
        query = (
            select(Delivery.subscription_id, Delivery.state)
            .join(Event, Event.id == Delivery.event_id)
            .where(Event.kind == kind)
            .order_by(Delivery.id)
        )
        return [(s, st) for s, st in session.execute(query)]


def revoked_page(printed: str) -> bytes:
    later = Page("XXVI-4", "Comprehensive Nuclear-Test-Ban Treaty", [FRANCE, SIGNED])
    later.status_as_at = status_stamp(noon(printed))
    later.footnotes = {"1": REVOKED}
    return render(later)


def test_consent_gone_with_the_footnotes_end_is_a_revocation_once_a_second_page_confirms_it(
    session_factory,
):
    """Changed: one page's missing cell made a final revocation, alerted at once; it is now an
    absence, held (never alerted) until a second fresh page still shows the cell gone."""
    sub = subscribe(session_factory)
    ingest(session_factory, body("2018-01-15", FRANCE, RATIFIED), noon("2018-01-15"))
    ingest(session_factory, revoked_page("2026-02-03"), noon("2026-02-03"))
    found = [e for e in events(session_factory) if e[2] == "Russian Federation"]
    # Dated by the revocation's notification, not by the ratification of 2000-06-30.
    assert [(k, s, d) for k, s, _, d, _ in found] == [("revocation", "suspicious", D("2023-11-02"))]
    assert found[0][4]["ending"]["effective_on"] == "2023-11-02"
    assert found[0][4]["before"]["date"] == "2000-06-30"
    assert sent(session_factory, "revocation") == []
    assert not wants(Filters(), EventFacts("revocation", "XXVI-4", "RUS", "suspicious"))
    ingest(session_factory, revoked_page("2026-02-05"), noon("2026-02-05"))
    found = [e for e in events(session_factory) if e[2] == "Russian Federation"]
    assert [(k, s) for k, s, _, _, _ in found] == [("revocation", "confirmed")]
    assert sent(session_factory, "revocation") == [(sub, "pending")]  # alerted once confirmed
    facts = EventFacts("revocation", "XXVI-4", "RUS", "confirmed")
    assert "revocation" in ALERT_KINDS and wants(Filters(), facts)
    assert wants(Filters(kinds=("reaccession", "revocation")), facts)
    ingest(session_factory, revoked_page("2026-02-09"), noon("2026-02-09"))
    assert sent(session_factory, "revocation") == [(sub, "pending")]  # once, not per page


ALAND = Row("Aland", D("1999-01-01"), D("2000-01-01"), footnotes=("1",))
ALAND_SIGNED = Row("Aland", D("1999-01-01"), footnotes=("1",))
ALAND_OUT = (
    "On 1 March 2024, the Government of Aland notified the Secretary-General of its decision to "
    "withdraw from the Treaty. The withdrawal took effect on 1 March 2025."
)


def aland(printed: str, row: Row, *others: Row) -> bytes:
    page = Page("XXVI-4", "Comprehensive Nuclear-Test-Ban Treaty", [FRANCE, *others, row])
    page.status_as_at = status_stamp(noon(printed))
    page.footnotes = {"1": ALAND_OUT}
    return render(page)


def aland_events(session_factory):
    return [(k, s, d) for k, s, n, d, _ in events(session_factory) if n == "Aland"]


def test_a_cell_gone_before_the_withdrawal_takes_effect_is_no_revocation(session_factory):
    """The review's case: a faulty page of 2 June 2024 drops Aland's ratification; its footnote
    gives a withdrawal notified on 1 March 2024 that takes effect on 1 March 2025 only."""
    subscribe(session_factory)
    ingest(session_factory, aland("2018-01-15", ALAND), noon("2018-01-15"))
    ingest(session_factory, aland("2024-06-02", ALAND_SIGNED), noon("2024-06-02"))
    assert aland_events(session_factory) == [("action_disappeared", "suspicious", D("2000-01-01"))]
    ingest(session_factory, aland("2024-06-03", ALAND), noon("2024-06-03"))
    assert aland_events(session_factory) == [("action_disappeared", "retracted", D("2000-01-01"))]
    assert sent(session_factory, "revocation") == [] and sent(session_factory, "consent") == []


def test_a_revocation_one_page_shows_is_never_alerted_and_its_cells_return_retracts_it(
    session_factory,
):
    subscribe(session_factory)
    ingest(session_factory, aland("2018-01-15", ALAND), noon("2018-01-15"))
    ingest(session_factory, aland("2025-06-02", ALAND_SIGNED), noon("2025-06-02"))
    ((kind, state, legal), *_) = aland_events(session_factory)
    assert (kind, state, legal) == ("revocation", "suspicious", D("2024-03-01"))
    (details,) = [d for _, _, n, _, d in events(session_factory) if n == "Aland"]
    assert details["ending"]["effective_on"] == "2025-03-01"
    assert sent(session_factory, "revocation") == []
    ingest(session_factory, aland("2025-06-03", ALAND), noon("2025-06-03"))  # the cell is back
    assert aland_events(session_factory) == [("revocation", "retracted", D("2024-03-01"))]
    with session_factory() as session:
        assert session.scalars(select(Delivery)).all() == []  # nothing was ever alerted


def test_a_confirmed_revocation_retracts_nothing_and_is_retracted_if_the_cell_returns(
    session_factory,
):
    sub = subscribe(session_factory)
    ingest(session_factory, aland("2018-01-15", ALAND_SIGNED), noon("2018-01-15"))
    ingest(session_factory, aland("2018-02-15", ALAND), noon("2018-02-15"))
    assert aland_events(session_factory) == [("consent", "final", D("2000-01-01"))]
    ingest(session_factory, aland("2025-06-02", ALAND_SIGNED), noon("2025-06-02"))
    ingest(session_factory, aland("2025-06-04", ALAND_SIGNED), noon("2025-06-04"))
    # The ratification was there: its revocation, confirmed, does not retract its consent event.
    assert aland_events(session_factory) == [
        ("consent", "final", D("2000-01-01")),
        ("revocation", "confirmed", D("2024-03-01")),
    ]
    assert sent(session_factory, "revocation") == [(sub, "pending")]
    assert sent(session_factory, "retraction") == []
    with session_factory.begin() as session:  # as the dispatcher would: it was sent
        session.execute(update(Delivery).values(state="sent", attempts=1))
    # The cell comes back: the revocation told was wrong; whoever was sent it is told so.
    ingest(session_factory, aland("2025-06-10", ALAND), noon("2025-06-10"))
    found = aland_events(session_factory)
    assert ("revocation", "retracted", D("2024-03-01")) in found
    assert ("consent", "final", D("2000-01-01")) in found
    assert [k for k, _, _ in found].count("consent") == 1  # its return is no new consent
    assert sent(session_factory, "retraction") == [(sub, "pending")]


def test_a_confirmed_revocation_not_yet_sent_is_cancelled_when_the_cell_returns(session_factory):
    sub = subscribe(session_factory)
    ingest(session_factory, aland("2018-01-15", ALAND), noon("2018-01-15"))
    ingest(session_factory, aland("2025-06-02", ALAND_SIGNED), noon("2025-06-02"))
    ingest(session_factory, aland("2025-06-04", ALAND_SIGNED), noon("2025-06-04"))
    assert sent(session_factory, "revocation") == [(sub, "pending")]
    ingest(session_factory, aland("2025-06-10", ALAND), noon("2025-06-10"))
    assert aland_events(session_factory)[0] == ("revocation", "retracted", D("2024-03-01"))
    assert sent(session_factory, "revocation") == [(sub, "cancelled")]
    assert sent(session_factory, "retraction") == []  # nobody was told: nothing to take back


def test_consent_gone_without_evidence_is_confirmed_only_by_a_second_fresh_page(session_factory):
    ingest(session_factory, body("2018-01-15", FRANCE, RATIFIED), noon("2018-01-15"))
    ingest(session_factory, body("2026-02-03", FRANCE, SIGNED), noon("2026-02-03"))
    assert [(k, s) for k, s, n, _, _ in events(session_factory) if n == "Russian Federation"] == [
        ("action_disappeared", "suspicious")
    ]
    assert not wants(Filters(), EventFacts("action_disappeared", "XXVI-4", "RUS", "suspicious"))
    ingest(session_factory, body("2026-02-05", FRANCE, SIGNED), noon("2026-02-05"))
    assert [(k, s) for k, s, n, _, _ in events(session_factory) if n == "Russian Federation"] == [
        ("action_disappeared", "confirmed")
    ]


USA_2016 = Row("United States of America", D("2016-04-22"), D("2016-09-03"), letter="A")
USA_2021 = Row("United States of America", D("2016-04-22"), D("2021-01-20"), letter="A")
USA_SIGNED = Row("United States of America", D("2016-04-22"))


def test_reaccession_shown_never_there_is_retracted(session_factory):
    ingest(session_factory, body("2020-11-18", FRANCE, USA_2016), noon("2020-11-18"))
    ingest(session_factory, body("2021-01-21", FRANCE, USA_2021), noon("2021-01-21"))
    assert [k for k, _, n, _, _ in events(session_factory) if n.startswith("United")] == [
        "reaccession"
    ]
    ingest(session_factory, body("2021-01-22", FRANCE, USA_SIGNED), noon("2021-01-22"))
    ingest(
        session_factory, body("2021-01-25", FRANCE, USA_SIGNED, Row("Japan")), noon("2021-01-25")
    )
    usa = {k: s for k, s, n, _, _ in events(session_factory) if n and n.startswith("United")}
    assert usa["reaccession"] == "retracted" and usa["action_disappeared"] == "confirmed"


def test_headlines_in_plain_words():
    from tracker.alerts.messages import _headline

    usa = Event(kind="reaccession", participant_name="United States of America")
    usa.details = {"action_kind": "acceptance"}
    assert _headline(usa) == "United States of America became a party again (acceptance)"
    russia = Event(kind="revocation", participant_name="Russian Federation")
    russia.details = {"action_kind": "ratification"}
    assert _headline(russia) == "Russian Federation revoked its ratification"
