"""The dispatcher's batches, tried to break: a batch's tries are committed together before its
sends, webhooks go out concurrently, e-mails one after the other on one kept connection, and
outcomes are written together. A crash mid-batch, one failing receiver among many, an SMTP
connection dropped mid-batch: each delivery still ends exactly as if it had been sent alone."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from statuses import member, page, status
from support.alert_receivers import webhook_receiver

from db.models import Delivery, Subscription
from tracker.alerts import subscriptions
from tracker.alerts.channels import Message, Recipient
from tracker.alerts.dispatch import dispatch_due
from tracker.alerts.email import EmailChannel
from tracker.alerts.webhook import WebhookChannel
from tracker.services.ingest import ingest_page
from tracker.settings import DEFAULTS, Settings

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]

LOOPBACK = "127.0.0.0/8"
NOW = datetime(2020, 3, 10, 12, tzinfo=UTC)


def webhooks(session_factory, settings: Settings, urls: list[str]) -> list[int]:
    config = settings.replace(webhook_allowlist=(LOOPBACK,))
    with session_factory.begin() as session:
        return [
            subscriptions.create(
                session, config, channel="webhook", target=url, kinds=["consent"], now=NOW
            ).id
            for url in urls
        ]


def emails(session_factory, settings: Settings, n: int) -> None:
    settings = settings.replace(
        secret_key="test-secret-key-0123456789abcdef", smtp_url="smtp://127.0.0.1:25"
    )
    with session_factory.begin() as session:
        for i in range(n):
            sub = subscriptions.create(
                session,
                settings,
                channel="email",
                target=f"reader{i}@example.org",
                kinds=["consent"],
                now=NOW,
            )
            subscriptions.confirm(session, sub.id, NOW)


def one_consent_event(session_factory) -> None:
    parties = [member(f"State {i}", None, consent=f"2020-01-{i + 1:02d}") for i in range(28)]
    ingest_page(session_factory, page(status(*parties), "2020-02-01"))
    austria = member("Austria", "AUT", consent="2020-01-30")
    ingest_page(session_factory, page(status(*parties, austria), "2020-03-01"))


def rows(session_factory) -> list[Delivery]:
    with session_factory() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


class Crash(BaseException):
    """What a dying process looks like from inside: not a failure of one send."""


class CrashingChannel:
    """Keeps what it is sent; the `at`-th send crashes the dispatcher before it is handed over."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.sent: list[Message] = []
        self.calls = 0

    def send(self, recipient: Recipient, message: Message) -> None:
        self.calls += 1
        if self.calls == self.at:
            raise Crash
        self.sent.append(message)


def test_a_crash_mid_batch_counts_only_the_try_it_cut_and_the_rest_go_out_later_with_their_keys(
    session_factory,
):
    from statuses import subscribe

    for _ in range(6):
        subscribe(session_factory, kinds=["consent"])
    one_consent_event(session_factory)
    keys = {d.id: d.idempotency_key for d in rows(session_factory)}
    assert len(keys) == 6
    crashing = CrashingChannel(at=3)
    with pytest.raises(Crash):
        dispatch_due(session_factory, {"webhook": crashing}, now=lambda: NOW)
    at_crash = {d.id: d for d in rows(session_factory)}
    sent = {d.id for d in at_crash.values() if d.state == "sent"}
    # What was handed over before the crash was written; the try the crash cut is counted (it
    # was committed as the message was handed over); the rest of the batch, still waiting its
    # turn, has no try counted: held under the claim, never sent.
    assert {m.idempotency_key for m in crashing.sent} == {keys[i] for i in sent}
    assert len(sent) == 2
    unsent = set(keys) - sent
    assert all(at_crash[i].state == "sending" for i in unsent)
    assert sorted(at_crash[i].attempts for i in unsent) == [0, 0, 0, 1]
    cut = {i for i in unsent if at_crash[i].attempts == 1}
    # Before the lease runs out nobody takes them; after it, they go out once, same keys.
    inbox = CrashingChannel(at=0)
    assert dispatch_due(session_factory, {"webhook": inbox}, now=lambda: NOW).claimed == 0
    later = NOW + timedelta(minutes=6)
    report = dispatch_due(session_factory, {"webhook": inbox}, now=lambda: later)
    assert report.sent == len(unsent)
    assert sorted(m.idempotency_key for m in inbox.sent) == sorted(keys[i] for i in unsent)
    final = {d.id: d for d in rows(session_factory)}
    assert {d.state for d in final.values()} == {"sent"}
    assert all(final[i].attempts == 2 for i in cut)  # the cut try, then the real one
    assert all(final[i].attempts == 1 for i in set(keys) - cut)


def test_an_event_is_rendered_once_for_all_its_subscribers_and_each_message_is_their_own(
    session_factory, monkeypatch
):
    """What an event says is rendered once per batch, not once per delivery; each message
    still carries its own delivery key and subscription, and says what a message rendered
    alone for that delivery says."""
    from statuses import subscribe

    from tracker.alerts import messages, sending

    for _ in range(5):
        subscribe(session_factory, kinds=["consent"])
    one_consent_event(session_factory)
    calls = Counter()

    def counted(ctx, public_url):
        calls[ctx.event.id] += 1
        return messages.event_message(ctx, public_url)

    monkeypatch.setattr(sending, "event_message", counted)
    inbox = CrashingChannel(at=0)
    assert dispatch_due(session_factory, {"webhook": inbox}, now=lambda: NOW).sent == 5
    assert list(calls.values()) == [1]
    by_key = {m.idempotency_key: m for m in inbox.sent}
    with session_factory() as session:
        for delivery in session.scalars(select(Delivery)):
            alone = messages.render(
                messages.load_context(session, delivery),
                delivery,
                session.get_one(Subscription, delivery.subscription_id),
                DEFAULTS.public_url,
            )
            assert by_key[delivery.idempotency_key] == alone
    assert len({m.payload["subscription"] for m in inbox.sent}) == 5


def test_one_failing_webhook_in_a_concurrent_batch_leaves_the_others_sent(
    session_factory, settings
):
    with webhook_receiver(delay=0.05, jitter=0.05, failing="/fail/") as receiver:
        paths = [f"/ok/{i}" for i in range(9)] + ["/fail/0"]
        ids = webhooks(session_factory, settings, [receiver.url(p) for p in paths])
        one_consent_event(session_factory)
        channel = WebhookChannel([LOOPBACK], concurrency=5)
        seen: list[int] = []
        active = [0]
        lock = threading.Lock()
        send = channel.send

        def counting(recipient: Recipient, message: Message) -> None:
            with lock:
                active[0] += 1
                seen.append(active[0])
            try:
                send(recipient, message)
            finally:
                with lock:
                    active[0] -= 1

        channel.send = counting  # type: ignore[method-assign]
        try:
            report = dispatch_due(session_factory, {"webhook": channel}, now=lambda: NOW)
        finally:
            channel.close()
        received = receiver.snapshot()
    assert max(seen) > 1  # they were in flight together
    assert (report.sent, report.retried) == (9, 1)
    by_sub = {d.subscription_id: d for d in rows(session_factory)}
    failing = by_sub[ids[-1]]
    assert (failing.state, failing.attempts) == ("pending", 1)
    assert "HTTP 503" in (failing.last_error or "")
    for sub_id in ids[:-1]:
        d = by_sub[sub_id]
        assert (d.state, d.attempts, d.last_error) == ("sent", 1, None)
    counts = Counter(r.key for r in received)
    assert set(counts) == {d.idempotency_key for d in by_sub.values()}
    assert set(counts.values()) == {1}


class DroppingServer:
    """An aiosmtpd handler that closes the connection at the MAIL after its third message
    (a server going away between two messages) and refuses its sixth for now (451)."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.datas = 0
        self.dropped = False

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if len(self.received) == 3 and not self.dropped:
            self.dropped = True
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.3.0 going away"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.datas += 1
        if self.datas == 6:
            return "451 4.3.0 try again later"
        self.received.extend(envelope.rcpt_tos)
        return "250 OK"


def test_an_smtp_connection_dropped_mid_batch_is_reopened_and_each_message_goes_once(
    session_factory, settings
):
    from aiosmtpd.controller import Controller
    from support.alert_receivers import free_port

    emails(session_factory, settings, 8)
    one_consent_event(session_factory)
    server, port = DroppingServer(), free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    channel = EmailChannel(f"smtp://127.0.0.1:{port}", "Alerts <alerts@tracker.example>")
    try:
        report = dispatch_due(session_factory, {"email": channel}, now=lambda: NOW)
    finally:
        channel.close()
        controller.stop()
    assert server.dropped and server.datas == 8
    assert channel.connections == 2  # reopened after the drop, kept after the refusal
    final = rows(session_factory)
    assert (report.sent, report.retried) == (7, 1)
    refused = [d for d in final if d.state != "sent"]
    assert len(refused) == 1 and refused[0].state == "pending"
    assert "451" in (refused[0].last_error or "")
    got = Counter(server.received)
    assert len(got) == 7 and set(got.values()) == {1}  # the others once each
    assert all(d.attempts == 1 for d in final)


def test_the_doorbell_runs_the_dispatcher_at_once_not_at_its_next_poll(session_factory, settings):
    """The dispatcher job's next poll is a minute away; deliveries committed by an ingest ring
    the doorbell, and the webhook arrives within seconds. Without the wake-up, it would wait
    for the poll."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from tracker.runtime.scheduler import add_dispatcher

    config = settings.replace(webhook_allowlist=(LOOPBACK,))
    with webhook_receiver() as receiver:
        webhooks(session_factory, settings, [receiver.url("/hook/0")])
        scheduler = BackgroundScheduler(timezone=UTC)
        add_dispatcher(scheduler, config, datetime.now(UTC) + timedelta(seconds=60))
        scheduler.start()
        try:
            time.sleep(0.2)
            assert receiver.count() == 0
            committed = time.monotonic()
            one_consent_event(session_factory)
            while receiver.count() == 0 and time.monotonic() - committed < 20:
                time.sleep(0.02)
            took = time.monotonic() - committed
        finally:
            scheduler.shutdown(wait=True)
    assert receiver.count() == 1, "no webhook: the dispatcher was not woken"
    assert took < 20
    (delivery,) = rows(session_factory)
    assert delivery.state == "sent"


def test_a_crawl_child_rings_the_parents_doorbell_while_it_runs(tmp_path):
    """The crawl runner's wait loop reads the child's doorbell pipe and rings this process's
    doorbell as soon as a byte arrives, not when the child ends."""
    import os
    import subprocess
    import sys

    from tracker.alerts.wake import DOORBELL
    from tracker.runtime.crawl_runner import _wait

    rung: list[float] = []
    stop = DOORBELL.listen(lambda: rung.append(time.monotonic()))
    bell, ringer = os.pipe()
    code = f"import os, time; os.write({ringer}, b'!'); time.sleep(1.5)"
    try:
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-c", code], pass_fds=(ringer,))
        os.close(ringer)
        returncode, timed_out = _wait(proc, 30, bell)
        ended = time.monotonic()
    finally:
        stop()
        os.close(bell)
    assert (returncode, timed_out) == (0, False)
    assert len(rung) == 1
    assert rung[0] < ended - 1  # rung while the child still ran (it sleeps 1.5 s after)
    assert rung[0] - started < 1.4


def test_deliveries_rolled_back_ring_nobody(session_factory):
    """The outbox rings only when the transaction that wrote the deliveries commits."""
    from statuses import subscribe

    from tracker.alerts import outbox
    from tracker.alerts.wake import DOORBELL

    subscribe(session_factory, kinds=["consent"])
    one_consent_event(session_factory)  # a delivery, committed: one ring (before listening)
    (delivery,) = rows(session_factory)
    later = subscribe(session_factory, kinds=["consent"])
    rung: list[int] = []
    stop = DOORBELL.listen(lambda: rung.append(1))
    try:
        with pytest.raises(RuntimeError), session_factory.begin() as session:
            sub = session.get_one(Subscription, later)
            assert outbox.enqueue_to(session, delivery.event_id, [sub], NOW) == 1
            raise RuntimeError("rolled back")
        assert rung == []
        with session_factory.begin() as session:
            sub = session.get_one(Subscription, later)
            assert outbox.enqueue_to(session, delivery.event_id, [sub], NOW) == 1
            assert rung == []  # not before the commit
        assert rung == [1]
        assert len(rows(session_factory)) == 2
    finally:
        stop()


def _messages(n: int, target: str, secret: str | None = None) -> list[tuple[Recipient, Message]]:
    recipient = Recipient(1, "webhook" if secret else "email", target, secret)
    return [(recipient, Message(f"alert {i}", "text", {"n": i}, f"key-{i}")) for i in range(n)]


def test_a_webhook_try_is_counted_only_when_a_sender_is_free_to_make_it():
    """What `begin` counts is in flight at once: never more than the concurrency, so a kill
    cannot leave counted tries waiting in a queue (they would use up a working receiver's)."""
    events: list[tuple[str, int]] = []
    lock = threading.Lock()

    def begin(indexes: list[int]) -> list[int]:
        allowed = [i for i in indexes if i != 5]  # 5: taken over meanwhile, not sent
        with lock:
            events.extend(("begin", i) for i in allowed)
            counted = sum(1 for e, _ in events if e == "begin")
            ended = sum(1 for e, _ in events if e == "done")
            assert counted - ended <= 4, "a counted try is waiting, not in flight"
        return allowed

    def done(i: int, result: Exception | None) -> None:
        with lock:
            events.append(("done", i))
        assert result is None

    with webhook_receiver(delay=0.02, jitter=0.02) as receiver:
        channel = WebhookChannel(["127.0.0.0/8"], concurrency=4)
        try:
            results = channel.send_many(_messages(20, receiver.url("/hook"), "s3cret"), done, begin)
        finally:
            channel.close()
        got = sorted(int(r.key.split("-")[1]) for r in receiver.snapshot() if r.key)
    assert got == [i for i in range(20) if i != 5]
    assert results == [None] * 20
    assert sorted(i for e, i in events if e == "begin") == got
    assert sorted(i for e, i in events if e == "done") == got  # 5: never told, never sent
    peak = max(
        sum(1 for e, _ in events[: k + 1] if e == "begin")
        - sum(1 for e, _ in events[: k + 1] if e == "done")
        for k in range(len(events))
    )
    assert peak == 4  # the senders were kept busy, never more than they can take


def test_an_email_try_is_counted_while_the_one_before_is_on_the_connection_never_earlier():
    from support.alert_receivers import smtp_receiver

    order: list[tuple[str, int]] = []

    def begin(indexes: list[int]) -> list[int]:
        (i,) = indexes
        # Every message before i - 1 has its outcome: at most one counted try waits.
        assert {j for e, j in order if e == "done"} >= set(range(i - 1)), (i, order)
        order.append(("begin", i))
        return indexes

    def done(i: int, result: Exception | None) -> None:
        order.append(("done", i))
        assert result is None

    with smtp_receiver() as (inbox, port):
        channel = EmailChannel(f"smtp://127.0.0.1:{port}", "Alerts <alerts@tracker.example>")
        try:
            channel.send_many(_messages(12, "someone@example.org"), done, begin)
        finally:
            channel.close()
        deadline = time.monotonic() + 5
        while len(inbox.messages) < 12 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(inbox.messages) == 12
    assert [i for e, i in order if e == "done"] == list(range(12))  # in order, each once
    # The try of i is counted before i - 1's outcome is known (overlapping the server's answer).
    assert order.index(("begin", 3)) < order.index(("done", 2))
