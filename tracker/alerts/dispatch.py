"""The dispatcher: claim due deliveries, send them, record each outcome; retry with backoff.

A claim marks rows `sending` with a lease and counts the attempt, in its own transaction
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so dispatchers never claim the same row; SQLite
serializes writers). The send happens outside any transaction; the outcome is written after.
A process killed between claim and outcome loses nothing: when the lease expires the row is
claimed again and sent with the same idempotency key, the only way a delivery repeats.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from db.engine import SQLITE_BEGIN
from db.models import Delivery, Subscription
from tracker.alerts.channels import Channel, DeliveryError, Message, Recipient
from tracker.alerts.messages import load_context, render
from tracker.alerts.model import backoff

log = logging.getLogger("tracker.alerts")

DEFAULT_BATCH = 200
DEFAULT_LEASE = timedelta(minutes=5)
DEFAULT_MAX_ATTEMPTS = 8
Links = Callable[[int], dict[str, str]]


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0

    def summary(self) -> str:
        return (
            f"dispatch: {self.claimed} claimed, {self.sent} sent, {self.retried} to retry, "
            f"{self.dead} dead"
        )


def claim(
    sessions: sessionmaker[Session], now: datetime, batch: int, lease: timedelta
) -> list[int]:
    """Take up to `batch` due deliveries (or ones whose lease ran out) for this process."""
    return list(_claim(sessions, now, batch, lease))


def _claim(
    sessions: sessionmaker[Session], now: datetime, batch: int, lease: timedelta
) -> dict[int, datetime | None]:
    """Claim a batch; map each id to its previous lease (None: a fresh row), which tells the
    rows of one earlier claim apart so that a re-claimed digest keeps its composition."""
    with sessions.begin() as session:
        session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
        due = or_(
            and_(Delivery.state == "pending", Delivery.due_at <= now),
            and_(Delivery.state == "sending", Delivery.claimed_until < now),
        )
        query = (
            select(Delivery.id, Delivery.claimed_until)
            .where(due)
            .order_by(Delivery.due_at, Delivery.id)
            .limit(batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claimed = {i: previous for i, previous in session.execute(query)}
        if claimed:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(list(claimed)))
                .values(
                    state="sending",
                    claimed_until=now + lease,
                    attempts=Delivery.attempts + 1,
                )
            )
    return claimed


def _outcomes(
    sessions: sessionmaker[Session],
    group: list[int],
    now: datetime,
    error: DeliveryError | None,
    max_attempts: int,
) -> list[str]:
    """Record one send's outcome on all its deliveries, in one transaction (a digest is one)."""
    results = []
    with sessions.begin() as session:
        session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
        for delivery_id in group:
            row = session.get_one(Delivery, delivery_id, with_for_update=True)
            row.claimed_until = None
            if error is None:
                row.state, row.sent_at, row.last_error = "sent", now, None
            elif error.retryable and row.attempts < max_attempts:
                row.state, row.due_at = "pending", now + backoff(row.attempts)
                row.last_error = error.reason[:2000]
            else:
                row.state, row.last_error = "dead", error.reason[:2000]
            results.append({"sent": "sent", "pending": "retried", "dead": "dead"}[row.state])
    return results


def _groups(
    sessions: sessionmaker[Session], claimed: dict[int, datetime | None]
) -> list[list[int]]:
    """One group per immediate delivery; for daily digests one per (subscription, earlier
    claim): a digest re-claimed after a crash is re-sent whole, with the same key."""
    with sessions() as session:
        rows = session.execute(
            select(Delivery.id, Delivery.subscription_id, Subscription.digest)
            .join(Subscription, Subscription.id == Delivery.subscription_id)
            .where(Delivery.id.in_(list(claimed)))
            .order_by(Delivery.id)
        ).all()
    single = [[d] for d, _, digest in rows if digest != "daily"]
    daily: dict[tuple[int, datetime | None], list[int]] = {}
    for d, sub, digest in rows:
        if digest == "daily":
            daily.setdefault((sub, claimed[d]), []).append(d)
    return single + list(daily.values())


def _in_order(message: Message) -> tuple[str, str, str]:
    event = message.payload["event"]
    return (event["observed_at"], event.get("legal_date") or "", event.get("participant") or "")


def digest_of(messages: list[Message]) -> Message:
    """Several alerts as one message; its key is derived from theirs (the same on a retry)."""
    if len(messages) == 1:
        return messages[0]
    keys = "".join(sorted(m.idempotency_key for m in messages))
    messages = sorted(messages, key=_in_order)
    first = messages[0]
    return Message(
        subject=f"Treaty tracker: {len(messages)} updates (daily digest)",
        text="\n----\n\n".join(m.text for m in messages),
        payload={"digest": [m.payload for m in messages]},
        idempotency_key="digest-" + hashlib.sha256(keys.encode()).hexdigest()[:40],
        unsubscribe_url=first.unsubscribe_url,
        manage_url=first.manage_url,
    )


def _send(
    sessions: sessionmaker[Session],
    group: list[int],
    channels: Mapping[str, Channel],
    public_url: str,
    links: Links | None,
) -> None:
    """Render and send one claimed delivery, or one digest of several; raise DeliveryError."""
    with sessions() as session:
        deliveries = [session.get_one(Delivery, i) for i in group]
        sub = session.get_one(Subscription, deliveries[0].subscription_id)
        if sub.state != "active":
            raise DeliveryError(f"subscription {sub.id} is {sub.state}", retryable=False)
        channel = channels.get(sub.channel)
        if channel is None:
            raise DeliveryError(f"channel {sub.channel} is not configured")
        extra = links(sub.id) if links and sub.channel == "email" else None
        message = digest_of(
            [render(load_context(session, d), d, sub, public_url, extra) for d in deliveries]
        )
        recipient = Recipient(sub.id, sub.channel, sub.target, sub.secret)
    channel.send(recipient, message)


def dispatch_due(
    sessions: sessionmaker[Session],
    channels: Mapping[str, Channel],
    *,
    public_url: str = "http://127.0.0.1:8000",
    links: Links | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    batch: int = DEFAULT_BATCH,
    lease: timedelta = DEFAULT_LEASE,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> DispatchReport:
    """Deliver everything due now, batch after batch, once each; report what happened."""
    report = DispatchReport()
    while claimed := _claim(sessions, now(), batch, lease):
        report.claimed += len(claimed)
        for group in _groups(sessions, claimed):
            error: DeliveryError | None = None
            try:
                _send(sessions, group, channels, public_url, links)
            except DeliveryError as failed:
                error = failed
            except Exception as crash:  # a bug in a channel must not stop the others
                log.exception("deliveries %s: channel error", group)
                error = DeliveryError(f"{type(crash).__name__}: {crash}")
            for result in _outcomes(sessions, group, now(), error, max_attempts):
                setattr(report, result, getattr(report, result) + 1)
    if report.claimed:
        log.info("%s", report.summary(), extra={"event": "dispatch", **report.__dict__})
    return report
