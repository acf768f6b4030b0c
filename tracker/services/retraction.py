"""Retract the events a wrong page caused, and tell whoever was alerted.

Evidence. A page is shown wrong only by confirmed absences (tracker.services.timeline): a
participant, or a dated cell not bracketed as withdrawn, that a later accepted page no longer
shows, and that a second observation (a fresh page, not a 304's copy nor a copy of a page already
seen, observed at least `disappearance_confirm_hours` later) still does not show. A single page,
wrong or right, never retracts anything: a wrong page that drops good deposits only makes
suspicious absences, which its correction retracts.

What is retracted, once the absence is confirmed:
- a `signature`, `consent`, `reaccession` or `provisional_application` event whose cell is the
  one gone (the deposit was never there: the depositary's page no longer shows it, and not as
  withdrawn);
- a rule event (`approaching`, `threshold_crossed`, `entered_into_force`) whose page held the
  deposits now gone, and whose condition no longer holds on that same page without them (the
  rule re-evaluated as on the day of the event): the threshold is not met, or met on another
  date; the entry into force is not that day; more than K instruments remain. A rule event
  whose condition still holds without them stands.

A retracted event keeps its row: state `retracted`, the reason, the evidence snapshot and the
absences in its details. Its pending deliveries are `cancelled`; its once_key is freed, so a
genuine crossing fires again (at once when the latest snapshot shows one). A `retraction` event
references it, and goes to exactly the subscriptions that were sent (or are being sent) the
original, whatever their filters.

Over 300 lines on purpose: one idea, the evidence rule above and the notices it owes, which
must agree on which events a confirmed absence undoes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from db.models import Delivery, Event, Snapshot, Subscription, Treaty
from db.vocabulary import DEPOSIT_EVENT_KINDS, RULE_EVENT_KINDS, EventKind
from tracker.alerts import outbox
from tracker.domain.evaluate import evaluate
from tracker.domain.models import Action, Participant, TreatyStatus
from tracker.services.disputed_events import still_holds
from tracker.services.rule_context import rule_context
from tracker.services.rule_events import rule_of
from tracker.services.timeline import DISAPPEARED, Observation

RETRACTION = EventKind.RETRACTION
# An absence that shows an end, not a wrong page: a consent gone that the footnotes say ended.
REVOCATION = EventKind.REVOCATION
# A deposit as the history names it: participant key, column, kind, legal date.
Deposit = tuple[str, str, str, date]


@dataclass
class Retracted:
    """What one retraction pass did."""

    change_events: list[int] = field(default_factory=list)
    rule_events: list[int] = field(default_factory=list)
    notices: list[int] = field(default_factory=list)

    @property
    def events(self) -> int:
        return len(self.notices)


def _deposit(key: str, action: Action) -> Deposit:
    return (key, action.column.value, action.kind, action.date)


def vanished(absences: list[Event]) -> dict[Deposit, Event]:
    """The deposits that confirmed absences show were never there, with their absence."""
    found: dict[Deposit, Event] = {}
    for event in absences:
        key = event.details.get("participant_key")
        before = event.details.get("before")
        if not isinstance(key, str) or not before:
            continue
        if event.kind == DISAPPEARED:
            for action in Participant.from_dict(before).actions:
                found.setdefault(_deposit(key, action), event)
        else:
            found.setdefault(_deposit(key, Action.from_dict(before)), event)
    return found


def _without(status: TreatyStatus, gone: set[Deposit]) -> TreatyStatus:
    """The status with the vanished deposits taken out (and participants left with none)."""
    kept = []
    for p in status.participants:
        actions = tuple(a for a in p.actions if _deposit(p.key, a) not in gone)
        if actions or not p.actions:
            kept.append(replace(p, actions=actions))
    return replace(status, participants=tuple(kept))


def _absent_since(absences: list[Event]) -> str:
    first = min(absences, key=lambda e: e.observed_at)
    confirmed = max(absences, key=lambda e: e.details.get("confirmed_at") or "")
    return (
        f"absent from the page since {first.observed_at.isoformat()} (snapshot "
        f"{first.snapshot_id}), confirmed on {confirmed.details.get('confirmed_at')} by a fresh "
        f"page (snapshot {confirmed.details.get('confirmed_by_snapshot')})"
    )


def _names(deposits: list[Deposit], status: TreatyStatus) -> str:
    names = {p.key: p.name for p in status.participants}
    shown = sorted({f"{names.get(d[0], d[0])} ({d[2].replace('_', ' ')} {d[3]})" for d in deposits})
    return ", ".join(shown[:5]) + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")


def _subscriptions_sent(session: Session, event_id: int) -> list[Subscription]:
    """The active subscriptions that may have received this event: sent it, being sent it, or
    tried at least once (a try that failed may still have arrived, e.g. a timeout). The
    dispatcher drops the notice where the alert turns out never to have been tried."""
    sent = (
        select(Delivery.subscription_id)
        .where(
            Delivery.event_id == event_id,
            or_(Delivery.state.in_(("sent", "sending")), Delivery.attempts > 0),
        )
        .scalar_subquery()
    )
    query = select(Subscription).where(Subscription.id.in_(sent), Subscription.state == "active")
    return list(session.scalars(query.order_by(Subscription.id)))


def retract(
    session: Session,
    event: Event,
    reason: str,
    obs: Observation,
    absences: list[Event],
) -> Event:
    """Retract one event, cancel what was not sent yet, and notify whoever was sent it."""
    event.state = "retracted"
    event.details = {
        **event.details,
        "retracted_at": obs.at.isoformat(),
        "retracted_reason": reason,
        "retracted_by_snapshot": obs.snapshot_id,
        "retracted_because": sorted(a.id for a in absences),
        **({"once_key": event.once_key} if event.once_key else {}),
    }
    event.once_key = None  # a genuine crossing may fire again
    session.flush()
    session.execute(
        update(Delivery)
        .where(Delivery.event_id == event.id, Delivery.state == "pending")
        .values(state="cancelled", last_error=f"event retracted: {reason}"[:2000])
    )
    notice = Event(
        treaty_id=event.treaty_id,
        snapshot_id=obs.snapshot_id,
        kind=RETRACTION,
        participant_id=event.participant_id,
        participant_name=event.participant_name,
        legal_date=event.legal_date,
        observed_at=obs.at,
        details={
            "retracted_event": event.id,
            "retracted_kind": event.kind,
            "reason": reason,
            "iso3": event.details.get("iso3"),
            "participant_key": event.details.get("participant_key"),
            "absences": sorted(a.id for a in absences),
        },
        state="final",
    )
    session.add(notice)
    session.flush()
    outbox.enqueue_to(session, notice.id, _subscriptions_sent(session, event.id), obs.at)
    return notice


def _change_events(session: Session, treaty_id: int) -> list[Event]:
    query = select(Event).where(
        Event.treaty_id == treaty_id, Event.kind.in_(DEPOSIT_EVENT_KINDS), Event.state == "final"
    )
    return list(session.scalars(query.order_by(Event.id)))


def _rule_events(session: Session, treaty_id: int) -> list[Event]:
    """The rule events that stand: final, or held as disputed (retracted, one is never sent)."""
    query = select(Event).where(
        Event.treaty_id == treaty_id,
        Event.kind.in_(RULE_EVENT_KINDS),
        Event.state.in_(("final", "disputed")),
        Event.once_key.is_not(None),
    )
    return list(session.scalars(query.order_by(Event.id)))


def retract_unfounded(
    session: Session,
    treaty: Treaty,
    confirmed: list[Event],
    obs: Observation,
    confirmations: dict[str, date] | None = None,
) -> Retracted:
    """Retract the change and rule events that the confirmed absences show were unfounded.

    A confirmed revocation is no such evidence: the act was there, and ended."""
    done = Retracted()
    gone = vanished([e for e in confirmed if e.kind != REVOCATION])
    if not gone:
        return done
    for event in _change_events(session, treaty.id):
        after = event.details.get("after")
        key = event.details.get("participant_key")
        if not after or not isinstance(key, str):
            continue
        deposit = _deposit(key, Action.from_dict(after))
        if deposit not in gone:
            continue
        absence = gone[deposit]
        what = f"{event.participant_name}'s {deposit[2].replace('_', ' ')} of {deposit[3]}"
        reason = f"{what} was never there: it is {_absent_since([absence])}, and not as withdrawn"
        done.notices.append(retract(session, event, reason, obs, [absence]).id)
        done.change_events.append(event.id)
    for event in _rule_events(session, treaty.id):
        data = session.scalar(select(Snapshot.data).where(Snapshot.id == event.snapshot_id))
        if not data:
            continue
        status = TreatyStatus.from_dict(data)
        held = [
            d for p in status.participants for a in p.actions if (d := _deposit(p.key, a)) in gone
        ]
        if not held:
            continue  # the event's page did not hold the deposits now gone
        pruned = _without(status, set(held))
        absences = sorted({gone[d].id: gone[d] for d in held}.values(), key=lambda e: e.id)
        now = _no_longer_holds(session, treaty, event, pruned, confirmations)
        if now is None:
            continue
        reason = (
            f"the page it came from (snapshot {event.snapshot_id}) held deposits that were never "
            f"there: {_names(held, status)}, {_absent_since(absences)}; without them {now}"
        )
        done.notices.append(retract(session, event, reason, obs, absences).id)
        done.rule_events.append(event.id)
    return done


def _no_longer_holds(
    session: Session,
    treaty: Treaty,
    event: Event,
    status: TreatyStatus,
    confirmations: dict[str, date] | None,
) -> str | None:
    """What the treaty's rule, evaluated on `status` as on the rule event's day, says when the
    event's condition no longer holds there; None while it holds (or no rule is known)."""
    rule = rule_of(session, treaty, status)
    if rule is None:
        return None
    ev = evaluate(
        rule,
        status,
        confirmations=confirmations,
        today=event.observed_at.date(),
        **rule_context(session, treaty, rule),
    )
    holds, now = still_holds(event, ev)
    return None if holds else now


def recheck_after_return(
    session: Session,
    treaty: Treaty,
    current: TreatyStatus,
    returned: list[Event],
    obs: Observation,
    confirmations: dict[str, date] | None = None,
) -> Retracted:
    """Rule events computed while deposits were absent, once those deposits are back.

    Retracting a rule event frees its once_key, so the crossing fires again from the snapshot
    without the absent deposits (e.g. a later threshold date). When those deposits return (a
    confirmed absence ends), such a later event can be wrong in its turn: each final rule event
    of a kind retracted because of these absences, recorded after that retraction, is checked
    against the current page, and retracted (with notices) if it no longer holds. The crossing
    then fires again from the current snapshot, as after any retraction.
    """
    done = Retracted()
    ids = {e.id for e in returned}
    if not ids:
        return done
    retracted = session.scalars(
        select(Event).where(
            Event.treaty_id == treaty.id,
            Event.kind.in_(RULE_EVENT_KINDS),
            Event.state == "retracted",
        )
    )
    since: dict[str, datetime] = {}  # kind -> when an event of it was retracted for these
    for event in retracted:
        if ids & set(event.details.get("retracted_because") or ()):
            at = datetime.fromisoformat(event.details["retracted_at"])
            since[event.kind] = min(since.get(event.kind, at), at)
    for event in _rule_events(session, treaty.id):
        if event.kind not in since or event.observed_at < since[event.kind]:
            continue
        now = _no_longer_holds(session, treaty, event, current, confirmations)
        if now is None:
            continue
        reason = (
            f"it was computed while deposits were absent from the page; they are back "
            f"(snapshot {obs.snapshot_id}), and with them {now}"
        )
        done.notices.append(retract(session, event, reason, obs, returned).id)
        done.rule_events.append(event.id)
    return done


def retract_returned_revocations(
    session: Session, returned: list[Event], obs: Observation
) -> Retracted:
    """A confirmed revocation whose consent cell is back on the page was wrong: retract it, and
    tell whoever was sent it (a suspicious one is dropped unsent by the timeline)."""
    done = Retracted()
    for event in returned:
        if event.kind != REVOCATION or event.state != "confirmed":
            continue
        before = event.details.get("before") or {}
        reason = (
            f"the page shows {event.participant_name}'s {before.get('kind', 'consent')} of "
            f"{before.get('date')} again (snapshot {obs.snapshot_id}): it was not revoked"
        )
        done.notices.append(retract(session, event, reason, obs, [event]).id)
        done.change_events.append(event.id)
    return done


def notify_return(
    session: Session, reappearance: Event, returned: list[Event], at: datetime
) -> int:
    """Send a reappearance to whoever was told that this participant's events were retracted
    (as well as to the subscriptions that ask for reappearances, enqueued with the event)."""
    absence_ids = {e.id for e in returned}
    notices = session.scalars(
        select(Event).where(Event.treaty_id == reappearance.treaty_id, Event.kind == RETRACTION)
    )
    told: dict[int, Subscription] = {}
    for notice in notices:
        if not absence_ids & set(notice.details.get("absences") or ()):
            continue
        for sub in _subscriptions_sent(session, notice.id):
            told[sub.id] = sub
    already = set(
        session.scalars(
            select(Delivery.subscription_id).where(Delivery.event_id == reappearance.id)
        )
    )
    return outbox.enqueue_to(
        session, reappearance.id, [s for k, s in told.items() if k not in already], at
    )


__all__ = [
    "RETRACTION",
    "Retracted",
    "notify_return",
    "recheck_after_return",
    "retract",
    "retract_returned_revocations",
    "retract_unfounded",
    "vanished",
]
