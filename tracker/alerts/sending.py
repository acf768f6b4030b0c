"""Sending claimed deliveries: grouped (a daily digest is one message), prepared, handed over.

`groups` makes one group per immediate delivery and one per daily digest; `prepare` loads and
renders the groups of a batch in one read, each event's context once (or says, per group, why
it will not be tried now: subscription ended, event withdrawn, no try left, channel not
configured, message not rendered); `send_batch` is the tries themselves (a channel with
`send_many` gets its messages at once), `send` one of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db import unit_of_work
from db.models import Delivery, Subscription
from tracker.alerts.channels import (
    Begin,
    Channel,
    DeliveryError,
    Message,
    Recipient,
    failure_of,
)
from tracker.alerts.digest import digest_of
from tracker.alerts.messages import AlertContext, EventMessage, event_message, load_context, render
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
    batch: list[list[int]],
    channels: Mapping[str, Channel],
    public_url: str,
    links: Links | None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> list[Prepared]:
    """Load and render each group of a claimed batch (no try yet), in one read: the batch's
    deliveries and subscriptions in one query each, each event's context once."""
    ids = [i for group in batch for i in group]
    with unit_of_work.read(sessions) as session:
        rows = {d.id: d for d in session.scalars(select(Delivery).where(Delivery.id.in_(ids)))}
        subs = {
            s.id: s
            for s in session.scalars(
                select(Subscription).where(
                    Subscription.id.in_({d.subscription_id for d in rows.values()})
                )
            )
        }
        unsendable = never_to_send(session, [rows[i] for i in ids])
        contexts: dict[int, tuple[AlertContext, EventMessage | None]] = {}
        return [
            _prepare(
                session,
                [rows[i] for i in group],
                subs,
                unsendable,
                contexts,
                channels,
                public_url,
                links,
                max_attempts,
            )
            for group in batch
        ]


def _prepare(
    session: Session,
    deliveries: list[Delivery],
    subs: Mapping[int, Subscription],
    unsendable: Mapping[int, str],
    contexts: dict[int, tuple[AlertContext, EventMessage | None]],
    channels: Mapping[str, Channel],
    public_url: str,
    links: Links | None,
    max_attempts: int,
) -> Prepared:
    """One claimed delivery, or one digest of several; `contexts`: the events' contexts loaded
    so far in this batch, with what their messages say to everyone (each loaded and rendered
    once)."""
    group = [d.id for d in deliveries]
    sub = subs[deliveries[0].subscription_id]
    recipient = Recipient(sub.id, sub.channel, sub.target, sub.secret)
    if sub.state != "active":
        return Prepared(recipient, skip=Outcome("cancelled", f"subscription {sub.state}"))
    mine = {d.id: unsendable[d.id] for d in deliveries if d.id in unsendable}
    if len(mine) == len(deliveries):
        return Prepared(recipient, skip=Outcome("cancelled", next(iter(mine.values()))))
    dropped = tuple(mine.items())
    deliveries = [d for d in deliveries if d.id not in mine]
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
        rendered = []
        for d in deliveries:
            known = contexts.get(d.event_id)
            if known is None:
                ctx = load_context(session, d)
                said = event_message(ctx, public_url) if ctx.treaty is not None else None
                known = contexts[d.event_id] = (ctx, said)
            rendered.append(render(known[0], d, sub, public_url, extra, said=known[1]))
        message = digest_of(rendered)
    except Exception as crash:  # a bug in rendering: not a try, never dead
        log.exception("deliveries %s: cannot render the message", group)
        reason = f"cannot render the message ({type(crash).__name__}); not tried"
        return Prepared(recipient, skip=Outcome("deferred", reason), dropped=dropped)
    return Prepared(recipient, channel, message, dropped=dropped)


def outcome_of(result: BaseException | None, target: str, group: list[int]) -> Outcome:
    """What a try came to: sent (None), or the failure, its reason redacted."""
    if result is None:
        return Outcome("sent")
    if isinstance(result, DeliveryError):
        kind = "" if result.retryable else " (refused; retried all the same)"
        return Outcome("tried", redact_text(result.reason, target) + kind)
    # a bug in a channel must not stop the others
    reason = redact_text(f"{type(result).__name__}: {result}", target)
    log.error("deliveries %s: channel error: %s", group, reason)
    return Outcome("tried", reason)


def send(prepared: Prepared, group: list[int]) -> Outcome:
    """Hand the message to its channel: the try itself."""
    assert prepared.channel is not None and prepared.message is not None
    failed = failure_of(prepared.channel.send, prepared.recipient, prepared.message)
    return outcome_of(failed, prepared.recipient.target, group)


def send_batch(
    tries: list[tuple[list[int], Prepared]],
    done: Callable[[int, Outcome], None],
    begin: Begin,
) -> None:
    """Hand each group's message to its channel: the tries themselves. `begin(indexes)` is
    called just before the groups at those indexes are handed over (counting their tries) and
    returns the ones to send; a channel with `send_many` calls it only for as many as it can
    send at once (a webhook: its free senders; e-mail: the next message on the connection), any
    other channel once per message. `done(i, outcome)` is called in this thread as each outcome
    of `tries[i]` is known. An exception that is no failure of one send (a crash:
    KeyboardInterrupt, SystemExit, a bug of the caller's `done`) goes up, leaving the rest
    untold."""
    by_channel: dict[int, list[int]] = {}
    for i, (_, prepared) in enumerate(tries):
        by_channel.setdefault(id(prepared.channel), []).append(i)
    for indexes in by_channel.values():
        channel = tries[indexes[0]][1].channel
        many = getattr(channel, "send_many", None)
        if many is None:
            for i in indexes:
                if begin([i]):
                    done(i, send(tries[i][1], tries[i][0]))
            continue
        items = [(tries[i][1].recipient, tries[i][1].message) for i in indexes]

        def told(k: int, result: BaseException | None, indexes: list[int] = indexes) -> None:
            i = indexes[k]
            done(i, outcome_of(result, tries[i][1].recipient.target, tries[i][0]))

        def started(ks: list[int], indexes: list[int] = indexes) -> list[int]:
            allowed = set(begin([indexes[k] for k in ks]))
            return [k for k in ks if indexes[k] in allowed]

        many(items, told, started)
