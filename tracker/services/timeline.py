"""History of an accepted snapshot: action rows opened and closed, change events and states.

Over 300 lines on purpose: one idea, the change-only history one accepted snapshot writes
(action rows, change events, absences and their confirmation), in one transaction and in this
order; split, that order would be spread over modules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from db.models import ActionRow, Event, RawPage, Snapshot
from db.vocabulary import EventKind
from tracker.alerts import outbox
from tracker.domain.changes import ABSENCES, Change, ChangeKind, diff
from tracker.domain.endings import Ending
from tracker.domain.models import Action, Participant, TreatyStatus
from tracker.services.repository import aware, insert_rows, participant_ids, table_of
from tracker.settings import DEFAULTS

# What makes an action row "the same" from one snapshot to the next.
ActionIdentity = tuple[int, str, str, str, str, date, bool]
# What makes two rows the same legal act (a withdrawal or a rename keeps its first observation).
ActOf = tuple[int, str, str, date]

DISAPPEARED = ChangeKind.PARTICIPANT_DISAPPEARED.value
ABSENCE_KINDS: tuple[str, ...] = tuple(sorted(k.value for k in ABSENCES))
REAPPEARANCE = EventKind.REAPPEARANCE
DEFAULT_CONFIRM_AFTER = timedelta(hours=DEFAULTS.disappearance_confirm_hours)


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


def first_seen_acts(
    session: Session, treaty_id: int, status: TreatyStatus, ids: Mapping[str, int]
) -> dict[tuple[str, str, str, date], datetime]:
    """When each act of `status` (participant key, column, kind, legal date) was first
    observed, from its action rows (open or closed: the act's earliest first_observed_at)."""
    keys = {pid: key for key, pid in ids.items()}
    acts = {
        (ids[p.key], a.column.value, a.kind, a.date)
        for p in status.participants
        if p.key in ids
        for a in p.actions
    }
    return {
        (keys[pid], column, kind, legal): aware(first)
        for (pid, column, kind, legal), first in _earliest_observations(
            session, treaty_id, acts
        ).items()
        if first is not None
    }


_ACTIONS = table_of(ActionRow)
# A treaty's open action rows: each row's id and its identity (ActionIdentity).
_OPEN_ACTIONS = select(
    _ACTIONS.c.id,
    _ACTIONS.c.participant_id,
    _ACTIONS.c.printed_name,
    _ACTIONS.c.column,
    _ACTIONS.c.kind,
    _ACTIONS.c.letter,
    _ACTIONS.c.legal_date,
    _ACTIONS.c.withdrawn,
).where(_ACTIONS.c.treaty_id == bindparam("treaty_id"), _ACTIONS.c.ended_snapshot_id.is_(None))
# The columns of a new action row, in the order sync_actions gives their values.
_ACTION_COLUMNS = (
    "treaty_id", "participant_id", "printed_name", "column", "kind", "letter", "legal_date",
    "withdrawn", "first_observed_at", "first_snapshot_id", "ended_snapshot_id",
)  # fmt: skip


def sync_actions(
    session: Session,
    treaty_id: int,
    snapshot_id: int,
    status: TreatyStatus,
    ids: dict[str, int],
    observed_at: datetime,
    first: bool = False,
) -> None:
    """Close the open action rows absent from `status` and open rows for the new ones
    (`first`: the treaty's first snapshot, so it has no action rows yet to read)."""
    wanted = _identities(status, ids)
    t = _ACTIONS
    open_rows: Sequence[Any] = (
        [] if first else session.execute(_OPEN_ACTIONS, {"treaty_id": treaty_id}).all()
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
    earliest = (
        {}
        if first
        else _earliest_observations(session, treaty_id, {(i[0], i[2], i[3], i[5]) for i in new})
    )
    rows = [
        (
            treaty_id, pid, name, column, kind, letter, legal_date, withdrawn,
            min(observed_at, earliest.get((pid, column, kind, legal_date), observed_at)),
            snapshot_id, None,
        )
        for pid, name, column, kind, letter, legal_date, withdrawn in new
    ]  # fmt: skip
    insert_rows(session, _ACTIONS, _ACTION_COLUMNS, rows)


@dataclass(frozen=True)
class Observation:
    """One accepted page as evidence: when it was true, the snapshot that stands for it (the one
    it made, or the latest when its content was unchanged) and whether it is a fresh page.

    `fresh` is False for a 304's cached copy (`FetchedPage.revalidated`). A page whose bytes
    equal an earlier snapshot's page, or that prints the same "status as at" stamp, is not a
    second observation either (checked per absence, see `confirm_absences`)."""

    at: datetime
    snapshot_id: int
    digest: str  # sha256 of the raw body
    fresh: bool = True
    status_as_at: datetime | None = None
    new_snapshot: bool = False  # the page made `snapshot_id` (exclude it from "seen before")


@dataclass
class Recorded:
    """What one accepted page did to the history of absences and events."""

    events: int = 0
    confirmed: list[Event] = field(default_factory=list)  # absences confirmed by this page
    reappeared: list[Event] = field(default_factory=list)  # confirmed absences now back
    # each reappearance event written, with the confirmed absences it ends
    reappearances: list[tuple[int, list[Event]]] = field(default_factory=list)


def _open_absences(session: Session, treaty_id: int, states: tuple[str, ...]) -> list[Event]:
    """Absence events (a participant or a cell gone) in `states`, not yet seen back."""
    query = select(Event).where(
        Event.treaty_id == treaty_id, Event.kind.in_(ABSENCE_KINDS), Event.state.in_(states)
    )
    return [
        e for e in session.scalars(query.order_by(Event.id)) if not e.details.get("returned_at")
    ]


def _settle(event: Event, state: str, at: datetime, snapshot_id: int | None) -> None:
    event.state = state
    event.details = {
        **event.details,
        f"{state}_at": at.isoformat(),
        f"{state}_by_snapshot": snapshot_id,
    }


def _same_act(a: Action, b: Action) -> bool:
    return (a.column, a.kind, a.date) == (b.column, b.kind, b.date)


def absent(event: Event, index: dict[str, Participant]) -> bool:
    """True while what the absence event is about is still missing from a status."""
    key = event.details.get("participant_key")
    found = index.get(key) if isinstance(key, str) else None
    if event.kind == DISAPPEARED:
        return found is None
    if found is None:
        return True
    gone = Action.from_dict(event.details["before"])
    return not any(_same_act(gone, a) for a in found.actions)


def _seen_before(session: Session, treaty_id: int, obs: Observation, since: datetime) -> bool:
    """True when the page is a copy of one already seen since `since` (same bytes)."""
    query = (
        select(Snapshot.id)
        .join(RawPage, RawPage.id == Snapshot.raw_page_id)
        .where(
            Snapshot.treaty_id == treaty_id,
            Snapshot.observed_at >= since,
            RawPage.sha256 == obs.digest,
        )
    )
    if obs.new_snapshot:
        query = query.where(Snapshot.id != obs.snapshot_id)
    return session.scalar(query.limit(1)) is not None


def _not_second_observation(
    session: Session, treaty_id: int, event: Event, obs: Observation, confirm_after: timedelta
) -> str | None:
    """Why `obs` cannot confirm `event` (None: it can)."""
    if not obs.fresh:
        return "a 304 or cached copy"
    if obs.at - event.observed_at < confirm_after:
        return "too soon"
    if _seen_before(session, treaty_id, obs, event.observed_at):
        return "byte-identical to a page already seen"
    if obs.status_as_at is not None and event.snapshot_id is not None:
        stamp = session.scalar(
            select(Snapshot.status_as_at).where(Snapshot.id == event.snapshot_id)
        )
        if stamp is not None and aware(stamp) == aware(obs.status_as_at):
            return "the same printing (same status-as-at stamp)"
    return None


def confirm_absences(
    session: Session,
    treaty_id: int,
    current: TreatyStatus,
    obs: Observation,
    confirm_after: timedelta = DEFAULT_CONFIRM_AFTER,
) -> list[Event]:
    """Confirm the suspicious absences that `obs`, a second observation, still shows.

    A second observation is a fresh page (not a 304's copy), accepted, observed at least
    `confirm_after` after the absence was first seen, and not a copy of a page already seen since
    (same bytes, or the same "status as at" printing). Returns the events it confirmed; the
    deliveries of those of an alerted kind (`revocation`) are enqueued in the same transaction."""
    index = {p.key: p for p in current.participants}
    confirmed = []
    for event in _open_absences(session, treaty_id, ("suspicious",)):
        if not absent(event, index):
            continue
        if _not_second_observation(session, treaty_id, event, obs, confirm_after) is not None:
            continue
        _settle(event, "confirmed", obs.at, obs.snapshot_id)
        event.details = {
            **event.details,
            "confirmed_by_page": obs.digest,
            "confirm_after_hours": confirm_after.total_seconds() / 3600,
        }
        confirmed.append(event)
    # A confirmed absence of an alerted kind (a revocation) is alerted now, once: held until
    # this second observation, it was never sent. Other absences are not alerted (filters).
    outbox.enqueue(session, [e.id for e in confirmed], obs.at)
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
        "state": "suspicious" if change.kind in ABSENCES else "final",
    }


def _restore(baseline: dict[str, Participant], event: Event) -> None:
    """Put what an absence event lost back into the baseline the next page is compared with."""
    key = event.details["participant_key"]
    if event.kind == DISAPPEARED:
        if key not in baseline and event.details.get("before"):
            baseline[key] = Participant.from_dict(event.details["before"])
        return
    found = baseline.get(key)
    gone = Action.from_dict(event.details["before"])
    if found is not None and not any(_same_act(gone, a) for a in found.actions):
        baseline[key] = replace(found, actions=(*found.actions, gone))


def _reappearance_row(
    key: str,
    returned: list[Event],
    current: Participant,
    treaty_id: int,
    snapshot_id: int,
    ids: dict[str, int],
    at: datetime,
) -> dict[str, Any]:
    last = max(current.actions, key=lambda a: a.date) if current.actions else None
    return {
        "treaty_id": treaty_id,
        "snapshot_id": snapshot_id,
        "kind": REAPPEARANCE,
        "participant_id": ids.get(key),
        "participant_name": current.name,
        "legal_date": last.date if last else None,
        "observed_at": at,
        "details": {
            "participant_key": key,
            "iso3": current.iso3,
            "absences": [e.id for e in returned],
            "absent_since": min(e.observed_at for e in returned).isoformat(),
            "after": current.to_dict(),
        },
        "state": "final",
    }


def record_changes(
    session: Session,
    treaty_id: int,
    snapshot_id: int,
    previous: TreatyStatus,
    current: TreatyStatus,
    ids: dict[str, int],
    obs: Observation,
    confirm_after: timedelta = DEFAULT_CONFIRM_AFTER,
    *,
    endings: Mapping[str, Sequence[Ending]],
    previous_printed: datetime | None = None,
) -> Recorded:
    """Insert the events from `previous` to `current` and settle the pending absences.

    `previous_printed`: when the previous page was printed (its "status as at" stamp, else its
    observation): a consent cell replaced by one dated after it, or after the old act was first
    observed (its action rows), is a `reaccession`.
    `endings`: the current page's withdrawals, as the source's footnote grammar and the treaty's
    withdrawal clause give them (tracker.services.ingest).

    What comes back after an absence is compared with its state before it vanished, so its
    return alone emits no signature or consent event: a suspicious absence is retracted; a
    confirmed one ends with one `reappearance` event per participant (not alerted by default).
    Differences from the state before the absence are events as usual."""
    at = obs.at
    index = {p.key: p for p in current.participants}
    baseline = {p.key: p for p in previous.participants}
    done = Recorded()
    pending = _open_absences(session, treaty_id, ("suspicious", "confirmed"))
    # Whole participants first: a cell that vanished before its participant did goes back
    # into the participant restored from its state before it vanished.
    for event in sorted(pending, key=lambda e: (e.kind != DISAPPEARED, e.id)):
        if absent(event, index):
            continue
        _restore(baseline, event)
        if event.state == "suspicious":
            _settle(event, "retracted", at, snapshot_id)
        else:
            done.reappeared.append(event)
    done.confirmed = confirm_absences(session, treaty_id, current, obs, confirm_after)
    before = replace(previous, participants=tuple(baseline.values()))
    changes = diff(
        before,
        current,
        previous_printed=previous_printed,
        endings=endings,
        # the page's day, for whether an ending is in effect (no stamp: it was seen by then)
        current_printed=current.status_as_at or obs.status_as_at or at,
        first_seen=first_seen_acts(session, treaty_id, before, ids),
    )
    returned: dict[str, list[Event]] = {}
    for event in done.reappeared:
        returned.setdefault(event.details["participant_key"], []).append(event)
    keys = {c.participant_key for c in changes} | returned.keys()
    missing = keys - ids.keys()
    if missing:
        ids = {**ids, **participant_ids(session, missing)}
    rows = [_event_row(c, treaty_id, snapshot_id, ids, at) for c in changes]
    rows += [
        _reappearance_row(key, found, index[key], treaty_id, snapshot_id, ids, at)
        for key, found in returned.items()
    ]
    if not rows:
        return done
    events = table_of(Event)
    # Ids in the order of `rows` (positions below depend on it).
    returning = insert(events).returning(events.c.id, sort_by_parameter_order=True)
    event_ids = list(session.scalars(returning, rows))
    for key, found in returned.items():
        event_id = event_ids[len(changes) + list(returned).index(key)]
        done.reappearances.append((event_id, found))
        for event in found:
            event.details = {
                **event.details,
                "returned_at": at.isoformat(),
                "returned_by_snapshot": snapshot_id,
                "reappearance_event": event_id,
            }
    outbox.enqueue(session, event_ids, at)  # deliveries in the same transaction as the events
    done.events = len(rows)
    return done
