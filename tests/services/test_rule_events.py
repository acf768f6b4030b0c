"""Rule events: approaching, threshold_crossed, entered_into_force — each once per treaty, from
accepted snapshots only, with legal date and observation time; the daily evaluation fires on the day.

The treaty is XXVI-9 (TPNW: 50 instruments, 90 days), with statuses built in code.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from statuses import at, events, member, page, status

from db.models import Event, Treaty
from tracker.services.ingest import ingest_page
from tracker.services.read.status import treaty_status
from tracker.services.rule_events import evaluate_all
from tracker.services.rules_service import BadCondition, confirm_condition, evaluate_now

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]

START = date(2020, 1, 6)


def parties(n: int, *, first: int = 0, day: str | None = None, start: date = START) -> list:
    """n parties with consecutive deposit days from `start` (or all on `day`)."""
    return [
        member(
            f"State {i:03d}",
            f"Q{i // 26 % 26:c}{i % 26:c}".translate(_LETTERS),
            consent=day or (start + timedelta(days=i)).isoformat(),
        )
        for i in range(first, first + n)
    ]


_LETTERS = {i: chr(ord("A") + i) for i in range(26)}


def rule_events(session_factory) -> list[Event]:
    return [e for e in events(session_factory) if e.once_key]


def kinds(session_factory) -> list[str]:
    return [e.kind for e in rule_events(session_factory)]


def test_a_treaty_long_in_force_at_first_sight_gets_baseline_events(session_factory):
    ingest_page(session_factory, page(status(*parties(50), eif_date="2020-05-24"), "2026-02-03"))
    crossed, in_force = rule_events(session_factory)
    assert (crossed.kind, crossed.legal_date) == ("threshold_crossed", date(2020, 2, 24))
    assert (in_force.kind, in_force.legal_date) == ("entered_into_force", date(2020, 5, 24))
    assert crossed.details["baseline"] is True and in_force.details["baseline"] is True
    assert crossed.observed_at == at("2026-02-03")
    assert crossed.details["entry_into_force"] == {
        "computed": "2020-05-24",
        "published": "2020-05-24",
        "agrees": True,
        "earliest": None,
    }
    assert crossed.participant_name == "State 049"
    assert crossed.participant_id is not None  # linked, so the API can show its ISO code


def test_crossing_while_watched_approaching_then_crossed_then_in_force_on_the_day(session_factory):
    ingest_page(session_factory, page(status(*parties(44)), "2020-03-01"))
    assert kinds(session_factory) == []  # 6 remaining: not yet approaching (K = 5)
    ingest_page(session_factory, page(status(*parties(46)), "2020-03-02"))
    (approaching,) = rule_events(session_factory)
    assert (approaching.kind, approaching.details["remaining"]) == ("approaching", 4)
    assert approaching.details["baseline"] is False
    ingest_page(session_factory, page(status(*parties(48)), "2020-03-03"))
    assert kinds(session_factory) == ["approaching"]  # once, not again at 2 remaining
    ingest_page(session_factory, page(status(*parties(50)), "2020-03-04"))
    assert kinds(session_factory) == ["approaching", "threshold_crossed"]
    crossed = rule_events(session_factory)[-1]
    assert crossed.legal_date == date(2020, 2, 24)  # the 50th deposit
    assert crossed.observed_at == at("2020-03-04")
    assert crossed.details["lag_days"] == 9 and crossed.details["baseline"] is False
    assert crossed.details["entry_into_force"]["computed"] == "2020-05-24"

    with session_factory.begin() as session:  # the day before: nothing
        assert evaluate_all(session, now=datetime(2020, 5, 23, 23, 59, tzinfo=UTC))[0].created == []
    with session_factory.begin() as session:  # on the day
        assert evaluate_all(session, now=datetime(2020, 5, 24, 0, 0, 30, tzinfo=UTC))[
            0
        ].created == ["entered_into_force"]
    with session_factory.begin() as session:  # and never again
        assert evaluate_all(session, now=datetime(2020, 6, 1, tzinfo=UTC))[0].created == []
    assert kinds(session_factory) == ["approaching", "threshold_crossed", "entered_into_force"]
    assert rule_events(session_factory)[-1].legal_date == date(2020, 5, 24)


def test_same_day_deposits_cross_together_as_a_set(session_factory):
    ingest_page(session_factory, page(status(*parties(40)), "2020-03-01"))
    joined = parties(12, first=40, day="2020-04-01")
    ingest_page(session_factory, page(status(*parties(40), *joined), "2020-04-02"))
    (crossed,) = [e for e in rule_events(session_factory) if e.kind == "threshold_crossed"]
    assert crossed.legal_date == date(2020, 4, 1)
    assert crossed.participant_name is None  # several: see deciding_deposits
    deciding = [d["participant"] for d in crossed.details["deciding_deposits"]]
    assert deciding == [f"State {i:03d}" for i in range(40, 52)]


def test_a_threshold_found_late_keeps_its_legal_date_and_observation_time(session_factory):
    ingest_page(session_factory, page(status(*parties(30)), "2020-01-20"))
    ingest_page(session_factory, page(status(*parties(50)), "2020-06-30"))  # met 2020-02-24
    (crossed,) = [e for e in rule_events(session_factory) if e.kind == "threshold_crossed"]
    assert (crossed.legal_date, crossed.observed_at) == (date(2020, 2, 24), at("2020-06-30"))
    assert crossed.details["lag_days"] == 127
    # Entry into force (2020-05-24) is already past when seen: recorded at the same time.
    in_force = rule_events(session_factory)[-1]
    assert (in_force.kind, in_force.legal_date, in_force.observed_at) == (
        "entered_into_force",
        date(2020, 5, 24),
        at("2020-06-30"),
    )


def test_re_ingesting_and_re_evaluating_adds_no_rule_event(session_factory):
    ingest_page(session_factory, page(status(*parties(46)), "2020-03-02"))
    ingest_page(session_factory, page(status(*parties(50)), "2020-03-04"))
    before = [(e.id, e.kind) for e in rule_events(session_factory)]
    assert (
        ingest_page(session_factory, page(status(*parties(50)), "2020-03-05")).outcome
        == "unchanged"
    )
    for _ in range(3):
        with session_factory.begin() as session:
            evaluate_all(session, now=datetime(2020, 3, 6, tzinfo=UTC))
    assert [(e.id, e.kind) for e in rule_events(session_factory)] == before


def test_the_database_refuses_a_second_rule_event_of_a_kind(session_factory):
    ingest_page(session_factory, page(status(*parties(50)), "2020-03-04"))
    with pytest.raises(IntegrityError), session_factory.begin() as session:
        first = session.scalars(select(Event).where(Event.once_key == "threshold_crossed")).one()
        session.add(
            Event(
                treaty_id=first.treaty_id,
                kind="threshold_crossed",
                observed_at=first.observed_at,
                details={},
                state="final",
                once_key="threshold_crossed",
            )
        )


def test_a_quarantined_page_never_makes_a_rule_event(session_factory):
    ingest_page(session_factory, page(status(*parties(49)), "2020-03-01"))
    assert (
        ingest_page(session_factory, page(b"REJECT: maintenance page", "2020-03-02")).outcome
        == "quarantined"
    )
    assert kinds(session_factory) == ["approaching"]


def test_k_for_approaching_is_configurable(session_factory):
    ingest_page(session_factory, page(status(*parties(46)), "2020-03-02"), approaching=2)
    assert kinds(session_factory) == []
    ingest_page(session_factory, page(status(*parties(48)), "2020-03-03"), approaching=2)
    assert kinds(session_factory) == ["approaching"]


def test_status_as_of_a_date_gives_the_rule_fields_then(session_factory):
    ingest_page(session_factory, page(status(*parties(52), eif_date="2020-05-24"), "2026-02-03"))
    with session_factory() as session:
        now = treaty_status(session, "XXVI-9")
        before = treaty_status(session, "XXVI-9", as_of=date(2020, 2, 20), today=date(2026, 2, 3))
    assert (now["qualifying_instruments"], now["remaining"], now["threshold_met_on"]) == (
        52,
        0,
        "2020-02-24",
    )
    assert now["rule"]["origin"] == "catalogue" and now["rule"]["threshold"] == 50
    assert now["entry_into_force"]["agrees"] is True
    assert [d["participant"] for d in now["deciding_deposits"]] == ["State 049"]
    in_force = {p["name"]: p["in_force_from"] for p in now["participants"]}
    assert in_force["State 000"] == "2020-05-24"
    assert in_force["State 051"] == "2020-05-26"  # deposited 2020-02-26, 90 days later
    assert (before["qualifying_instruments"], before["remaining"], before["threshold_met_on"]) == (
        46,
        4,
        None,
    )
    assert before["entry_into_force"] == {
        "computed": None,
        "published": None,
        "agrees": None,
        "earliest": "2020-05-20",
    }
    assert {p["in_force_from"] for p in before["participants"]} == {None}


# ---- outside-data conditions (Paris Agreement, XXVII-7-d: 55 Parties and 55 % of emissions) ----

PARIS = "XXVII-7-d"


def _paris(session_factory, n: int = 60) -> None:
    value = status(*parties(n, start=date(2016, 4, 22)), treaty=PARIS, title="Paris Agreement")
    ingest_page(session_factory, page(value, "2016-10-01", url="https://treaties.example/paris"))


def test_a_condition_awaits_confirmation_then_the_operator_confirms_it(session_factory):
    _paris(session_factory)
    with session_factory() as session:
        waiting = treaty_status(session, PARIS)
    assert waiting["remaining"] == 0 and waiting["threshold_met_on"] is None
    assert waiting["conditions"][0]["state"] == "awaiting confirmation"
    assert kinds(session_factory) == []
    with session_factory.begin() as session:
        done = confirm_condition(
            session,
            PARIS,
            "emissions_55",
            date(2016, 10, 5),
            note="UNFCCC table",
            now=datetime(2016, 10, 6, tzinfo=UTC),
        )
    assert done["events"] == ["threshold_crossed"]
    (crossed,) = rule_events(session_factory)
    assert crossed.legal_date == date(2016, 10, 5)
    assert crossed.details["entry_into_force"]["computed"] == "2016-11-04"
    assert crossed.observed_at == datetime(2016, 10, 6, tzinfo=UTC)
    with session_factory() as session:
        confirmed = treaty_status(session, PARIS)
    assert confirmed["conditions"][0] == {
        "key": "emissions_55",
        "description": confirmed["conditions"][0]["description"],
        "state": "confirmed",
        "met_on": "2016-10-05",
    }


@pytest.mark.parametrize(
    ("treaty", "key", "met_on", "message"),
    [
        (
            PARIS,
            "tonnage",
            date(2016, 10, 5),
            "has no condition 'tonnage' (its conditions: emissions_55)",
        ),
        (PARIS, "emissions_55", date(2016, 10, 7), "cannot be confirmed as met in the future"),
        ("XXVI-9", "emissions_55", date(2016, 10, 5), "(its conditions: none)"),
    ],
)
def test_a_bad_confirmation_is_refused_and_changes_nothing(
    session_factory, treaty, key, met_on, message
):
    _paris(session_factory)
    ingest_page(session_factory, page(status(*parties(3)), "2016-10-01"))
    with (
        pytest.raises(BadCondition, match=message.replace("(", r"\(").replace(")", r"\)")),
        session_factory.begin() as session,
    ):
        confirm_condition(
            session, treaty, key, met_on, note=None, now=datetime(2016, 10, 6, tzinfo=UTC)
        )
    assert kinds(session_factory) == []


def test_evaluate_now_lists_pending_entry_into_force_for_the_scheduler(session_factory):
    ingest_page(session_factory, page(status(*parties(50)), "2020-03-04"))
    with session_factory.begin() as session:
        done = evaluate_now(session, now=datetime(2020, 3, 5, tzinfo=UTC))
        treaty = session.scalars(select(Treaty)).one()
    assert done["pending_entry_into_force"] == {treaty.external_id: "2020-05-24"}
    assert done["events"] == [] and done["with_rule"] == 1


def test_what_we_knew_before_the_operator_confirmed_is_awaiting_confirmation(session_factory):
    """--known-at before the confirmation was made answers as the tracker did then."""
    _paris(session_factory)
    with session_factory.begin() as session:
        confirm_condition(
            session, PARIS, "emissions_55", date(2016, 10, 5), note=None,
            now=datetime(2016, 10, 6, tzinfo=UTC),
        )  # fmt: skip
    made = datetime(2016, 10, 6, tzinfo=UTC)  # recorded as confirmed_at
    with session_factory() as session:
        then = treaty_status(session, PARIS, known_at=made - timedelta(hours=1))
        now = treaty_status(session, PARIS, known_at=made + timedelta(hours=1))
    assert then["conditions"][0]["state"] == "awaiting confirmation"
    assert then["threshold_met_on"] is None
    assert now["conditions"][0]["state"] == "confirmed"
    assert now["threshold_met_on"] == "2016-10-05"
