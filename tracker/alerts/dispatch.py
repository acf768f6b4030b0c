"""The dispatcher: claim due deliveries, send them, record each outcome; retry with backoff.

A claim marks rows `sending` with a lease and counts the attempt, in its own transaction
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so dispatchers never claim the same row; SQLite
serializes writers). The send happens outside any transaction; the outcome is written after.
A process killed between claim and outcome loses nothing: when the lease expires the row is
claimed again and sent with the same idempotency key, the only way a delivery repeats.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from db.engine import SQLITE_BEGIN
from db.models import Delivery, Subscription
from tracker.alerts.channels import Channel, DeliveryError, Recipient
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
    with sessions.begin() as session:
        session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
        due = or_(
            and_(Delivery.state == "pending", Delivery.due_at <= now),
            and_(Delivery.state == "sending", Delivery.claimed_until < now),
        )
        query = select(Delivery.id).where(due).order_by(Delivery.due_at, Delivery.id).limit(batch)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if ids:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(
                    state="sending",
                    claimed_until=now + lease,
                    attempts=Delivery.attempts + 1,
                )
            )
    return ids


def _outcome(
    sessions: sessionmaker[Session],
    delivery_id: int,
    now: datetime,
    error: DeliveryError | None,
    max_attempts: int,
) -> str:
    with sessions.begin() as session:
        session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
        row = session.get_one(Delivery, delivery_id, with_for_update=True)
        if error is None:
            row.state, row.sent_at, row.last_error, row.claimed_until = "sent", now, None, None
            return "sent"
        row.last_error = error.reason[:2000]
        row.claimed_until = None
        if error.retryable and row.attempts < max_attempts:
            row.state, row.due_at = "pending", now + backoff(row.attempts)
            return "retried"
        row.state = "dead"
        return "dead"


def _send_one(
    sessions: sessionmaker[Session],
    delivery_id: int,
    channels: Mapping[str, Channel],
    public_url: str,
    links: Links | None,
) -> None:
    """Render and send one claimed delivery; raise DeliveryError on failure."""
    with sessions() as session:
        delivery = session.get_one(Delivery, delivery_id)
        sub = session.get_one(Subscription, delivery.subscription_id)
        if sub.state != "active":
            raise DeliveryError(f"subscription {sub.id} is {sub.state}", retryable=False)
        channel = channels.get(sub.channel)
        if channel is None:
            raise DeliveryError(f"channel {sub.channel} is not configured")
        message = render(
            load_context(session, delivery),
            delivery,
            sub,
            public_url,
            links(sub.id) if links and sub.channel == "email" else None,
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
    while ids := claim(sessions, now(), batch, lease):
        report.claimed += len(ids)
        for delivery_id in ids:
            error: DeliveryError | None = None
            try:
                _send_one(sessions, delivery_id, channels, public_url, links)
            except DeliveryError as failed:
                error = failed
            except Exception as crash:  # a bug in a channel must not stop the others
                log.exception("delivery %d: channel error", delivery_id)
                error = DeliveryError(f"{type(crash).__name__}: {crash}")
            result = _outcome(sessions, delivery_id, now(), error, max_attempts)
            setattr(report, result, getattr(report, result) + 1)
    if report.claimed:
        log.info("%s", report.summary(), extra={"event": "dispatch", **report.__dict__})
    return report
