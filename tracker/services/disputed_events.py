"""Rule events held as disputed: a rule event recorded while the evaluation disagrees with the
depositary's page is held (no deliveries); an agreeing evaluation later settles it (final, or
dropped when it no longer holds), or an operator confirms it (`tracker confirm ... --reason`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import Event, Snapshot, Treaty
from db.vocabulary import RULE_EVENT_KINDS
from tracker.alerts import outbox
from tracker.domain.evaluate import Evaluation
from tracker.services.repository import source_slug
from tracker.sources import registry

log = logging.getLogger("tracker.services.rule_events")  # the log lines of rule events


def _public_id(session: Session, treaty: Treaty) -> str:
    """The treaty's public id (WIPO-843, XXVI-9), as people name it."""
    slug = source_slug(session, treaty.source_id)
    return registry.public_id(slug, treaty.external_id) if slug else treaty.external_id


def still_holds(event: Event, ev: Evaluation) -> tuple[bool, str]:
    """Whether a rule event's condition holds on the evaluation; what the evaluation says."""
    if event.kind == "approaching":
        # Approaching means short of the threshold: with none left (met) it is past, not near.
        k = int(event.details.get("approaching_at") or 0)
        near = 0 < ev.remaining <= k and ev.threshold_met_on is None
        return near, f"{ev.remaining} instruments remain (approaching at {k})"
    if event.kind == "threshold_crossed":
        met = ev.threshold_met_on
        return met == event.legal_date, (
            f"the threshold is met on {met}" if met else "the threshold is not met"
        )
    eif = ev.computed
    return eif == event.legal_date, (
        f"entry into force computes to {eif}" if eif else "no entry into force follows"
    )


def _held(ev: Evaluation, snapshot: Snapshot, now: datetime) -> dict[str, Any]:
    """The details of a disputed rule event: why it is held, since when, from which page."""
    return {
        "disputed": {
            "reason": ev.disagreement,
            "since": now.isoformat(),
            "snapshot_id": snapshot.id,
        }
    }


def _disputed(session: Session, treaty: Treaty, kind: str | None = None) -> list[Event]:
    query = select(Event).where(
        Event.treaty_id == treaty.id,
        Event.kind.in_(RULE_EVENT_KINDS),
        Event.state == "disputed",
        Event.once_key.is_not(None),
    )
    if kind is not None:
        query = query.where(Event.kind == kind)
    return list(session.scalars(query.order_by(Event.id)))


def _leave_disputed(
    session: Session, event: Event, state: str, details: dict[str, Any], once_key: str | None
) -> bool:
    """Move a held event to `state`, unless another writer moved it first (the update is
    conditional: of two racing transactions, one changes the row, the other finds it settled)."""
    done = session.execute(
        update(Event)
        .where(Event.id == event.id, Event.state == "disputed")
        .values(state=state, details=details, once_key=once_key)
        .execution_options(synchronize_session=False)
    )
    session.refresh(event)
    return bool(done.rowcount)  # type: ignore[attr-defined]


def _release(session: Session, event: Event, how: dict[str, Any], now: datetime) -> int | None:
    """A held event becomes final and its deliveries are enqueued now, exactly once (it was
    never final before); None if it was no longer held."""
    details = {**event.details, "settled": how}
    if not _leave_disputed(session, event, "final", details, event.once_key):
        return None
    return outbox.enqueue(session, [event.id], now)


def settle_disputed(
    session: Session, treaty: Treaty, ev: Evaluation, snapshot: Snapshot, now: datetime
) -> list[str]:
    """On an evaluation that agrees with the depositary: each held rule event it still supports
    becomes final (deliveries enqueued now); one it no longer supports (another date) is
    dropped, `retracted` without a notice (it was never sent), so the right one fires."""
    settled = []
    for event in _disputed(session, treaty):
        holds, now_says = still_holds(event, ev)
        how = {"by": "evaluation", "at": now.isoformat(), "snapshot_id": snapshot.id}
        if holds:
            if (
                _release(session, event, how | {"reason": "the depositary's page agrees"}, now)
                is None
            ):
                continue
            log.info("%s: disputed %s is final: the page agrees", treaty.external_id, event.kind)
        else:
            dropped = {
                **event.details,
                "retracted_at": now.isoformat(),
                "retracted_reason": f"held as disputed; the page that agrees says: {now_says}",
                "retracted_by_snapshot": snapshot.id,
                "once_key": event.once_key,
            }
            # once_key freed: the event the agreeing page supports fires in its place
            if not _leave_disputed(session, event, "retracted", dropped, None):
                continue
        settled.append(event.kind)
    return settled


class NothingDisputed(LookupError):
    """An operator confirmation found no held rule event to confirm."""


def confirm_disputed(
    session: Session,
    treaty: Treaty,
    kind: str | None,
    *,
    reason: str,
    by: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """An operator's word that held rule events are right: each becomes final, its deliveries
    enqueued now; who and why are kept in its details."""
    if kind is not None and kind not in RULE_EVENT_KINDS:
        raise ValueError(f"not a rule event kind: {kind!r} (one of {', '.join(RULE_EVENT_KINDS)})")
    if not reason.strip():
        raise ValueError("a reason is required")
    held = _disputed(session, treaty, kind)
    if not held:
        what = f"no disputed {kind} event" if kind else "no disputed rule event"
        raise NothingDisputed(f"{_public_id(session, treaty)} has {what}")
    done = []
    for event in held:
        how = {"by": "operator", "operator": by, "reason": reason.strip(), "at": now.isoformat()}
        deliveries = _release(session, event, how, now)
        if deliveries is None:
            continue  # settled meanwhile by another writer
        log.warning(
            "%s: disputed %s confirmed by %s: %s", treaty.external_id, event.kind, by, reason
        )
        done.append(
            {
                "id": event.id,
                "kind": event.kind,
                "legal_date": event.legal_date.isoformat() if event.legal_date else None,
                "deliveries": deliveries,
            }
        )
    return done
