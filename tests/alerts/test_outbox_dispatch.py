"""The outbox and the dispatcher with an in-memory channel: one delivery per (event, matching
subscription) in the event's transaction; sent once; retried with backoff; dead after N tries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from statuses import member, page, status, subscribe

from db.models import Delivery, Event
from tracker.alerts.channels import DeliveryError, Message, Recipient
from tracker.alerts.claims import claim
from tracker.alerts.dispatch import dispatch_due
from tracker.alerts.policy import EventFacts, Filters, backoff, next_digest, wants
from tracker.services.ingest import ingest_page

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]

NOW = datetime(2020, 3, 10, 12, tzinfo=UTC)


class Inbox:
    """A channel that keeps what it is sent, or fails as told."""

    def __init__(self, fail: DeliveryError | None = None) -> None:
        self.sent: list[tuple[Recipient, Message]] = []
        self.fail = fail

    def send(self, recipient: Recipient, message: Message) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append((recipient, message))


def parties(n: int) -> list:
    return [member(f"State {i}", None, consent=f"2020-01-{i + 1:02d}") for i in range(n)]


def crossing(session_factory) -> None:
    """TPNW-like: 48 parties, then 50 (threshold 50): events consent x2 and threshold_crossed."""
    ingest_page(session_factory, page(status(*parties(28)), "2020-02-01"))
    austria = member("Austria", "AUT", consent="2020-01-30")
    ingest_page(session_factory, page(status(*parties(28), austria), "2020-03-01"))


def deliveries(session_factory) -> list[Delivery]:
    with session_factory() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def test_filters_are_pure_and_exact():
    ev = EventFacts("consent", "XXVI-9", "AUT", "final")
    assert wants(Filters(), ev)
    assert wants(Filters(treaties=["XXVI-9"], countries=["AUT"], kinds=["consent"]), ev)
    assert not wants(Filters(countries=["FRA"]), ev)
    assert not wants(Filters(kinds=["signature"]), ev)
    assert not wants(
        Filters(), EventFacts("participant_disappeared", "XXVI-9", "AUT", "suspicious")
    )
    assert not wants(
        Filters(), EventFacts("threshold_crossed", "XXVI-9", None, "final", baseline=True)
    )
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (1, 2, 4)]
    assert backoff(30) == timedelta(hours=6)
    assert next_digest(datetime(2020, 3, 10, 6, tzinfo=UTC)) == datetime(2020, 3, 10, 7, tzinfo=UTC)
    assert next_digest(datetime(2020, 3, 10, 7, tzinfo=UTC)) == datetime(2020, 3, 11, 7, tzinfo=UTC)


def test_each_matching_subscription_gets_one_delivery_per_event(session_factory):
    everything = subscribe(session_factory)
    austria = subscribe(session_factory, countries=["AUT"])
    subscribe(session_factory, countries=["FRA"])
    subscribe(session_factory, state="pending")  # unconfirmed email: nothing
    crossing(session_factory)
    with session_factory() as session:
        consent = session.scalars(select(Event).where(Event.kind == "consent")).one()
    got = {(d.subscription_id, d.event_id) for d in deliveries(session_factory)}
    assert got == {(everything, consent.id), (austria, consent.id)}


def test_sent_once_with_its_idempotency_key(session_factory):
    subscribe(session_factory)
    crossing(session_factory)
    inbox = Inbox()
    report = dispatch_due(session_factory, {"webhook": inbox}, now=lambda: NOW)
    assert (report.claimed, report.sent) == (1, 1)
    ((_recipient, message),) = inbox.sent
    (delivery,) = deliveries(session_factory)
    assert (delivery.state, delivery.attempts, delivery.sent_at) == ("sent", 1, NOW)
    assert message.idempotency_key == delivery.idempotency_key
    assert (
        message.payload["event"]["kind"] == "consent" and message.payload["event"]["iso3"] == "AUT"
    )
    assert message.payload["counts"] == {
        "before": {"signatories": 0, "parties": 28},
        "after": {"signatories": 0, "parties": 29},
    }
    assert "Austria became a party (ratification)" in message.text
    assert message.payload["evidence"]["snapshot_id"] is not None
    assert dispatch_due(session_factory, {"webhook": inbox}, now=lambda: NOW).claimed == 0
    assert len(inbox.sent) == 1


def test_retried_with_backoff_then_dead(session_factory):
    subscribe(session_factory)
    crossing(session_factory)
    failing = Inbox(fail=DeliveryError("HTTP 503"))
    clock = [NOW]
    for attempt in range(1, 4):
        report = dispatch_due(
            session_factory, {"webhook": failing}, now=lambda: clock[0], max_attempts=3
        )
        (delivery,) = deliveries(session_factory)
        assert delivery.attempts == attempt and delivery.last_error == "HTTP 503"
        if attempt < 3:
            assert (report.retried, delivery.state) == (1, "pending")
            assert delivery.due_at == clock[0] + backoff(attempt)
            assert (
                dispatch_due(session_factory, {"webhook": failing}, now=lambda: clock[0]).claimed
                == 0
            )
            clock[0] = delivery.due_at
        else:
            assert (report.dead, delivery.state) == (1, "dead")


def test_a_refused_delivery_is_retried_until_its_last_try_then_dead(session_factory):
    """A permanent refusal (HTTP 404) is a try like any other: dead only after max_attempts."""
    subscribe(session_factory)
    crossing(session_factory)
    refusing = Inbox(fail=DeliveryError("HTTP 404", retryable=False))
    clock = [NOW]
    for attempt in range(1, 4):
        report = dispatch_due(
            session_factory, {"webhook": refusing}, now=lambda: clock[0], max_attempts=3
        )
        (delivery,) = deliveries(session_factory)
        assert delivery.attempts == attempt
        assert delivery.last_error == "HTTP 404 (refused; retried all the same)"
        if attempt < 3:
            assert (report.retried, report.dead, delivery.state) == (1, 0, "pending")
            clock[0] = delivery.due_at
        else:
            assert (report.retried, report.dead, delivery.state) == (0, 1, "dead")


def test_a_lost_claim_is_taken_again_after_its_lease_with_the_same_key(session_factory):
    subscribe(session_factory)
    crossing(session_factory)
    (first,) = claim(session_factory, NOW, 10, timedelta(minutes=5))  # then the process dies
    assert claim(session_factory, NOW + timedelta(minutes=1), 10, timedelta(minutes=5)) == []
    inbox = Inbox()
    later = NOW + timedelta(minutes=6)
    assert dispatch_due(session_factory, {"webhook": inbox}, now=lambda: later).sent == 1
    (delivery,) = deliveries(session_factory)
    assert delivery.id == first and delivery.attempts == 1  # the claim alone was not a try
    assert inbox.sent[0][1].idempotency_key == delivery.idempotency_key


def test_a_daily_digest_delivery_waits_for_the_digest_hour(session_factory):
    subscribe(session_factory, digest="daily")
    crossing(session_factory)
    (delivery,) = deliveries(session_factory)
    assert delivery.due_at == datetime(2020, 3, 2, 7, tzinfo=UTC)  # observed 2020-03-01 12:00


def test_a_daily_digest_is_one_message_for_all_its_due_deliveries(session_factory):
    subscribe(session_factory, digest="daily")
    ingest_page(session_factory, page(status(*parties(28)), "2020-02-01"))
    two = [
        member("Austria", "AUT", consent="2020-01-30"),
        member("Chile", "CHL", consent="2020-01-31"),
    ]
    ingest_page(session_factory, page(status(*parties(28), *two), "2020-03-01"))
    assert len(deliveries(session_factory)) == 2
    inbox = Inbox()
    report = dispatch_due(session_factory, {"webhook": inbox}, now=lambda: NOW)
    assert (report.claimed, report.sent) == (2, 2)
    ((_, message),) = inbox.sent
    assert message.subject == "Treaty tracker: 2 updates (daily digest)"
    assert [p["event"]["iso3"] for p in message.payload["digest"]] == ["AUT", "CHL"]
    assert "Austria became a party" in message.text and "Chile became a party" in message.text
    assert message.idempotency_key.startswith("digest-")
    assert {d.state for d in deliveries(session_factory)} == {"sent"}


class _DiesAfterSending(Inbox):
    """Sends, then the process 'dies' before recording the outcome."""

    def send(self, recipient: Recipient, message: Message) -> None:
        super().send(recipient, message)
        raise KeyboardInterrupt


def test_a_digest_repeated_after_a_crash_keeps_its_key_and_contents(session_factory):
    subscribe(session_factory, digest="daily")
    ingest_page(session_factory, page(status(*parties(28)), "2020-02-01"))
    two = [
        member("Austria", "AUT", consent="2020-01-30"),
        member("Chile", "CHL", consent="2020-01-31"),
    ]
    ingest_page(session_factory, page(status(*parties(28), *two), "2020-03-01"))
    dying = _DiesAfterSending()
    with pytest.raises(KeyboardInterrupt):
        dispatch_due(session_factory, {"webhook": dying}, now=lambda: NOW)
    assert {d.state for d in deliveries(session_factory)} == {"sending"}
    inbox = Inbox()
    later = NOW + timedelta(minutes=6)  # the lease has run out
    assert dispatch_due(session_factory, {"webhook": inbox}, now=lambda: later).sent == 2
    ((_, first),) = dying.sent
    ((_, again),) = inbox.sent
    assert again.idempotency_key == first.idempotency_key
    assert again.payload == first.payload


def test_operators_hear_when_a_source_turns_unhealthy_and_recovers(session_factory):
    from tracker.services.crawl_records import record_crawl

    ops = subscribe(session_factory, kinds=["source_unhealthy", "source_recovered"])
    subscribe(session_factory, treaties=["XXVI-9"])  # a treaty watcher hears nothing of it
    record_crawl(session_factory, "untc", {"pages": 3}, True, None, NOW)
    # Two failed crawls in a row: unhealthy; a third: it held for two crawls, operators hear.
    for minutes in (60, 120, 130):
        record_crawl(
            session_factory,
            "untc",
            {"pages": 0},
            False,
            "0 pages, 1 failed",
            NOW + timedelta(minutes=minutes),
        )
    for minutes in (180, 190):  # healthy again, and it held for two crawls
        record_crawl(
            session_factory, "untc", {"pages": 3}, True, None, NOW + timedelta(minutes=minutes)
        )
    inbox = Inbox()
    assert (
        dispatch_due(session_factory, {"webhook": inbox}, now=lambda: NOW + timedelta(hours=4)).sent
        == 2
    )
    assert {r.id for r, _ in inbox.sent} == {ops}
    subjects = [m.subject for _, m in inbox.sent]
    assert subjects == ["Source untc is unhealthy", "Source untc recovered"]
    assert "3 consecutive failed or quarantined crawls" in inbox.sent[0][1].text
    # Each says how long the new state has held and how long the previous one lasted.
    assert "(2 crawls, 10 min); before: healthy for 2 h 0 min since" in inbox.sent[0][1].text
    assert "(2 crawls, 10 min); before: unhealthy for 1 h 0 min since" in inbox.sent[1][1].text
    previous = inbox.sent[1][1].payload["source"]["previous"]
    assert (previous["state"], previous["duration_seconds"], previous["crawls"]) == (
        "unhealthy",
        3600,
        2,
    )
    with session_factory() as session:
        kinds = [e.kind for e in session.scalars(select(Event).order_by(Event.id))]
    assert kinds == ["source_unhealthy", "source_recovered"]
    # The outbox lists them too (the API's and the CLI's listing), with no treaty.
    from tracker.alerts.outbox import deliveries as outbox_rows

    with session_factory() as session:
        listed = [(e.kind, t, d.state) for d, e, t, _slug, _ in outbox_rows(session, "sent")]
    assert listed == [("source_recovered", None, "sent"), ("source_unhealthy", None, "sent")]


# --- attempts, leases and the states that are not failures ------------------------------------


def test_a_claim_spends_no_attempt_and_a_try_is_recorded_before_the_send(session_factory):
    subscribe(session_factory)
    crossing(session_factory)
    (claimed,) = claim(session_factory, NOW, 10, timedelta(minutes=5))
    (delivery,) = deliveries(session_factory)
    assert (delivery.state, delivery.attempts) == ("sending", 0)

    seen: list[int] = []

    class Watching(Inbox):
        def send(self, recipient: Recipient, message: Message) -> None:
            (row,) = deliveries(session_factory)  # what a crash now would leave behind
            seen.append(row.attempts)
            super().send(recipient, message)

    later = NOW + timedelta(minutes=6)
    dispatch_due(session_factory, {"webhook": Watching()}, now=lambda: later)
    assert seen == [1]  # committed before the channel was called
    (delivery,) = deliveries(session_factory)
    assert (delivery.id, delivery.state, delivery.attempts) == (claimed, "sent", 1)


def test_a_claim_taken_over_after_its_lease_is_not_tried_by_the_one_that_lost_it(
    session_factory,
):
    from tracker.alerts.claims import Lost, begin_try, renew

    subscribe(session_factory)
    crossing(session_factory)
    lease = timedelta(seconds=30)
    (row,) = claim(session_factory, NOW, 10, lease, token="a" * 32)
    assert renew(session_factory, "a" * 32, NOW, lease) == 1
    later = NOW + timedelta(minutes=1)  # a's lease ran out (a stopped renewing it)
    assert claim(session_factory, later, 10, lease, token="b" * 32) == [row]
    assert renew(session_factory, "a" * 32, later, lease) == 0
    with pytest.raises(Lost):
        begin_try(session_factory, [row], "a" * 32, later, lease)
    (delivery,) = deliveries(session_factory)
    assert (delivery.attempts, delivery.claim_token) == (0, "b" * 32)
    begin_try(session_factory, [row], "b" * 32, later, lease)
    (delivery,) = deliveries(session_factory)
    assert (delivery.attempts, delivery.claimed_until) == (1, later + lease)


def test_the_heartbeat_keeps_a_claim_while_its_batch_is_sent(session_factory):
    """Real clock: a 0.3 s lease over a batch that takes ~1.2 s; nobody can claim its rows."""
    import time

    from tracker.alerts.dispatch import dispatch_due as dispatch

    for _ in range(4):
        subscribe(session_factory)
    crossing(session_factory)
    lease = timedelta(seconds=0.3)
    stolen: list[list[int]] = []

    class Slow(Inbox):
        def send(self, recipient: Recipient, message: Message) -> None:
            time.sleep(0.3)
            stolen.append(claim(session_factory, datetime.now(UTC), 10, lease))
            super().send(recipient, message)

    report = dispatch(session_factory, {"webhook": Slow()}, batch=4, lease=lease)
    assert (report.claimed, report.sent, report.lost) == (4, 4, 0)
    assert stolen == [[], [], [], []]
    assert {d.attempts for d in deliveries(session_factory)} == {1}


def test_an_ended_subscription_cancels_its_deliveries_and_none_is_dead(session_factory):
    from tracker.alerts.subscriptions import end

    sub = subscribe(session_factory)
    crossing(session_factory)
    claim(session_factory, NOW, 10, timedelta(minutes=5))  # claimed, then the subscriber leaves
    with session_factory.begin() as session:
        end(session, sub, NOW)
    inbox = Inbox()
    report = dispatch_due(session_factory, {"webhook": inbox}, now=lambda: NOW + timedelta(hours=1))
    assert (report.cancelled, report.dead, inbox.sent) == (1, 0, [])
    (delivery,) = deliveries(session_factory)
    assert (delivery.state, delivery.attempts) == ("cancelled", 0)

    other = subscribe(session_factory, countries=["CHL"])
    ingest_page(
        session_factory,
        page(
            status(
                *parties(28),
                member("Austria", "AUT", consent="2020-01-30"),
                member("Chile", "CHL", consent="2020-01-31"),
            ),
            "2020-04-01",
        ),
    )
    with session_factory.begin() as session:
        end(session, other, NOW)  # pending deliveries are cancelled at once
    assert [d.state for d in deliveries(session_factory) if d.subscription_id == other] == [
        "cancelled"
    ]


def test_a_channel_not_configured_is_not_a_try_and_never_dead(session_factory):
    from tracker.alerts.outcomes import DEFERRAL

    subscribe(session_factory)
    crossing(session_factory)
    clock = [NOW]
    for _ in range(12):  # more runs than max_attempts
        report = dispatch_due(session_factory, {}, now=lambda: clock[0], max_attempts=3)
        assert (report.deferred, report.dead) == (1, 0)
        (delivery,) = deliveries(session_factory)
        assert (delivery.state, delivery.attempts) == ("pending", 0)
        assert delivery.due_at == clock[0] + DEFERRAL
        assert "not configured" in delivery.last_error
        clock[0] = delivery.due_at
    inbox = Inbox()
    assert dispatch_due(session_factory, {"webhook": inbox}, now=lambda: clock[0]).sent == 1


def test_a_message_that_cannot_be_rendered_is_not_a_try(session_factory, monkeypatch):
    from tracker.alerts import sending

    subscribe(session_factory)
    crossing(session_factory)

    def broken(*args, **kwargs):
        raise KeyError("counts")

    monkeypatch.setattr(sending, "render", broken)
    report = dispatch_due(session_factory, {"webhook": Inbox()}, now=lambda: NOW, max_attempts=1)
    (delivery,) = deliveries(session_factory)
    assert (report.deferred, report.dead, delivery.state, delivery.attempts) == (
        1,
        0,
        "pending",
        0,
    )
    assert "cannot render" in delivery.last_error


# --- a retracted event is never sent; a row with no try left is dead without another ----------


def _retract(session_factory, kind: str = "consent") -> int:
    """Retract the event as tracker.services.retraction does (state only: what the dispatcher
    reads), after its deliveries were written."""
    with session_factory.begin() as session:
        event = session.scalars(select(Event).where(Event.kind == kind)).one()
        event.state = "retracted"
        return event.id


class RetractingInbox(Inbox):
    """Fails the send, and while it was in flight the event was retracted."""

    def __init__(self, session_factory) -> None:
        super().__init__(DeliveryError("HTTP 503"))
        self.session_factory = session_factory

    def send(self, recipient: Recipient, message: Message) -> None:
        _retract(self.session_factory)
        super().send(recipient, message)


def test_a_delivery_of_a_retracted_event_is_cancelled_unsent(session_factory):
    subscribe(session_factory)
    crossing(session_factory)
    _retract(session_factory)
    inbox = Inbox()
    report = dispatch_due(session_factory, {"webhook": inbox}, now=lambda: NOW)
    assert inbox.sent == [] and (report.claimed, report.cancelled, report.sent) == (1, 1, 0)
    (delivery,) = deliveries(session_factory)
    assert (delivery.state, delivery.attempts) == ("cancelled", 0)
    assert "retracted" in delivery.last_error


def test_a_failed_try_of_an_event_retracted_meanwhile_is_not_retried(session_factory):
    subscribe(session_factory)
    crossing(session_factory)
    report = dispatch_due(
        session_factory, {"webhook": RetractingInbox(session_factory)}, now=lambda: NOW
    )
    assert (report.cancelled, report.retried, report.dead) == (1, 0, 0)
    (delivery,) = deliveries(session_factory)
    assert (delivery.state, delivery.attempts) == ("cancelled", 1)
    assert delivery.last_error.startswith("event retracted; last try: HTTP 503")
    later = NOW + timedelta(days=1)
    assert dispatch_due(session_factory, {"webhook": Inbox()}, now=lambda: later).claimed == 0


def test_a_digest_leaves_out_its_retracted_alerts(session_factory):
    subscribe(session_factory, digest="daily")
    ingest_page(session_factory, page(status(*parties(28)), "2020-02-01"))
    two = [
        member("Austria", "AUT", consent="2020-01-30"),
        member("Chile", "CHL", consent="2020-01-31"),
    ]
    ingest_page(session_factory, page(status(*parties(28), *two), "2020-03-01"))
    with session_factory.begin() as session:
        austria = session.scalars(
            select(Event).where(Event.kind == "consent", Event.participant_name == "Austria")
        ).one()
        austria.state = "retracted"
    inbox = Inbox()
    digest_time = NOW + timedelta(days=2)
    report = dispatch_due(session_factory, {"webhook": inbox}, now=lambda: digest_time)
    assert (report.sent, report.cancelled) == (len(deliveries(session_factory)) - 1, 1)
    ((_, message),) = inbox.sent
    assert "Austria" not in message.text and "Chile" in message.text
    by_event = {d.event_id: d.state for d in deliveries(session_factory)}
    assert by_event.pop(austria.id) == "cancelled" and set(by_event.values()) == {"sent"}


def test_a_row_taken_over_with_every_try_spent_is_dead_without_another(session_factory):
    subscribe(session_factory)
    crossing(session_factory)
    max_attempts = 3
    with session_factory.begin() as session:  # the third try was cut short by a crash
        (row,) = session.scalars(select(Delivery))
        row.state, row.attempts, row.claim_token = "sending", max_attempts, "gone"
        row.claimed_until, row.last_error = NOW - timedelta(seconds=1), "HTTP 503"
    inbox = Inbox()
    report = dispatch_due(
        session_factory, {"webhook": inbox}, now=lambda: NOW, max_attempts=max_attempts
    )
    assert inbox.sent == [] and report.dead == 1
    (delivery,) = deliveries(session_factory)
    assert (delivery.state, delivery.attempts) == ("dead", max_attempts)
    assert "the last try was interrupted" in delivery.last_error


def _retract_with_notice(session_factory, when: datetime, kind: str = "consent") -> None:
    """Retract as tracker.services.retraction does: pending deliveries cancelled, a notice to
    whoever may have received the event."""
    from tracker.services.retraction import retract
    from tracker.services.timeline import Observation

    with session_factory.begin() as session:
        event = session.scalars(select(Event).where(Event.kind == kind)).one()
        obs = Observation(at=when, snapshot_id=event.snapshot_id, digest="0" * 64)
        retract(session, event, "the page was wrong", obs, [])


def _set_delivery(session_factory, **values) -> None:
    with session_factory.begin() as session:
        (row,) = session.scalars(select(Delivery).where(Delivery.state != "cancelled"))
        for key, value in values.items():
            setattr(row, key, value)


def _notices(session_factory) -> list[Delivery]:
    with session_factory() as session:
        notice_ids = select(Event.id).where(Event.kind == "retraction")
        return list(session.scalars(select(Delivery).where(Delivery.event_id.in_(notice_ids))))


def test_a_notice_goes_where_the_alert_was_tried_even_if_that_try_failed(session_factory):
    subscribe(session_factory)
    crossing(session_factory)
    # a try that timed out (it may have arrived), waiting for its retry
    _set_delivery(
        session_factory, attempts=1, last_error="timed out", due_at=NOW + timedelta(hours=1)
    )
    _retract_with_notice(session_factory, NOW)
    inbox = Inbox()
    report = dispatch_due(session_factory, {"webhook": inbox}, now=lambda: NOW)
    assert report.sent == 1
    ((_, message),) = inbox.sent
    assert message.payload["event"]["kind"] == "retraction"
    original, notice = deliveries(session_factory)
    assert (original.state, original.attempts) == ("cancelled", 1)  # never retried
    assert notice.state == "sent" and notice.id == _notices(session_factory)[0].id


def test_no_notice_where_the_alert_was_claimed_but_never_tried(session_factory):
    subscribe(session_factory)
    crossing(session_factory)
    # claimed by a dispatcher that died before trying: `sending`, no attempt, lease over
    _set_delivery(
        session_factory,
        state="sending",
        claim_token="dead",
        claimed_until=NOW - timedelta(seconds=1),
    )
    _retract_with_notice(session_factory, NOW)
    assert len(_notices(session_factory)) == 1  # it might have been in flight
    inbox = Inbox()
    report = dispatch_due(session_factory, {"webhook": inbox}, now=lambda: NOW)
    assert inbox.sent == [] and report.cancelled == 2
    (notice,) = _notices(session_factory)
    assert notice.state == "cancelled" and "never reached this subscriber" in notice.last_error


def test_a_retraction_landing_between_preparation_and_try_stops_the_send(
    session_factory, monkeypatch
):
    from tracker.alerts import dispatch

    subscribe(session_factory)
    crossing(session_factory)
    prepare = dispatch.prepare

    def prepared_then_retracted(*args, **kwargs):
        done = prepare(*args, **kwargs)
        _retract(session_factory)  # committed after the checks of _prepare
        return done

    monkeypatch.setattr(dispatch, "prepare", prepared_then_retracted)
    inbox = Inbox()
    report = dispatch_due(session_factory, {"webhook": inbox}, now=lambda: NOW)
    assert inbox.sent == [] and report.cancelled == 1
    (delivery,) = deliveries(session_factory)
    assert (delivery.state, delivery.attempts) == ("cancelled", 0)


def test_outcomes_are_written_only_on_the_rows_the_claim_still_holds(session_factory, caplog):
    # Three deliveries claimed by a; b takes one over once a's lease ran out. a's outcomes, in
    # one call: "sent" (written in one statement, no row loaded) for one row it holds and for
    # the one it lost, a failed try for the third. The lost row keeps b's claim, untouched.
    from tracker.alerts.claims import begin_try
    from tracker.alerts.outcomes import Outcome, record_many

    for _ in range(3):
        subscribe(session_factory)
    crossing(session_factory)
    lease = timedelta(seconds=30)
    first, second, third = claim(session_factory, NOW, 10, lease, token="a" * 32)
    for row in (first, second, third):
        begin_try(session_factory, [row], "a" * 32, NOW, lease)
    with session_factory.begin() as session:  # a's lease ran out on `second` alone
        session.get_one(Delivery, second).claimed_until = NOW - timedelta(seconds=1)
    assert claim(session_factory, NOW, 10, lease, token="b" * 32) == [second]
    written = [
        ([first], Outcome("sent")),
        ([second], Outcome("sent")),
        ([third], Outcome("tried", "503 from the receiver")),
    ]
    assert record_many(session_factory, written, "a" * 32, NOW, 5) == [["sent"], [], ["retried"]]
    rows = {d.id: d for d in deliveries(session_factory)}
    assert (rows[first].state, rows[first].sent_at, rows[first].claimed_until) == (
        "sent",
        NOW,
        None,
    )
    assert (rows[second].state, rows[second].claim_token, rows[second].sent_at) == (
        "sending",
        "b" * 32,
        None,
    )
    assert (rows[third].state, rows[third].last_error) == ("pending", "503 from the receiver")
    assert rows[third].due_at == NOW + backoff(1)
    assert f"deliveries [{second}]: taken over by another dispatcher" in caplog.text
