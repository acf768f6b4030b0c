"""The `revocation` and `reaccession` events through ingest: a revocation needs the footnotes'
word (an absence alone stays a suspicious `action_disappeared`), and a re-accession whose cell a
confirmed absence shows was never there is retracted like a consent."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from support.climate_history import status_stamp
from support.untc_render import Page, Row, render

from db.models import Event
from tracker.alerts.model import ALERT_KINDS, EventFacts, Filters, wants
from tracker.domain.withdrawals import FOOTNOTE, Ending, Withdrawals
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


def test_consent_gone_with_the_footnotes_end_is_a_final_revocation(session_factory, monkeypatch):
    from tracker.domain import changes

    ended = Ending("RUS", "revocation", D("2023-11-02"), D("2023-11-02"), FOOTNOTE, "revoked")
    monkeypatch.setattr(changes, "read_withdrawals", lambda s: Withdrawals({"RUS": [ended]}, {}))
    ingest(session_factory, body("2018-01-15", FRANCE, RATIFIED), noon("2018-01-15"))
    ingest(session_factory, body("2026-02-03", FRANCE, SIGNED), noon("2026-02-03"))
    found = [e for e in events(session_factory) if e[2] == "Russian Federation"]
    assert [(k, s, d) for k, s, _, d, _ in found] == [("revocation", "final", D("2000-06-30"))]
    assert found[0][4]["ending"]["effective_on"] == "2023-11-02"
    facts = EventFacts("revocation", "XXVI-4", "RUS", "final")
    assert "revocation" in ALERT_KINDS and wants(Filters(), facts)
    assert wants(Filters(kinds=("reaccession", "revocation")), facts)


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
