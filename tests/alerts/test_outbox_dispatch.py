"""The outbox and the dispatcher with an in-memory channel: one delivery per (event, matching
subscription) in the event's transaction; sent once; retried with backoff; dead after N tries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from statuses import member, page, status

from db.models import Delivery, Event, Subscription
from tracker.alerts.channels import DeliveryError, Message, Recipient
from tracker.alerts.dispatch import claim, dispatch_due
from tracker.alerts.model import EventFacts, Filters, backoff, next_digest, wants
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


def subscribe(session_factory, **kw) -> int:
    with session_factory.begin() as session:
        sub = Subscription(
            channel="webhook",
            target="https://hooks.example/x",
            secret="k",
            treaties=kw.get("treaties", []),
            countries=kw.get("countries", []),
            kinds=kw.get("kinds", []),
            digest=kw.get("digest", "immediate"),
            state=kw.get("state", "active"),
        )
        session.add(sub)
        session.flush()
        return sub.id


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
    ((recipient, message),) = inbox.sent
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
    from tracker.services.ingest import record_crawl

    ops = subscribe(session_factory, kinds=["source_unhealthy", "source_recovered"])
    subscribe(session_factory, treaties=["XXVI-9"])  # a treaty watcher hears nothing of it
    record_crawl(session_factory, "untc", {"pages": 3}, True, None, NOW)
    for hours in (1, 2):  # two failed crawls in a row: unhealthy
        record_crawl(
            session_factory,
            "untc",
            {"pages": 0},
            False,
            "0 pages, 1 failed",
            NOW + timedelta(hours=hours),
        )
    record_crawl(session_factory, "untc", {"pages": 3}, True, None, NOW + timedelta(hours=3))
    inbox = Inbox()
    assert (
        dispatch_due(session_factory, {"webhook": inbox}, now=lambda: NOW + timedelta(hours=4)).sent
        == 2
    )
    assert {r.id for r, _ in inbox.sent} == {ops}
    subjects = [m.subject for _, m in inbox.sent]
    assert subjects == ["Source untc is unhealthy", "Source untc recovered"]
    assert "2 consecutive failed or quarantined crawls" in inbox.sent[0][1].text
    with session_factory() as session:
        kinds = [e.kind for e in session.scalars(select(Event).order_by(Event.id))]
    assert kinds == ["source_unhealthy", "source_recovered"]
    # The outbox lists them too (the API's and the CLI's listing), with no treaty.
    from tracker.alerts.outbox import deliveries as outbox_rows

    with session_factory() as session:
        listed = [(e.kind, treaty, d.state) for d, e, treaty, _ in outbox_rows(session, "sent")]
    assert listed == [("source_recovered", None, "sent"), ("source_unhealthy", None, "sent")]
