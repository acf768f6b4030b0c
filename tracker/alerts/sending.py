"""Sending claimed deliveries: grouped (a daily digest is one message), prepared, handed over.

`groups` makes one group per immediate delivery and one per daily digest; `prepare` loads and
renders a group (or says why it will not be tried now: subscription ended, event withdrawn, no
try left, channel not configured, message not rendered); `send` is the try itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db import unit_of_work
from db.models import Delivery, Subscription
from tracker.alerts.channels import Channel, DeliveryError, Message, Recipient
from tracker.alerts.digest import digest_of
from tracker.alerts.messages import load_context, render
from tracker.alerts.outcomes import DEFAULT_MAX_ATTEMPTS, Outcome
from tracker.alerts.redact import redact_text
from tracker.alerts.withheld import never_to_send

log = logging.getLogger("tracker.alerts")

Links = Callable[[int], dict[str, str]]


def groups(sessions: sessionmaker[Session], claimed: dict[int, str | None]) -> list[list[int]]:
    """One group per immediate delivery; for daily digests one per (subscription, earlier
    claim): a digest claimed again after a crash or a failed try is re-sent whole, same key."""
    with unit_of_work.read(sessions) as session:
        rows = session.execute(
            select(Delivery.id, Delivery.subscription_id, Subscription.digest)
            .join(Subscription, Subscription.id == Delivery.subscription_id)
            .where(Delivery.id.in_(list(claimed)))
            .order_by(Delivery.id)
        ).all()
    single = [[d] for d, _, digest in rows if digest != "daily"]
    daily: dict[tuple[int, str | None], list[int]] = {}
    for d, sub, digest in rows:
        if digest == "daily":
            daily.setdefault((sub, claimed[d]), []).append(d)
    return single + list(daily.values())


@dataclass(frozen=True)
class Prepared:
    """A group ready to send, or the reason it will not be tried now."""

    recipient: Recipient
    channel: Channel | None = None
    message: Message | None = None
    skip: Outcome | None = None
    # rows left out of the group (a digest), never to be sent, each with why: cancelled
    dropped: tuple[tuple[int, str], ...] = ()


def prepare(
    sessions: sessionmaker[Session],
    group: list[int],
    channels: Mapping[str, Channel],
    public_url: str,
    links: Links | None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Prepared:
    """Load and render one claimed delivery, or one digest of several (no try yet)."""
    with unit_of_work.read(sessions) as session:
        deliveries = [session.get_one(Delivery, i) for i in group]
        sub = session.get_one(Subscription, deliveries[0].subscription_id)
        recipient = Recipient(sub.id, sub.channel, sub.target, sub.secret)
        if sub.state != "active":
            return Prepared(recipient, skip=Outcome("cancelled", f"subscription {sub.state}"))
        unsendable = never_to_send(session, deliveries)
        if len(unsendable) == len(deliveries):
            return Prepared(recipient, skip=Outcome("cancelled", next(iter(unsendable.values()))))
        dropped = tuple(unsendable.items())
        deliveries = [d for d in deliveries if d.id not in unsendable]
        if any(d.attempts >= max_attempts for d in deliveries):  # the last try was cut short
            reason = (
                f"tried {max_attempts} times; the last try was interrupted (the dispatcher "
                f"stopped during the send), its outcome unknown; last error: "
                f"{deliveries[0].last_error or 'none'}"
            )
            return Prepared(recipient, skip=Outcome("exhausted", reason), dropped=dropped)
        channel = channels.get(sub.channel)
        if channel is None:
            reason = f"channel {sub.channel} is not configured in this dispatcher; not tried"
            return Prepared(recipient, skip=Outcome("deferred", reason), dropped=dropped)
        try:
            extra = links(sub.id) if links and sub.channel == "email" else None
            message = digest_of(
                [render(load_context(session, d), d, sub, public_url, extra) for d in deliveries]
            )
        except Exception as crash:  # a bug in rendering: not a try, never dead
            log.exception("deliveries %s: cannot render the message", group)
            reason = f"cannot render the message ({type(crash).__name__}); not tried"
            return Prepared(recipient, skip=Outcome("deferred", reason), dropped=dropped)
    return Prepared(recipient, channel, message, dropped=dropped)


def send(prepared: Prepared, group: list[int]) -> Outcome:
    """Hand the message to its channel: the try itself."""
    assert prepared.channel is not None and prepared.message is not None
    target = prepared.recipient.target
    try:
        prepared.channel.send(prepared.recipient, prepared.message)
    except DeliveryError as failed:
        kind = "" if failed.retryable else " (refused; retried all the same)"
        return Outcome("tried", redact_text(failed.reason, target) + kind)
    except Exception as crash:  # noqa: BLE001 (a bug in a channel must not stop the others)
        reason = redact_text(f"{type(crash).__name__}: {crash}", target)
        log.error("deliveries %s: channel error: %s", group, reason)
        return Outcome("tried", reason)
    return Outcome("sent")
