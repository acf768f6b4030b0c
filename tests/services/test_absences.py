"""Plausible wrong pages must not alert: absences are confirmed only by a second, fresh
observation a day later; a confirmed absence that returns is a (quiet) reappearance; events a
wrong page caused are retracted, and whoever was sent them is told.

The treaty is XXVI-9 (TPNW: 50 instruments, entry into force 90 days later), statuses in code.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from statuses import at, body_of, events, member, open_actions, page, status, subscribe

from db.models import Delivery, Event
from spiders.items import PageItem
from tracker.alerts.channels import Message, Recipient
from tracker.alerts.dispatch import dispatch_due
from tracker.cli import main
from tracker.domain.models import TreatyStatus
from tracker.services.ingest import FetchedPage, ingest_page

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]

START = date(2020, 1, 6)
_LETTERS = {i: chr(ord("A") + i) for i in range(26)}


def parties(n: int, *, first: int = 0, start: date = START) -> list:
    return [
        member(
            f"State {i:03d}",
            f"Q{i // 26 % 26:c}{i % 26:c}".translate(_LETTERS),
            consent=(start + timedelta(days=i)).isoformat(),
        )
        for i in range(first, first + n)
    ]


AUT = member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08")
DZA = member("Algeria", "DZA", sig="2017-09-20")
COK = member("Cook Islands", "COK", consent="2018-09-04", letter="a")
BASE = status(AUT, DZA, COK)
WITHOUT = status(AUT, DZA)


def fresh(value: TreatyStatus, day: str, hour: int = 12, **kw) -> FetchedPage:
    """A fresh printing of `value` fetched on `day` at `hour`: its own stamp, so its own bytes."""
    printed = replace(value, status_as_at=at(day, hour))
    return replace(page(printed, day, **kw), fetched_at=at(day, hour))


def by_kind(session_factory, kind: str) -> list[Event]:
    return [e for e in events(session_factory) if e.kind == kind]


def gone(session_factory) -> Event:
    (event,) = by_kind(session_factory, "participant_disappeared")
    return event


class Inbox:
    def __init__(self) -> None:
        self.sent: list[tuple[Recipient, Message]] = []

    def send(self, recipient: Recipient, message: Message) -> None:
        self.sent.append((recipient, message))


def dispatch(session_factory, inbox: Inbox, when: datetime) -> int:
    return dispatch_due(session_factory, {"webhook": inbox}, now=lambda: when).sent


def deliveries(session_factory) -> list[Delivery]:
    with session_factory() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


# --- 1. confirmation needs a second, fresh observation a day later -----------------------------


def test_a_304_copy_a_day_later_confirms_nothing(session_factory):
    ingest_page(session_factory, page(BASE, "2019-01-02"))
    ingest_page(session_factory, fresh(WITHOUT, "2019-01-03"))
    later = fresh(WITHOUT, "2019-01-05", revalidated=True)
    assert ingest_page(session_factory, later).outcome == "unchanged"
    assert gone(session_factory).state == "suspicious"


def test_the_same_bytes_a_day_later_confirm_nothing(session_factory):
    ingest_page(session_factory, page(BASE, "2019-01-02"))
    same = fresh(WITHOUT, "2019-01-03")
    ingest_page(session_factory, same)
    again = page(same.body, "2019-01-06")
    assert ingest_page(session_factory, again).outcome == "unchanged"
    copy = page(same.body, "2019-01-07", expected_treaty="XXVI-9")  # the same-bytes shortcut
    assert ingest_page(session_factory, copy).outcome == "unchanged"
    assert gone(session_factory).state == "suspicious"


def test_the_same_printing_with_other_bytes_confirms_nothing(session_factory):
    ingest_page(session_factory, page(BASE, "2019-01-02"))
    first = fresh(WITHOUT, "2019-01-03")
    ingest_page(session_factory, first)
    padded = page(first.body + b"  \n", "2019-01-06")  # same "status as at" stamp
    assert ingest_page(session_factory, padded).outcome == "unchanged"
    assert gone(session_factory).state == "suspicious"


def test_too_soon_confirms_nothing_then_a_day_later_does(session_factory):
    ingest_page(session_factory, page(BASE, "2019-01-02"))
    ingest_page(session_factory, fresh(WITHOUT, "2019-01-03", 12))
    ingest_page(session_factory, fresh(WITHOUT, "2019-01-04", 11))  # 23 h later
    assert gone(session_factory).state == "suspicious"
    ingest_page(session_factory, fresh(WITHOUT, "2019-01-04", 13))
    event = gone(session_factory)
    assert event.state == "confirmed"
    assert event.details["confirmed_by_snapshot"] is not None
    assert event.details["confirm_after_hours"] == 24


def test_the_delay_is_a_parameter(session_factory):
    ingest_page(session_factory, page(BASE, "2019-01-02"))
    ingest_page(session_factory, fresh(WITHOUT, "2019-01-03", 12))
    hour = timedelta(hours=1)
    ingest_page(session_factory, fresh(WITHOUT, "2019-01-03", 14), confirm_after=hour)
    assert gone(session_factory).state == "confirmed"


def test_tracker_ingest_passes_the_setting(session_factory, settings, monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DATA_DIR", str(settings.data_dir))
    for i, (value, hour) in enumerate(((BASE, 10), (WITHOUT, 11), (WITHOUT, 14))):
        path = tmp_path / f"p{i}.json"
        path.write_bytes(body_of(replace(value, status_as_at=at("2019-01-03", hour))))
        if i == 2:
            monkeypatch.setenv("TRACKER_DISAPPEARANCE_CONFIRM_HOURS", "2")
        assert main(["ingest", "--source", "untc", str(path)]) == 0
    assert gone(session_factory).state == "confirmed"


def test_the_crawl_pipeline_passes_the_setting_and_the_304_flag(
    session_factory, settings, monkeypatch
):
    from spiders.pipelines import IngestPipeline

    monkeypatch.setenv("TRACKER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TRACKER_DISAPPEARANCE_CONFIRM_HOURS", "2")
    from scrapy.signalmanager import SignalManager

    crawler = SimpleNamespace(settings={}, stats=None, spider=None, signals=SignalManager())
    pipeline = IngestPipeline(crawler)  # type: ignore[arg-type]
    pipeline.open_spider()
    try:

        def item(value, hour: int, revalidated: bool = False) -> PageItem:
            body = body_of(replace(value, status_as_at=at("2019-01-03", hour)))
            fetched = at("2019-01-03", hour).isoformat()
            return PageItem("untc", "https://x/v", body, fetched, "XXVI-9", None, revalidated)

        def feed(page: PageItem) -> None:  # the pipeline's ingestion is a coroutine
            asyncio.run(pipeline.process_item(page))

        feed(item(BASE, 9))
        feed(item(WITHOUT, 10))
        feed(item(WITHOUT, 13, revalidated=True))
        assert gone(session_factory).state == "suspicious"  # a 304 is no observation
        feed(item(WITHOUT, 13))
        assert gone(session_factory).state == "confirmed"  # 3 h > 2 h
    finally:
        pipeline.database.dispose()


# --- 2. a confirmed disappearance that returns is a reappearance --------------------------------


def confirmed_disappearance(session_factory) -> None:
    ingest_page(session_factory, page(BASE, "2019-01-02"))
    ingest_page(session_factory, fresh(WITHOUT, "2019-01-03"))
    ingest_page(session_factory, fresh(WITHOUT, "2019-01-05"))
    assert gone(session_factory).state == "confirmed"


def test_the_same_entry_back_is_one_reappearance_and_no_consent(session_factory):
    everyone = subscribe(session_factory)
    asks = subscribe(session_factory, kinds=["reappearance"])
    consents = subscribe(session_factory, kinds=["consent", "signature"])
    confirmed_disappearance(session_factory)
    first_seen = {a.printed_name: a.first_observed_at for a in open_actions(session_factory)}
    result = ingest_page(session_factory, fresh(BASE, "2019-01-08"))
    assert (result.outcome, result.events) == ("accepted", 1)
    kinds = [(e.kind, e.participant_name, e.state) for e in events(session_factory)]
    assert kinds == [
        ("participant_disappeared", "Cook Islands", "confirmed"),
        ("reappearance", "Cook Islands", "final"),
    ]
    back = by_kind(session_factory, "reappearance")[0]
    assert back.details["absences"] == [gone(session_factory).id]
    assert gone(session_factory).details["reappearance_event"] == back.id
    cook = [a for a in open_actions(session_factory) if a.printed_name == "Cook Islands"]
    assert [a.first_observed_at for a in cook] == [at("2019-01-02")]
    assert first_seen["Austria"] == at("2019-01-02")
    assert [d.subscription_id for d in deliveries(session_factory)] == [asks]
    assert everyone != asks != consents
    # and once back, it is back: the next page brings nothing more
    assert ingest_page(session_factory, fresh(BASE, "2019-01-09")).events == 0


def test_back_with_other_actions_reports_the_differences(session_factory):
    confirmed_disappearance(session_factory)
    cook = member("Cook Islands", "COK", sig="2018-01-01", consent="2018-09-04", letter="a")
    ingest_page(session_factory, fresh(status(AUT, DZA, cook), "2019-01-08"))
    kinds = sorted((e.kind, e.legal_date) for e in events(session_factory))
    assert kinds == [
        ("participant_disappeared", date(2018, 9, 4)),
        ("reappearance", date(2018, 9, 4)),
        ("signature", date(2018, 1, 1)),
    ]


# --- 6. retraction of what a wrong page caused ------------------------------------------------


def unlabelled(*participants) -> TreatyStatus:
    """A page that prints nothing about entry into force: the crossings below are not disputed
    (with "Not yet in force" printed they would be held, see the test after them)."""
    return status(*participants, eif_label=None)


FAKES = [member(f"Fake {i}", f"Z{_LETTERS[i]}Z", consent=f"2020-02-2{i}") for i in range(5)]
T_WRONG = "2020-03-02"


def wrong_crossing(session_factory) -> dict[str, int]:
    """45 parties, then a wrong page with 5 invented parties (threshold 50 met), dispatched."""
    subs = {
        "everything": subscribe(session_factory),
        "thresholds": subscribe(session_factory, kinds=["threshold_crossed"]),
        "digest": subscribe(session_factory, digest="daily"),
        "withdrawals": subscribe(session_factory, kinds=["withdrawal"]),
    }
    ingest_page(session_factory, fresh(unlabelled(*parties(45)), "2020-03-01"))
    ingest_page(session_factory, fresh(unlabelled(*parties(45), *FAKES), T_WRONG))
    (crossed,) = by_kind(session_factory, "threshold_crossed")
    assert crossed.legal_date == date(2020, 2, 24) and crossed.state == "final"
    return subs


def test_one_correct_page_after_a_wrong_one_retracts_nothing(session_factory):
    wrong_crossing(session_factory)
    ingest_page(session_factory, fresh(unlabelled(*parties(45)), "2020-03-03"))
    assert {e.state for e in by_kind(session_factory, "participant_disappeared")} == {"suspicious"}
    assert by_kind(session_factory, "threshold_crossed")[0].state == "final"
    assert by_kind(session_factory, "retraction") == []


def test_a_confirmed_wrong_page_is_retracted_and_whoever_was_sent_it_is_told(session_factory):
    subs = wrong_crossing(session_factory)
    inbox = Inbox()
    assert (
        dispatch(session_factory, inbox, at(T_WRONG, 13)) == 6 + 1
    )  # everything: 5 consents and the crossing; thresholds: the crossing
    assert {r.id for r, _ in inbox.sent} == {subs["everything"], subs["thresholds"]}
    pending = [d for d in deliveries(session_factory) if d.state == "pending"]
    assert {d.subscription_id for d in pending} == {subs["digest"]}
    ingest_page(session_factory, fresh(unlabelled(*parties(45)), "2020-03-03"))
    result = ingest_page(session_factory, fresh(unlabelled(*parties(45)), "2020-03-04", 13))
    assert result.outcome == "unchanged" and result.events == 6

    (crossed,) = by_kind(session_factory, "threshold_crossed")
    assert crossed.state == "retracted" and crossed.once_key is None
    assert crossed.details["once_key"] == "threshold_crossed"
    assert "Fake 0 (ratification 2020-02-20)" in crossed.details["retracted_reason"]
    assert "without them the threshold is not met" in crossed.details["retracted_reason"]
    assert crossed.details["retracted_by_snapshot"] is not None
    assert {e.state for e in by_kind(session_factory, "consent")} == {"retracted"}
    notices = by_kind(session_factory, "retraction")
    assert sorted(n.details["retracted_event"] for n in notices) == sorted(
        e.id for e in events(session_factory) if e.kind in ("consent", "threshold_crossed")
    )
    # the digest never got them: its deliveries are cancelled, and it gets no notice
    by_sub: dict[int, list[str]] = {}
    for d in deliveries(session_factory):
        by_sub.setdefault(d.subscription_id, []).append(d.state)
    assert set(by_sub[subs["digest"]]) == {"cancelled"}
    assert subs["withdrawals"] not in by_sub

    inbox.sent.clear()
    assert dispatch(session_factory, inbox, at("2020-03-04", 14)) == 6 + 1
    told = [(r.id, m) for r, m in inbox.sent]
    assert sorted(s for s, _ in told) == [subs["everything"]] * 6 + [subs["thresholds"]]
    (note,) = [m for s, m in told if s == subs["thresholds"]]
    assert note.subject == "XXVI-9: withdrawn: the entry-into-force threshold was met on 2020-02-24"
    assert "We withdraw an earlier alert" in note.text and "Why: the page it came from" in note.text
    assert note.payload["retracted"]["kind"] == "threshold_crossed"
    assert note.payload["event"]["kind"] == "retraction"
    consent_note = next(m for s, m in told if m.payload["retracted"]["kind"] == "consent")
    assert "was never there" in consent_note.text


def test_a_wrong_crossing_the_page_itself_contradicts_is_held_then_retracted_never_sent(
    session_factory,
):
    """The wrong page prints an entry-into-force date the rule does not give beside a table
    that crosses the threshold: the crossing is held (disputed), no subscription gets it, and
    when the absences are confirmed it is retracted with no notice to anyone (nobody was
    told)."""
    subscribe(session_factory)
    subscribe(session_factory, kinds=["threshold_crossed"])
    subscribe(session_factory, digest="daily")
    ingest_page(session_factory, fresh(status(*parties(45)), "2020-03-01"))
    contradicting = status(*parties(45), *FAKES, eif_date="2020-01-15")
    ingest_page(session_factory, fresh(contradicting, T_WRONG))
    (crossed,) = by_kind(session_factory, "threshold_crossed")
    assert crossed.state == "disputed"
    assert "the depositary prints 2020-01-15" in crossed.details["disputed"]["reason"]
    inbox = Inbox()
    assert dispatch(session_factory, inbox, at(T_WRONG, 13)) == 5  # the 5 consents only
    assert all(m.payload["event"]["kind"] == "consent" for _, m in inbox.sent)
    assert crossed.id not in {d.event_id for d in deliveries(session_factory)}
    ingest_page(session_factory, fresh(status(*parties(45)), "2020-03-03"))
    ingest_page(session_factory, fresh(status(*parties(45)), "2020-03-04", 13))
    (crossed,) = by_kind(session_factory, "threshold_crossed")
    assert crossed.state == "retracted" and crossed.once_key is None
    dispatch(session_factory, inbox, at("2020-03-05", 8))  # the digest's hour too
    assert crossed.id not in {d.event_id for d in deliveries(session_factory)}
    # the first page that agrees with the depositary no longer supports it: dropped unsent
    assert "the threshold is not met" in crossed.details["retracted_reason"]
    # nobody was told of it, so no notice withdraws it (the sent consents get theirs)
    about = [n.details["retracted_event"] for n in by_kind(session_factory, "retraction")]
    assert crossed.id not in about and len(about) == 5
    assert not any(m.payload["event"]["kind"] == "threshold_crossed" for _, m in inbox.sent)


def test_a_genuine_crossing_later_fires_again(session_factory):
    wrong_crossing(session_factory)
    ingest_page(session_factory, fresh(unlabelled(*parties(45)), "2020-03-03"))
    ingest_page(session_factory, fresh(unlabelled(*parties(45)), "2020-03-04", 13))
    ingest_page(session_factory, fresh(unlabelled(*parties(50)), "2020-03-10"))
    crossings = by_kind(session_factory, "threshold_crossed")
    assert [(e.state, e.legal_date) for e in crossings] == [
        ("retracted", date(2020, 2, 24)),
        ("final", START + timedelta(days=49)),
    ]
    assert crossings[1].once_key == "threshold_crossed"


def test_a_crossing_computed_while_a_deposit_was_absent_is_withdrawn_when_it_comes_back(
    session_factory,
):
    """The earliest deposit vanishes for more than a day (confirmed): the crossing moves to the
    next instrument's date. When the deposit comes back, that later crossing is withdrawn in its
    turn and the crossing fires again on its true date."""
    first, second = START + timedelta(days=49), START + timedelta(days=50)
    ingest_page(session_factory, fresh(unlabelled(*parties(49)), "2020-03-01"))
    ingest_page(session_factory, fresh(unlabelled(*parties(51)), "2020-03-02"))
    without_first = unlabelled(*parties(50, first=1))
    ingest_page(session_factory, fresh(without_first, "2020-03-03"))
    ingest_page(session_factory, fresh(without_first, "2020-03-05"))  # confirms the absence
    crossings = by_kind(session_factory, "threshold_crossed")
    assert [(e.state, e.legal_date) for e in crossings] == [
        ("retracted", first),
        ("final", second),
    ]
    ingest_page(session_factory, fresh(unlabelled(*parties(51)), "2020-03-06"))  # it is back
    crossings = by_kind(session_factory, "threshold_crossed")
    assert [(e.state, e.legal_date) for e in crossings] == [
        ("retracted", first),
        ("retracted", second),
        ("final", first),
    ]
    assert "they are back" in crossings[1].details["retracted_reason"]
    assert len(by_kind(session_factory, "reappearance")) == 1


def test_a_rule_event_that_holds_without_the_vanished_deposits_stands(session_factory):
    ingest_page(session_factory, fresh(unlabelled(*parties(49)), "2020-03-01"))
    late = member("Late", "ZZZ", consent="2020-02-29")
    ingest_page(session_factory, fresh(unlabelled(*parties(50), late), "2020-03-02"))
    ingest_page(session_factory, fresh(unlabelled(*parties(50)), "2020-03-03"))
    ingest_page(session_factory, fresh(unlabelled(*parties(50)), "2020-03-05"))
    assert gone(session_factory).state == "confirmed"
    (crossed,) = by_kind(session_factory, "threshold_crossed")
    assert crossed.state == "final"  # the 50th instrument was real
    assert [e.state for e in by_kind(session_factory, "consent")] == ["final", "retracted"]


def test_a_shrunken_page_held_for_a_day_retracts_nothing_before_confirmation(session_factory):
    ingest_page(session_factory, fresh(unlabelled(*parties(50)), "2020-03-01"))
    ingest_page(session_factory, fresh(unlabelled(*parties(30)), "2020-03-02"))
    ingest_page(session_factory, fresh(unlabelled(*parties(30)), "2020-03-02", 20))
    ingest_page(session_factory, fresh(unlabelled(*parties(50)), "2020-03-03"))
    assert {e.state for e in by_kind(session_factory, "participant_disappeared")} == {"retracted"}
    assert by_kind(session_factory, "retraction") == []
    assert by_kind(session_factory, "reappearance") == []
    assert [e.state for e in events(session_factory) if e.once_key] == ["final"]


def test_a_vanished_cell_is_suspicious_then_its_consent_event_is_retracted(session_factory):
    sub = subscribe(session_factory)
    ingest_page(session_factory, fresh(status(DZA), "2019-01-02"))
    ratified = member("Algeria", "DZA", sig="2017-09-20", consent="2019-01-03")
    ingest_page(session_factory, fresh(status(ratified), "2019-01-04"))
    inbox = Inbox()
    assert dispatch(session_factory, inbox, at("2019-01-04", 13)) == 1
    ingest_page(session_factory, fresh(status(DZA), "2019-01-05"))  # the cell is gone
    kinds = [(e.kind, e.state) for e in events(session_factory)]
    assert kinds == [("consent", "final"), ("action_disappeared", "suspicious")]
    assert dispatch(session_factory, inbox, at("2019-01-05", 13)) == 0  # no "correction" alert
    ingest_page(session_factory, fresh(status(DZA), "2019-01-06", 13))
    kinds = [(e.kind, e.state) for e in events(session_factory)]
    assert kinds == [
        ("consent", "retracted"),
        ("action_disappeared", "confirmed"),
        ("retraction", "final"),
    ]
    assert dispatch(session_factory, inbox, at("2019-01-06", 14)) == 1
    assert inbox.sent[-1][0].id == sub
    assert "Algeria's ratification of 2019-01-03 was never there" in inbox.sent[-1][1].text


def test_a_cell_that_comes_back_while_suspicious_is_no_event(session_factory):
    subscribe(session_factory)
    ratified = member("Algeria", "DZA", sig="2017-09-20", consent="2019-01-03")
    ingest_page(session_factory, fresh(status(ratified), "2019-01-02"))
    ingest_page(session_factory, fresh(status(DZA), "2019-01-03"))
    ingest_page(session_factory, fresh(status(ratified), "2019-01-03", 18))
    assert [(e.kind, e.state) for e in events(session_factory)] == [
        ("action_disappeared", "retracted")
    ]
    assert deliveries(session_factory) == []


def test_a_bracketed_cell_is_a_withdrawal_and_retracts_nothing(session_factory):
    ratified = member("Algeria", "DZA", sig="2017-09-20", consent="2019-01-03")
    ingest_page(session_factory, fresh(status(DZA), "2019-01-02"))
    ingest_page(session_factory, fresh(status(ratified), "2019-01-04"))
    withdrawn = member("Algeria", "DZA", sig="2017-09-20", consent="2019-01-03", withdrawn=True)
    ingest_page(session_factory, fresh(status(withdrawn), "2019-01-05"))
    ingest_page(session_factory, fresh(status(withdrawn), "2019-01-07"))
    assert [(e.kind, e.state) for e in events(session_factory)] == [
        ("consent", "final"),
        ("withdrawal", "final"),
    ]


def test_a_participant_whose_events_were_retracted_comes_back_and_the_told_hear_it(
    session_factory,
):
    sub = subscribe(session_factory, kinds=["consent"])
    ingest_page(session_factory, fresh(status(DZA), "2019-01-02"))
    cook = COK
    ingest_page(session_factory, fresh(status(DZA, cook), "2019-01-03"))
    inbox = Inbox()
    assert dispatch(session_factory, inbox, at("2019-01-03", 13)) == 1
    ingest_page(session_factory, fresh(status(DZA), "2019-01-04"))
    ingest_page(session_factory, fresh(status(DZA), "2019-01-06"))
    assert dispatch(session_factory, inbox, at("2019-01-06", 13)) == 1  # the retraction
    ingest_page(session_factory, fresh(status(DZA, cook), "2019-01-08"))
    assert [e.kind for e in events(session_factory)][-1] == "reappearance"
    assert dispatch(session_factory, inbox, at("2019-01-08", 13)) == 1
    recipient, message = inbox.sent[-1]
    assert recipient.id == sub and message.payload["event"]["kind"] == "reappearance"
    assert "Cook Islands is listed again" in message.text


def test_reappearance_is_opt_in_and_retraction_is_never_matched_by_filters():
    from tracker.alerts.policy import ALERT_KINDS, EventFacts, Filters, wants

    back = EventFacts("reappearance", "XXVI-9", "COK", "final")
    assert "reappearance" in ALERT_KINDS and "retraction" not in ALERT_KINDS
    assert not wants(Filters(), back)
    assert wants(Filters(kinds=("reappearance",)), back)
    assert not wants(Filters(), EventFacts("retraction", "XXVI-9", None, "final"))
    assert not wants(Filters(), EventFacts("action_disappeared", "XXVI-9", None, "suspicious"))
