"""Ingest history: action rows, change events, suspicious disappearances and their states."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from sqlalchemy import select
from statuses import act, at, counts, events, member, open_actions, page, status

from db.models import ActionRow
from tracker.domain.models import Column, Footnote
from tracker.domain.models import Participant as P
from tracker.services.ingest import ingest_page

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]

AUT = member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08")
DZA = member("Algeria", "DZA", sig="2017-09-20")
COK = member("Cook Islands", "COK", consent="2018-09-04", letter="a")
BASE = status(AUT, DZA, COK, as_at=at("2019-01-01"))


def _kinds(session_factory) -> list[tuple[str, str | None, date | None, str]]:
    return [(e.kind, e.participant_name, e.legal_date, e.state) for e in events(session_factory)]


def test_each_change_kind_becomes_one_event(session_factory):
    ingest_page(session_factory, page(BASE, "2019-01-02"))
    changed = status(
        member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08", withdrawn=True),
        member("Algeria", "DZA", sig="2017-09-20", consent="2019-02-01"),
        member("Cook Islands", "COK", consent="2018-09-05", letter="a"),  # corrected date
        member("Brazil", "BRA", sig="2019-02-02"),
    )
    result = ingest_page(session_factory, page(changed, "2019-02-03"))
    assert (result.outcome, result.events) == ("accepted", 4)
    assert sorted(_kinds(session_factory)) == [
        ("consent", "Algeria", date(2019, 2, 1), "final"),
        ("correction", "Cook Islands", date(2018, 9, 5), "final"),
        ("signature", "Brazil", date(2019, 2, 2), "final"),
        # Bracketed with no footnote: the withdrawal's date is not known, and is not the
        # deposit's (8 May 2018).
        ("withdrawal", "Austria", None, "final"),
    ]
    withdrawal = next(e for e in events(session_factory) if e.kind == "withdrawal")
    assert withdrawal.details["ending"]["basis"] == "unknown"
    assert withdrawal.details["ending"]["effective_on"] is None
    consent = next(e for e in events(session_factory) if e.kind == "consent")
    assert consent.details["action_kind"] == "ratification"
    assert consent.observed_at == at("2019-02-03")
    assert consent.details["participant_key"] == "DZA"


@pytest.mark.parametrize(
    ("note", "notified", "effective", "basis"),
    [
        (
            (
                "On 27 June 2019, the Government of Austria deposited with the Secretary-General a "
                "notification of withdrawal. The withdrawal took effect for Austria on 27 December "
                "2019 in accordance with article 17 (2) of the Treaty."
            ),
            "2019-06-27",
            "2019-12-27",
            "footnote",
        ),
        # No effect printed: the catalogue's clause for the TPNW (art. 17(2), 12 months).
        (
            (
                "On 1 March 2019, the Government of Austria notified the Secretary-General of its "
                "denunciation of the Treaty."
            ),
            "2019-03-01",
            "2020-03-01",
            "clause",
        ),
    ],
)
def test_withdrawal_event_carries_notification_and_effect(
    session_factory, note, notified, effective, basis
):
    ingest_page(session_factory, page(BASE, "2019-01-02"))
    gone = member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08", withdrawn=True)
    changed = dataclasses.replace(
        status(dataclasses.replace(gone, footnotes=("1",)), DZA, COK),
        footnotes=(Footnote("1", note),),
    )
    ingest_page(session_factory, page(changed, "2020-04-01"))
    (event,) = [e for e in events(session_factory) if e.kind == "withdrawal"]
    assert event.legal_date == date.fromisoformat(notified)
    ending = event.details["ending"]
    assert (ending["notified_on"], ending["effective_on"], ending["basis"]) == (
        notified,
        effective,
        basis,
    )
    assert event.details["before"]["date"] == "2018-05-08"  # the deposit, kept as evidence


def test_provisional_application_event(session_factory):

    ingest_page(session_factory, page(status(DZA), "2019-01-02"))
    applied = P(
        "Algeria", "DZA", actions=(*DZA.actions, act(Column.PROVISIONAL, "2019-01-10", "n"))
    )
    ingest_page(session_factory, page(status(applied), "2019-01-12"))
    assert _kinds(session_factory) == [
        ("provisional_application", "Algeria", date(2019, 1, 10), "final")
    ]


def test_disappearance_is_suspicious_then_confirmed_by_a_second_observation(session_factory):
    ingest_page(session_factory, page(BASE, "2019-01-02"))
    without = status(AUT, DZA)
    assert ingest_page(session_factory, page(without, "2019-01-03")).events == 1
    assert _kinds(session_factory) == [
        ("participant_disappeared", "Cook Islands", date(2018, 9, 4), "suspicious")
    ]
    before = counts(session_factory)
    # the same bytes a day later are a copy, not a second observation
    assert ingest_page(session_factory, page(without, "2019-01-04")).outcome == "unchanged"
    assert counts(session_factory) == before
    (event,) = events(session_factory)
    assert event.state == "suspicious"
    # a fresh printing of the same content, 24 h or more after the disappearance, confirms it
    fresh = status(AUT, DZA, as_at=at("2019-01-04", 13))
    assert ingest_page(session_factory, page(fresh, "2019-01-04", "2019-01-04")).outcome == (
        "unchanged"
    )
    assert counts(session_factory) == before
    (event,) = events(session_factory)
    assert event.state == "confirmed"
    assert event.details["confirmed_at"] == at("2019-01-04").isoformat()


def test_a_changed_page_still_without_the_participant_confirms_too(session_factory):
    ingest_page(session_factory, page(BASE, "2019-01-02"))
    ingest_page(session_factory, page(status(AUT, DZA), "2019-01-03"))
    ingest_page(
        session_factory,
        page(status(AUT, DZA, member("Chile", "CHL", sig="2019-01-04")), "2019-01-05"),
    )
    assert [(e.kind, e.state) for e in events(session_factory)] == [
        ("participant_disappeared", "confirmed"),
        ("signature", "final"),
    ]


def test_reappearance_retracts_the_suspicion_without_new_events(session_factory):
    ingest_page(session_factory, page(BASE, "2019-01-02"))
    first_seen = {a.printed_name: a.first_observed_at for a in open_actions(session_factory)}
    ingest_page(session_factory, page(status(AUT, DZA), "2019-01-03"))
    result = ingest_page(session_factory, page(BASE, "2019-01-04"))
    assert (result.outcome, result.events) == ("accepted", 0)
    assert _kinds(session_factory) == [
        ("participant_disappeared", "Cook Islands", date(2018, 9, 4), "retracted")
    ]
    cook = [a for a in open_actions(session_factory) if a.printed_name == "Cook Islands"]
    assert [a.first_observed_at for a in cook] == [first_seen["Cook Islands"]] == [at("2019-01-02")]


def test_reappearance_with_a_new_action_reports_only_that_action(session_factory):
    ingest_page(session_factory, page(BASE, "2019-01-02"))
    ingest_page(session_factory, page(status(AUT, COK), "2019-01-03"))
    back = member("Algeria", "DZA", sig="2017-09-20", consent="2019-01-03")
    ingest_page(session_factory, page(status(AUT, COK, back), "2019-01-04"))
    assert _kinds(session_factory) == [
        ("participant_disappeared", "Algeria", date(2017, 9, 20), "retracted"),
        ("consent", "Algeria", date(2019, 1, 3), "final"),
    ]


def test_action_rows_live_until_a_change_and_keep_their_first_observation(session_factory):
    ingest_page(session_factory, page(BASE, "2019-01-02"))
    first_ids = {a.id for a in open_actions(session_factory)}
    ingest_page(
        session_factory,
        page(status(AUT, DZA, COK, member("Chile", "CHL", sig="2019-01-04")), "2019-01-05"),
    )
    rows = open_actions(session_factory)
    assert first_ids < {a.id for a in rows}  # unchanged actions were not re-inserted
    assert {a.printed_name: a.first_observed_at for a in rows}["Chile"] == at("2019-01-05")
    withdrawn = member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08", withdrawn=True)
    ingest_page(session_factory, page(status(withdrawn, DZA, COK), "2019-02-01"))
    with session_factory() as session:
        austria = session.scalars(
            select(ActionRow)
            .where(ActionRow.printed_name == "Austria", ActionRow.column == "consent")
            .order_by(ActionRow.id)
        ).all()
    assert [(a.withdrawn, a.ended_snapshot_id is None) for a in austria] == [
        (False, False),
        (True, True),
    ]
    assert austria[1].first_observed_at == at("2019-01-02")  # carried from the unbracketed row
    assert {a.printed_name for a in open_actions(session_factory)} == {
        "Austria",
        "Algeria",
        "Cook Islands",
    }
