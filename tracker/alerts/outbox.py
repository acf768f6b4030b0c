"""The outbox: for each new alertable event, one delivery row per matching active subscription,
written in the transaction that writes the event (so an event is never without its deliveries).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Delivery, Event, Source, Subscription, Treaty
from db.models import Participant as ParticipantRow
from tracker.alerts.policy import EventFacts, Filters, next_digest, wants
from tracker.alerts.redact import redact_target, redact_text
from tracker.alerts.wake import ring_after_commit
from tracker.sources import registry


def _public(slug: str | None, external_id: str | None) -> str | None:
    """A treaty's public id (what subscriptions filter on and people see); None: no treaty."""
    if slug is None or external_id is None:
        return None
    return registry.public_id(slug, external_id)


def facts(event: Event, treaty: str | None, iso3: str | None) -> EventFacts:
    details = event.details or {}
    return EventFacts(
        kind=event.kind,
        treaty=treaty,
        iso3=iso3 or details.get("iso3"),
        state=event.state,
        baseline=bool(details.get("baseline")),
    )


def filters_of(sub: Subscription) -> Filters:
    return Filters(tuple(sub.treaties or ()), tuple(sub.countries or ()), tuple(sub.kinds or ()))


def _delivery(event_id: int, sub: Subscription, now: datetime) -> Delivery:
    """A new pending delivery of an event to a subscription (a digest waits for its hour)."""
    return Delivery(
        event_id=event_id,
        subscription_id=sub.id,
        idempotency_key=uuid.uuid4().hex,
        state="pending",
        attempts=0,
        due_at=next_digest(now) if sub.digest == "daily" else now,
    )


_ACTIVE = select(Subscription).where(Subscription.state == "active")


def enqueue(session: Session, event_ids: Iterable[int], now: datetime) -> int:
    """Write the deliveries of these events (in the caller's transaction); return how many."""
    ids = list(event_ids)
    if not ids:
        return 0
    subscriptions = list(session.scalars(_ACTIVE))
    if not subscriptions:
        return 0
    rows = session.execute(
        select(Event, Treaty.external_id, Source.slug, ParticipantRow.iso3)
        .outerjoin(Treaty, Treaty.id == Event.treaty_id)  # None: an event about a source
        .outerjoin(Source, Source.id == Treaty.source_id)
        .outerjoin(ParticipantRow, ParticipantRow.id == Event.participant_id)
        .where(Event.id.in_(ids))
    ).all()
    added = 0
    for event, treaty, slug, iso3 in rows:
        # Subscriptions name treaties by public id (tracker subscribe --treaty WIPO-843).
        about = facts(event, _public(slug, treaty), iso3)
        for sub in subscriptions:
            if not wants(filters_of(sub), about):
                continue
            session.add(_delivery(event.id, sub, now))
            added += 1
    session.flush()
    if added:
        ring_after_commit(session)  # the dispatcher sends them at once, not at its next poll
    return added


def enqueue_to(
    session: Session, event_id: int, subscriptions: Iterable[Subscription], now: datetime
) -> int:
    """Write deliveries of one event to exactly these subscriptions, whatever their filters
    (a retraction notice goes to whoever was sent the retracted event); return how many."""
    added = 0
    for sub in subscriptions:
        if sub.state != "active":
            continue
        session.add(_delivery(event_id, sub, now))
        added += 1
    session.flush()
    if added:
        ring_after_commit(session)
    return added


def deliveries(
    session: Session, state: str | None = None, limit: int = 100, source: str | None = None
) -> list[tuple[Delivery, Event, str | None, str | None, Subscription]]:
    """The outbox, newest first: each delivery with its event, the event's treaty (its public id;
    None for an event about a source) and its subscription; `source`: only the deliveries of
    that source's events (its treaties', and its own health alerts)."""
    query = (
        select(Delivery, Event, Treaty.external_id, Source.slug, Subscription)
        .join(Event, Event.id == Delivery.event_id)
        .outerjoin(Treaty, Treaty.id == Event.treaty_id)
        .outerjoin(Source, Source.id == func.coalesce(Treaty.source_id, Event.source_id))
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    if state is not None:
        query = query.where(Delivery.state == state)
    if source is not None:
        query = query.where(Source.slug == source)
    return [
        (d, e, _public(slug, treaty), slug, s) for d, e, treaty, slug, s in session.execute(query)
    ]


def delivery_rows(
    session: Session, state: str | None = None, limit: int = 100, source: str | None = None
) -> list[dict[str, Any]]:
    """The outbox as operators read it, newest first: each delivery with its event and its
    subscription, credentials in targets and errors masked (tracker.alerts.redact)."""
    return [
        {
            "id": d.id,
            "state": d.state,
            "event": {
                "id": e.id,
                "kind": e.kind,
                "treaty": treaty,
                "source": slug,
                "participant": e.participant_name,
                "legal_date": e.legal_date,
            },
            "subscription": {
                "id": s.id,
                "channel": s.channel,
                "target": redact_target(s.channel, s.target),
            },
            "idempotency_key": d.idempotency_key,
            "attempts": d.attempts,
            "last_error": redact_text(d.last_error, s.target, s.channel) if d.last_error else None,
            "due_at": d.due_at,
            "sent_at": d.sent_at,
            "created_at": d.created_at,
        }
        for d, e, treaty, slug, s in deliveries(session, state, limit, source)
    ]
