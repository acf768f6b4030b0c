"""Rule events: evaluate a treaty's entry-into-force rule and record what happened, exactly once.

Three events per treaty, each at most once (the unique (treaty, once_key) index guarantees it
across processes, re-runs and restarts): `approaching` (K or fewer instruments remain),
`threshold_crossed` (legal date met, projected entry into force), `entered_into_force` (on the
day). Events come only from accepted snapshots: a quarantined page never reaches this module.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import ConditionConfirmation, Event, Snapshot, Treaty
from db.models import Participant as ParticipantRow
from db.vocabulary import RULE_EVENT_KINDS
from tracker.alerts import outbox
from tracker.catalogue import rule_for
from tracker.domain.evaluate import Evaluation, evaluate
from tracker.domain.instruments import Instrument
from tracker.domain.models import TreatyStatus
from tracker.domain.rules import Rule
from tracker.forecast.model import FORECAST
from tracker.services.disputed_events import _held, settle_disputed
from tracker.services.forecasting import forecast_of
from tracker.services.repository import aware, latest_snapshot, source_slug
from tracker.services.rule_context import rule_context
from tracker.settings import DEFAULTS
from tracker.sources import registry

log = logging.getLogger(__name__)


@dataclass
class Detection:
    """What one evaluation of one treaty did."""

    treaty: str  # its public id (tracker.sources.registry: WIPO-843, XXVI-9)
    created: list[str] = field(default_factory=list)
    evaluation: Evaluation | None = None
    disputed: list[str] = field(default_factory=list)  # created, but held (disputed)
    settled: list[str] = field(default_factory=list)  # disputed before, final now (or dropped)

    @property
    def pending_entry_into_force(self) -> date | None:
        """The entry-into-force date still to come (to schedule a job on that day), if any."""
        ev = self.evaluation
        if ev is None or ev.computed is None or "entered_into_force" in self.created:
            return None
        return ev.computed


def confirmations(
    session: Session, treaty_id: int, known_at: datetime | None = None
) -> dict[str, date]:
    """The operators' confirmations of outside-data conditions (`known_at`: those made by then)."""
    if known_at is None:
        return dict(session.execute(_CONFIRMATIONS, {"treaty_id": treaty_id}).all())
    query = _CONFIRMATIONS.where(ConditionConfirmation.confirmed_at <= known_at)
    return dict(session.execute(query, {"treaty_id": treaty_id}).all())


_CONFIRMATIONS = select(ConditionConfirmation.key, ConditionConfirmation.met_on).where(
    ConditionConfirmation.treaty_id == bindparam("treaty_id")
)


def rule_and_status(
    session: Session,
    treaty: Treaty,
    snapshot: Snapshot | None = None,
    status: TreatyStatus | None = None,
) -> tuple[Rule | None, TreatyStatus | None, Snapshot | None]:
    """The treaty's rule and its latest (or given) accepted status; `status`: the given
    snapshot's own status, as parsed (saves reading it back from the snapshot's data)."""
    snapshot = snapshot or latest_snapshot(session, treaty.id)
    if snapshot is None:
        return None, None, None
    if status is None:
        status = TreatyStatus.from_dict(snapshot.data)
    return rule_of(session, treaty, status), status, snapshot


def as_last_seen(status: TreatyStatus, treaty: Treaty) -> TreatyStatus:
    """The status as the depositary was last seen printing it: a poll that found the page
    unchanged stores no snapshot, so the snapshot's "status as at" stamp is when this content was
    first printed; the treaty's last check is a later day on which the page still said the same
    (what the cross-check with the printed label must compare with)."""
    checked = treaty.last_checked_at
    if checked is None:
        return status
    checked = aware(checked)
    stamp = status.status_as_at
    if stamp is not None and stamp >= checked:
        return status
    return dataclasses.replace(status, status_as_at=checked)


def rule_of(session: Session, treaty: Treaty, status: TreatyStatus) -> Rule | None:
    """The treaty's entry-into-force rule as it applies to `status` (None: no rule known)."""
    slug = source_slug(session, treaty.source_id) or ""
    return rule_for(slug, treaty.external_id, status)


def rule_summary(rule: Rule) -> dict[str, Any]:
    """The `rule` object of the status answer."""
    return {
        "threshold": rule.threshold,
        "counts": list(rule.counts),
        "reio": rule.reio.value,
        "origin": rule.origin,
        "citation": rule.citation,
        "words": rule.words(),
        "spec": rule.to_spec(),
    }


def _details(
    held: _Held, ev: Evaluation, observed_at: datetime, legal: date | None
) -> dict[str, Any]:
    """The event's details; `lag_days` from its legal date to its observation."""
    met = ev.threshold_met_on
    return {
        "threshold": ev.rule.threshold,
        "qualifying_instruments": ev.qualifying,
        "remaining": ev.remaining,
        "threshold_met_on": met.isoformat() if met else None,
        "entry_into_force": ev.entry_into_force(),
        "deciding_deposits": ev.deciding_deposits(),
        "conditions": [c.to_dict() for c in ev.conditions],
        "rule": {"origin": ev.rule.origin, "citation": ev.rule.citation},
        # Seen at `observed_at`; `baseline` when the tracker's first view already showed it.
        "lag_days": (observed_at.date() - legal).days if legal else None,
        "baseline": held.baseline(legal),
        "warnings": list(ev.warnings),
    }


_ONCE_KEYS = select(Event.once_key, Event.kind, Event.state).where(
    Event.treaty_id == bindparam("treaty_id"), Event.once_key.is_not(None)
)
_FIRST_SNAPSHOT = select(func.min(Snapshot.observed_at), func.count(Snapshot.id)).where(
    Snapshot.treaty_id == bindparam("treaty_id")
)


class _Held:
    """What an evaluation reads of the treaty's stored history, each at most once: its rule
    events that hold a once key (read again after disputed ones are settled) and its first
    snapshot with their number (for `baseline`: no snapshot is added while it evaluates)."""

    def __init__(self, session: Session, treaty: Treaty) -> None:
        self.session, self.treaty = session, treaty
        self._events: dict[str, tuple[str, str]] | None = None
        self._snapshots: tuple[datetime | None, int] | None = None

    def _live(self) -> dict[str, tuple[str, str]]:
        """Once key -> (kind, state) of the treaty's events that hold one (its rule events)."""
        if self._events is None:
            found = self.session.execute(_ONCE_KEYS, {"treaty_id": self.treaty.id})
            self._events = {key: (kind, state) for key, kind, state in found if key}
        return self._events

    def any_disputed(self) -> bool:
        """A rule event is held as disputed (what `settle_disputed` settles)."""
        return any(
            state == "disputed" and kind in RULE_EVENT_KINDS
            for kind, state in self._live().values()
        )

    def forget_events(self) -> None:
        self._events = None

    def recorded(self, kind: str) -> bool:
        """The treaty already has its rule event of this kind."""
        return kind in self._live()

    def baseline(self, legal_date: date | None) -> bool:
        """True if the treaty has one snapshot so far, observed on or after `legal_date`."""
        if self._snapshots is None:
            found = self.session.execute(_FIRST_SNAPSHOT, {"treaty_id": self.treaty.id}).one()
            self._snapshots = (found[0], found[1])
        first, count = self._snapshots
        return bool(
            count == 1 and legal_date is not None and first is not None
            and first.date() >= legal_date
        )  # fmt: skip


def _expected(
    session: Session, public_id: str, rule: Rule, status: TreatyStatus, ev: Evaluation, day: date
) -> dict[str, Any]:
    """The forecast an `approaching` event carries: entry into force expected around its
    median, within its 80% interval (null where there is no forecast, with the state that says
    why). A forecast that fails never stops the event: logged, and the dates left null."""
    try:
        with session.begin_nested():  # a failed read leaves the event's transaction usable
            found = forecast_of(session, public_id, rule, status, ev, today=day)
    except Exception:
        log.exception("%s: the forecast for the approaching event failed", public_id)
        return {"expected_around": None, "expected_interval": None, "forecast_state": "failed"}
    eif = found.entry_into_force if found.state == FORECAST else None
    return {
        "expected_around": eif.median.isoformat() if eif and eif.median else None,
        "expected_interval": (
            [d.isoformat() if d else None for d in (eif.p10, eif.p90)] if eif else None
        ),
        "forecast_state": found.state,
        "forecast_based_on": found.based_on,
    }


_PARTICIPANT_ID = select(ParticipantRow.id).where(ParticipantRow.key == bindparam("key"))


def _record_once(
    session: Session,
    treaty: Treaty,
    snapshot: Snapshot,
    kind: str,
    legal_date: date | None,
    observed_at: datetime,
    details: dict[str, Any],
    deciding: Instrument | None = None,
    state: str = "final",
) -> bool:
    """Insert a rule event the treaty does not have yet (the caller checked: `_Held.recorded`),
    unless a racing writer recorded it first; a `disputed` one is held: no deliveries until it
    becomes final (`settle_disputed`, `confirm_disputed`)."""
    participant_id = None
    if deciding is not None and not deciding.via:
        participant_id = session.scalar(_PARTICIPANT_ID, {"key": deciding.participant})
    try:
        with session.begin_nested():
            event = Event(
                treaty_id=treaty.id,
                snapshot_id=snapshot.id,
                kind=kind,
                participant_id=participant_id,
                participant_name=deciding.name if deciding else None,
                legal_date=legal_date,
                observed_at=observed_at,
                details=details,
                state=state,
                once_key=kind,
            )
            session.add(event)
            session.flush()
            if state == "final":
                outbox.enqueue(session, [event.id], observed_at)  # same transaction as the event
    except IntegrityError:  # another process recorded it first
        return False
    return True


def evaluate_treaty(
    session: Session,
    treaty: Treaty,
    *,
    now: datetime,
    approaching: int = DEFAULTS.approaching_remaining,
    snapshot: Snapshot | None = None,
    status: TreatyStatus | None = None,
) -> Detection:
    """Evaluate the treaty's rule on its latest snapshot and record the rule events now due
    (`status`: that snapshot's status as parsed, when the caller has it)."""
    slug = source_slug(session, treaty.source_id) or ""
    result = Detection(registry.public_id(slug, treaty.external_id) if slug else treaty.external_id)
    rule, status, snapshot = rule_and_status(session, treaty, snapshot, status)
    if rule is None or status is None or snapshot is None:
        return result
    ev = evaluate(
        rule,
        as_last_seen(status, treaty),
        confirmations=confirmations(session, treaty.id),
        today=now.date(),
        **rule_context(session, treaty, rule),
    )
    result.evaluation = ev
    stored = _Held(session, treaty)
    if ev.agrees is True and stored.any_disputed():
        result.settled = settle_disputed(session, treaty, ev, snapshot, now)
        stored.forget_events()  # settling changes states and frees once keys
    state, held = ("disputed", _held(ev, snapshot, now)) if ev.agrees is False else ("final", {})
    met = ev.threshold_met_on
    if met is None:
        if 0 < ev.remaining <= approaching and not stored.recorded("approaching"):
            last = ev.instruments[-1].date if ev.instruments else None
            details = _details(stored, ev, now, last) | {"approaching_at": approaching}
            details |= held | _expected(session, result.treaty, rule, status, ev, now.date())
            if _record_once(
                session, treaty, snapshot, "approaching", last, now, details, state=state
            ):
                result.created.append("approaching")
        return result
    if not stored.recorded("threshold_crossed"):
        details = _details(stored, ev, now, met) | held
        deciding = ev.deciding[0] if len(ev.deciding) == 1 else None
        if _record_once(
            session, treaty, snapshot, "threshold_crossed", met, now, details, deciding, state
        ):
            result.created.append("threshold_crossed")
    eif = ev.computed
    if eif is not None and eif <= now.date() and not stored.recorded("entered_into_force"):
        details = _details(stored, ev, now, eif) | held
        if _record_once(
            session, treaty, snapshot, "entered_into_force", eif, now, details, state=state
        ):
            result.created.append("entered_into_force")
    if state == "disputed" and result.created:
        result.disputed = list(result.created)
        log.warning(
            "%s: %s held as disputed: %s",
            treaty.external_id,
            ", ".join(result.created),
            ev.disagreement,
        )
    for kind in result.created:
        log.info("%s: %s (met %s, entry into force %s)", treaty.external_id, kind, met, eif)
    return result


def evaluate_all(
    session: Session, *, now: datetime, approaching: int = DEFAULTS.approaching_remaining
) -> list[Detection]:
    """Evaluate every treaty that has an accepted snapshot (the daily job)."""
    treaties = session.scalars(
        select(Treaty)
        .where(select(Snapshot.id).where(Snapshot.treaty_id == Treaty.id).exists())
        .order_by(Treaty.id)
    ).all()
    return [evaluate_treaty(session, t, now=now, approaching=approaching) for t in treaties]
