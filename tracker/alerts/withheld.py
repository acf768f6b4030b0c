"""Deliveries never to be sent: a retracted or disputed event, a notice with nothing to withdraw.

A delivery whose event was retracted (tracker.services.retraction) or is held as disputed is
never sent; a retraction notice goes out only where the retracted alert may have arrived (sent,
or tried at least once).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Delivery, Event

# Event states whose deliveries are never sent: retracted, or held as disputed.
NEVER_SENT: tuple[str, ...] = ("retracted", "disputed")
DISPUTED = "event disputed (held until the depositary's page agrees or an operator confirms it)"


def never_to_send(session: Session, deliveries: list[Delivery]) -> dict[int, str]:
    """The deliveries that must never be sent, with why: their event was retracted; or it is a
    retraction notice and the retracted alert never reached this subscriber (no try of it)."""
    retracted = retracted_events(session, [d.event_id for d in deliveries])
    found = {
        d.id: "event retracted before it was sent" for d in deliveries if d.event_id in retracted
    }
    held = _disputed(session, [d.event_id for d in deliveries if d.id not in found])
    found |= {d.id: DISPUTED for d in deliveries if d.event_id in held}
    events = {
        e.id: e
        for e in session.scalars(
            select(Event).where(Event.id.in_({d.event_id for d in deliveries}))
        )
    }
    for d in deliveries:
        notice = events.get(d.event_id)
        if d.id in found or notice is None or notice.kind != "retraction":
            continue
        original = session.scalar(
            select(Delivery).where(
                Delivery.event_id == notice.details.get("retracted_event"),
                Delivery.subscription_id == d.subscription_id,
            )
        )
        if original is None or (original.state != "sent" and original.attempts == 0):
            found[d.id] = "the withdrawn alert never reached this subscriber: nothing to withdraw"
    return found


def _disputed(session: Session, event_ids: list[int]) -> set[int]:
    """Which of these events are held as disputed (never sent while they are). The outbox
    writes no delivery for one; a delivery that exists all the same is cancelled, not sent (the
    event's own deliveries are enqueued when it becomes final)."""
    if not event_ids:
        return set()
    query = select(Event.id).where(Event.id.in_(set(event_ids)), Event.state == "disputed")
    return set(session.scalars(query))


def retracted_events(session: Session, event_ids: list[int]) -> set[int]:
    """Which of these events were retracted (never to be sent from now on)."""
    if not event_ids:
        return set()
    query = select(Event.id).where(Event.id.in_(set(event_ids)), Event.state == "retracted")
    return set(session.scalars(query))
