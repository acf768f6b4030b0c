"""Invariants a database must keep whatever process died when (for the process-fault tests).

`consistency_problems(url)` lists every broken invariant in words (empty: consistent):

- every snapshot's raw page exists, and every quarantined page's;
- every treaty has a snapshot (the treaty row and its first snapshot are one transaction);
- every action row points at snapshots of its own treaty, closed no earlier than it opened;
- the open action rows of each treaty are exactly the actions of its latest snapshot (the
  snapshot and the action rows are written in one transaction);
- every event's snapshot exists and belongs to its treaty;
- every settled (final) alertable event written after a subscription was made has its delivery
  for that subscription (the outbox row is written in the event's transaction), and no delivery
  points at a missing event;

`outbox(url)` is the deliveries as comparable facts (event kind, treaty, participant, channel).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.engine import session_factory_for
from db.models import (
    ActionRow,
    Delivery,
    Event,
    Quarantine,
    RawPage,
    Snapshot,
    Subscription,
    Treaty,
)
from db.models import Participant as ParticipantRow
from tracker.alerts.outbox import facts, filters_of
from tracker.alerts.policy import wants
from tracker.domain.models import TreatyStatus
from tracker.services.repository import latest_snapshot


def _with_session(url: str, work: Any) -> Any:
    sessions = session_factory_for(url)
    try:
        with sessions() as session:
            return work(session)
    finally:
        sessions.kw["bind"].dispose()


def consistency_problems(url: str) -> list[str]:
    return _with_session(url, _problems)


def _problems(session: Session) -> list[str]:
    problems: list[str] = []
    raw_ids = set(session.scalars(select(RawPage.id)))
    snapshots = {s.id: s for s in session.scalars(select(Snapshot))}
    for s in snapshots.values():
        if s.raw_page_id not in raw_ids:
            problems.append(f"snapshot {s.id} has no raw page {s.raw_page_id}")
    for q in session.scalars(select(Quarantine)):
        if q.raw_page_id is not None and q.raw_page_id not in raw_ids:
            problems.append(f"quarantine {q.id} has no raw page {q.raw_page_id}")
    keys = {p.key: p.id for p in session.scalars(select(ParticipantRow))}
    for treaty in session.scalars(select(Treaty)):
        latest = latest_snapshot(session, treaty.id)
        if latest is None:
            problems.append(f"treaty {treaty.external_id} has no snapshot")
            continue
        rows = list(session.scalars(select(ActionRow).where(ActionRow.treaty_id == treaty.id)))
        open_rows: Counter[tuple[Any, ...]] = Counter()
        for a in rows:
            first = snapshots.get(a.first_snapshot_id)
            if first is None or first.treaty_id != treaty.id:
                problems.append(f"action {a.id} opened by a snapshot of another treaty or none")
            if a.ended_snapshot_id is not None:
                ended = snapshots.get(a.ended_snapshot_id)
                if ended is None or ended.treaty_id != treaty.id:
                    problems.append(f"action {a.id} closed by a snapshot of another treaty or none")
                elif first is not None and ended.observed_at < first.observed_at:
                    problems.append(f"action {a.id} closed before it opened")
            else:
                open_rows[
                    (a.participant_id, a.column, a.kind, a.letter, a.legal_date, a.withdrawn)
                ] += 1
        wanted: Counter[tuple[Any, ...]] = Counter()
        for p in TreatyStatus.from_dict(latest.data).participants:
            for act in p.actions:
                wanted[
                    (
                        keys.get(p.key),
                        act.column.value,
                        act.kind,
                        act.letter,
                        act.date,
                        act.withdrawn,
                    )
                ] += 1
        if open_rows != wanted:
            problems.append(
                f"treaty {treaty.external_id}: open action rows {sorted(open_rows.elements())} "
                f"are not the latest snapshot's actions {sorted(wanted.elements())}"
            )
    treaty_ids = {t.id: t.external_id for t in session.scalars(select(Treaty))}
    events = {e.id: e for e in session.scalars(select(Event))}
    for e in events.values():
        if e.snapshot_id is not None:
            s = snapshots.get(e.snapshot_id)
            if s is None or s.treaty_id != e.treaty_id:
                problems.append(f"event {e.id} ({e.kind}) points at a snapshot of another treaty")
    iso = {p.id: p.iso3 for p in session.scalars(select(ParticipantRow))}
    subs = list(session.scalars(select(Subscription).where(Subscription.state == "active")))
    delivered = {(d.event_id, d.subscription_id) for d in session.scalars(select(Delivery))}
    for event_id, _ in delivered:
        if event_id not in events:
            problems.append(f"a delivery points at a missing event {event_id}")
    for e in events.values():
        if e.state != "final":
            continue
        about = facts(e, treaty_ids.get(e.treaty_id or -1), iso.get(e.participant_id or -1))
        for sub in subs:
            owed = e.created_at >= sub.created_at and wants(filters_of(sub), about)
            if owed and (e.id, sub.id) not in delivered:
                problems.append(
                    f"event {e.id} ({e.kind}) has no delivery for subscription {sub.id}"
                )
    return problems


def outbox(url: str) -> Counter[tuple[str, str | None, str | None, str]]:
    """The deliveries as facts: (event kind, treaty, participant, subscription channel)."""

    def work(session: Session) -> Counter[tuple[str, str | None, str | None, str]]:
        rows = session.execute(
            select(Event.kind, Treaty.external_id, Event.participant_name, Subscription.channel)
            .select_from(Delivery)
            .join(Event, Event.id == Delivery.event_id)
            .outerjoin(Treaty, Treaty.id == Event.treaty_id)
            .join(Subscription, Subscription.id == Delivery.subscription_id)
        )
        return Counter(tuple(r) for r in rows)

    return _with_session(url, work)
