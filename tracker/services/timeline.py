"""History of an accepted snapshot: action rows opened and closed, change events and states."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from db.models import ActionRow, Event
from tracker.alerts import outbox
from tracker.domain.changes import Change, ChangeKind, diff
from tracker.domain.models import Participant, TreatyStatus
from tracker.services.repository import participant_ids, table_of

# What makes an action row "the same" from one snapshot to the next.
ActionIdentity = tuple[int, str, str, str, str, date, bool]
# What makes two rows the same legal act (a withdrawal or a rename keeps its first observation).
ActOf = tuple[int, str, str, date]

DISAPPEARED = ChangeKind.PARTICIPANT_DISAPPEARED.value


def _identities(status: TreatyStatus, ids: dict[str, int]) -> Counter[ActionIdentity]:
    found: Counter[ActionIdentity] = Counter()
    for p in status.participants:
        for a in p.actions:
            found[(ids[p.key], p.name, a.column.value, a.kind, a.letter, a.date, a.withdrawn)] += 1
    return found


def _earliest_observations(
    session: Session, treaty_id: int, acts: set[ActOf]
) -> dict[ActOf, datetime]:
    if not acts:
        return {}
    query = (
        select(
            ActionRow.participant_id,
            ActionRow.column,
            ActionRow.kind,
            ActionRow.legal_date,
            func.min(ActionRow.first_observed_at),
        )
        .where(
            ActionRow.treaty_id == treaty_id,
            ActionRow.participant_id.in_({act[0] for act in acts}),
        )
        .group_by(ActionRow.participant_id, ActionRow.column, ActionRow.kind, ActionRow.legal_date)
    )
    earliest: dict[ActOf, datetime] = {}
    for pid, column, kind, legal_date, first in session.execute(query):
        if (pid, column, kind, legal_date) in acts:
            earliest[(pid, column, kind, legal_date)] = first
    return earliest


def sync_actions(
    session: Session,
    treaty_id: int,
    snapshot_id: int,
    status: TreatyStatus,
    ids: dict[str, int],
    observed_at: datetime,
) -> None:
    """Close the open action rows absent from `status` and open rows for the new ones."""
    wanted = _identities(status, ids)
    t = table_of(ActionRow)
    identity = (t.c.participant_id, t.c.printed_name, t.c.column, t.c.kind, t.c.letter)
    open_rows = session.execute(
        select(t.c.id, *identity, t.c.legal_date, t.c.withdrawn).where(
            t.c.treaty_id == treaty_id, t.c.ended_snapshot_id.is_(None)
        )
    )
    ended: list[int] = []
    for row_id, *key in open_rows:
        found = cast(ActionIdentity, tuple(key))
        if wanted[found] > 0:
            wanted[found] -= 1
        else:
            ended.append(row_id)
    if ended:
        session.execute(update(t).where(t.c.id.in_(ended)).values(ended_snapshot_id=snapshot_id))
    new = list(wanted.elements())
    if not new:
        return
    earliest = _earliest_observations(session, treaty_id, {(i[0], i[2], i[3], i[5]) for i in new})
    rows: list[dict[str, Any]] = [
        {
            "treaty_id": treaty_id,
            "participant_id": pid,
            "printed_name": name,
            "column": column,
            "kind": kind,
            "letter": letter,
            "legal_date": legal_date,
            "withdrawn": withdrawn,
            "first_observed_at": min(
                observed_at, earliest.get((pid, column, kind, legal_date), observed_at)
            ),
            "first_snapshot_id": snapshot_id,
            "ended_snapshot_id": None,
        }
        for pid, name, column, kind, letter, legal_date, withdrawn in new
    ]
    session.execute(insert(t), rows)


def _suspicious(session: Session, treaty_id: int) -> list[Event]:
    query = select(Event).where(
        Event.treaty_id == treaty_id, Event.kind == DISAPPEARED, Event.state == "suspicious"
    )
    return list(session.scalars(query.order_by(Event.id)))


def _settle(event: Event, state: str, at: datetime, snapshot_id: int | None) -> None:
    event.state = state
    event.details = {
        **event.details,
        f"{state}_at": at.isoformat(),
        f"{state}_by_snapshot": snapshot_id,
    }


def confirm_disappearances(
    session: Session, treaty_id: int, present: set[str], at: datetime, snapshot_id: int | None
) -> int:
    """Confirm suspicious disappearances of participants still absent; return how many."""
    confirmed = 0
    for event in _suspicious(session, treaty_id):
        if event.details.get("participant_key") not in present:
            _settle(event, "confirmed", at, snapshot_id)
            confirmed += 1
    return confirmed


def _event_row(
    change: Change, treaty_id: int, snapshot_id: int, ids: dict[str, int], at: datetime
) -> dict[str, Any]:
    details = {**change.details(), "participant_key": change.participant_key, "iso3": change.iso3}
    return {
        "treaty_id": treaty_id,
        "snapshot_id": snapshot_id,
        "kind": change.kind.value,
        "participant_id": ids.get(change.participant_key),
        "participant_name": change.participant_name,
        "legal_date": change.legal_date,
        "observed_at": at,
        "details": details,
        "state": "suspicious" if change.kind is ChangeKind.PARTICIPANT_DISAPPEARED else "final",
    }


def record_changes(
    session: Session,
    treaty_id: int,
    snapshot_id: int,
    previous: TreatyStatus,
    current: TreatyStatus,
    ids: dict[str, int],
    at: datetime,
) -> int:
    """Insert the events from `previous` to `current`, settle pending disappearances; count them.

    A participant that comes back after a suspicious disappearance retracts that event and is
    compared with its state before it vanished, so its reappearance alone emits nothing.
    """
    present = {p.key for p in current.participants}
    restored: dict[str, Participant] = {}
    for event in _suspicious(session, treaty_id):
        key = event.details.get("participant_key")
        if key in present and event.details.get("before"):
            restored[key] = Participant.from_dict(event.details["before"])
            _settle(event, "retracted", at, snapshot_id)
    confirm_disappearances(session, treaty_id, present, at, snapshot_id)
    known = {p.key for p in previous.participants}
    extra = tuple(p for k, p in restored.items() if k not in known)
    changes = diff(replace(previous, participants=previous.participants + extra), current)
    if not changes:
        return 0
    missing = {c.participant_key for c in changes} - ids.keys()
    if missing:
        ids = {**ids, **participant_ids(session, missing)}
    rows = [_event_row(c, treaty_id, snapshot_id, ids, at) for c in changes]
    events = table_of(Event)
    event_ids = list(session.scalars(insert(events).returning(events.c.id), rows))
    outbox.enqueue(session, event_ids, at)  # deliveries in the same transaction as the events
    return len(changes)
