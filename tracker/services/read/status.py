"""The read side of a treaty's status: the answer now (from the latest snapshot, cached) or as
of a legal date / from what was known at a time (tracker.services.read.status_as_of), its
participants with the first observation of each act, and its entry-into-force part.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import ActionRow, Snapshot, Treaty
from db.models import Participant as ParticipantRow
from tracker.catalogue import rule_and_warning
from tracker.domain.endings import Ending
from tracker.domain.evaluate import Evaluation, evaluate
from tracker.domain.models import Action, Column, Participant, TreatyStatus
from tracker.services.read.answer_cache import ANSWERS
from tracker.services.read.common import NotFound, iso_or_none
from tracker.services.read.treaties import find_treaty
from tracker.services.repository import latest_snapshot
from tracker.services.rule_context import rule_context
from tracker.services.rule_events import as_last_seen, confirmations, rule_summary

# A legal act of a participant: (participant key, column, kind, legal date).
ActKey = tuple[str, str, str, date]

FirstObserved = dict[tuple[ActKey, str, bool], datetime]


def _latest(session: Session, treaty: Treaty) -> Snapshot:
    snapshot = latest_snapshot(session, treaty.id)
    if snapshot is None:
        raise NotFound(f"treaty {treaty.external_id!r} has no accepted snapshot yet")
    return snapshot


def _first_observed(session: Session, treaty_id: int) -> dict[tuple[ActKey, str, bool], datetime]:
    query = (
        select(
            ParticipantRow.key,
            ActionRow.column,
            ActionRow.kind,
            ActionRow.legal_date,
            ActionRow.letter,
            ActionRow.withdrawn,
            ActionRow.first_observed_at,
        )
        .join(ParticipantRow, ParticipantRow.id == ActionRow.participant_id)
        .where(ActionRow.treaty_id == treaty_id, ActionRow.ended_snapshot_id.is_(None))
    )
    return {
        ((key, column, kind, legal), letter, withdrawn): first
        for key, column, kind, legal, letter, withdrawn, first in session.execute(query)
    }


def treaty_status(
    session: Session,
    treaty_id: str,
    as_of: date | None = None,
    today: date | None = None,
    known_at: datetime | None = None,
) -> dict[str, Any]:
    """Answer the status of a treaty from its latest snapshot, optionally as of a legal date
    and from what was observed by `known_at` (see `treaty_answer`)."""
    return treaty_answer(session, treaty_id, as_of, today, known_at=known_at).status


def current_status(
    session: Session,
    treaty_id: str,
    as_of: date | None = None,
    today: date | None = None,
    known_at: datetime | None = None,
) -> dict[str, Any]:
    """`treaty_status`, with the current answers (no as_of, no known_at) kept per database,
    keyed by all they are computed from (tracker.services.read.answer_cache.ANSWERS).

    An answer reads the treaty row (its last check), its snapshots (immutable; actions change
    only when one is added), its operator confirmations and today (the catalogue is fixed for
    the process). Three small queries give that key; a hit skips the rest, about two thirds of
    the request's time. Answers with an as_of are not kept (any date may be asked; memory), nor
    answers whose rule reads another treaty (after_treaty, share_of: not in the key).
    Answers are shared: callers must not mutate them.
    """
    day = today or datetime.now(UTC).date()
    if as_of is not None or known_at is not None:
        return treaty_status(session, treaty_id, as_of=as_of, today=day, known_at=known_at)
    treaty, _ = find_treaty(session, treaty_id)
    snapshots = select(func.max(Snapshot.id), func.count(Snapshot.id)).where(
        Snapshot.treaty_id == treaty.id
    )
    last_snapshot, n_snapshots = session.execute(snapshots).one()
    confirmed = tuple(sorted(confirmations(session, treaty.id).items()))
    key = ("status", treaty.id, treaty.last_checked_at, last_snapshot, n_snapshots, confirmed, day)
    cached = ANSWERS.get(session, key)
    if cached is not None:
        return cached
    found = treaty_answer(session, treaty_id, today=day)
    answer = found.status
    if _reads_other_treaties(found):
        return answer  # its key does not cover the other treaty's snapshots: not kept
    ANSWERS.put(session, key, answer)
    return answer


def _reads_other_treaties(found: TreatyAnswer) -> bool:
    """True when the answer's rule reads another treaty (after_treaty, share_of): what that
    treaty's snapshots say changes the answer, and the cache key does not cover them."""
    rule = found.evaluation.rule if found.evaluation is not None else None
    return rule is not None and (rule.after_treaty is not None or rule.share_of is not None)


@dataclass(frozen=True)
class TreatyAnswer:
    """The status answer, with the treaty row and the rule's evaluation it was built from."""

    status: dict[str, Any]
    treaty: Treaty
    evaluation: Evaluation | None


def treaty_answer(
    session: Session,
    treaty_id: str,
    as_of: date | None = None,
    today: date | None = None,
    *,
    known_at: datetime | None = None,
) -> TreatyAnswer:
    """Answer the status of a treaty from its latest snapshot, optionally as of a legal date.

    With `as_of=D` the answer comes from the whole history of accepted snapshots
    (tracker.services.read.status_as_of, tracker.domain.history): only acts whose legal date is
    on or before D and that had not ended on D count; participants with none are left out; an
    act whose end no page dates, and D inside the bounds the pages give, is not counted and
    said so in the warnings. With `known_at=T` only the snapshots observed by T are read.
    """
    if as_of is not None or known_at is not None:
        from tracker.services.read.status_as_of import answer_from_history

        return answer_from_history(session, treaty_id, as_of, today, known_at)
    treaty, slug = find_treaty(session, treaty_id)
    snapshot = _latest(session, treaty)
    status = TreatyStatus.from_dict(snapshot.data)
    views = participant_views(status, _first_observed(session, treaty.id))
    in_force = status.in_force
    rule_answer, ev = rule_fields(
        session,
        treaty,
        slug,
        as_last_seen(status, treaty),
        as_of,
        today or datetime.now(UTC).date(),
    )
    in_force_from = ev.in_force_from if ev is not None else {}
    participants = [v.as_dict() for v in views]
    for p, v in zip(participants, views, strict=True):
        p["in_force_from"] = iso_or_none(in_force_from.get(v.participant.key))
    answer = {
        "treaty": treaty.external_id,
        "title": status.title,
        "source": slug,
        "signatories": sum(1 for v in views if v.signatory),
        "parties": sum(1 for v in views if v.party),
        "published": published_of(status),
        "in_force": in_force,
        "as_of": iso_or_none(as_of),
        "observed_at": iso_or_none(snapshot.observed_at),
        "status_as_at": iso_or_none(snapshot.status_as_at),
        "last_checked_at": iso_or_none(treaty.last_checked_at),
        "source_url": snapshot.url,
        **rule_answer,
        "participants": participants,
    }
    return TreatyAnswer(answer, treaty, ev)


def published_of(status: TreatyStatus) -> dict[str, Any] | None:
    """What the depositary prints of its own counts and entry into force (None: nothing)."""
    published = {
        "signatories": status.published_signatories,
        "parties": status.published_parties,
        "entry_into_force": iso_or_none(status.eif_date),
        "entry_into_force_text": status.eif_text,
    }
    return published if any(v is not None for v in published.values()) else None


def rule_fields(
    session: Session,
    treaty: Treaty,
    slug: str,
    status: TreatyStatus,
    as_of: date | None,
    today: date,
    *,
    endings: Mapping[str, Sequence[Ending]] | None = None,
    known_at: datetime | None = None,
) -> tuple[dict[str, Any], Evaluation | None]:
    """The entry-into-force part of the status answer (all null where no rule is known), and
    the evaluation it comes from."""
    rule, no_rule = rule_and_warning(slug, treaty.external_id, status)
    if rule is None:
        return {
            "rule": None,
            "qualifying_instruments": None,
            "remaining": None,
            "threshold_met_on": None,
            "entry_into_force": {
                "computed": None,
                "published": iso_or_none(status.eif_date),
                "agrees": None,
                "earliest": None,
            },
            "deciding_deposits": [],
            "groups": [],
            "conditions": [],
            "warnings": [no_rule],
        }, None
    ev = evaluate(
        rule,
        status,
        as_of=as_of,
        confirmations=confirmations(session, treaty.id, known_at),
        today=today,
        endings=endings,
        **rule_context(session, treaty, rule, known_at=known_at),
    )
    return {
        "rule": rule_summary(rule),
        "qualifying_instruments": ev.qualifying,
        "remaining": ev.remaining,
        "threshold_met_on": iso_or_none(ev.threshold_met_on),
        "entry_into_force": ev.entry_into_force(),
        "deciding_deposits": ev.deciding_deposits(),
        "groups": [g.to_dict() for g in ev.groups],
        "conditions": [c.to_dict() for c in ev.conditions],
        "warnings": list(ev.warnings),
    }, ev


@dataclass(frozen=True)
class ParticipantView:
    """One participant as answered: its actions that count, with their first observations."""

    participant: Participant
    observed: dict[str, datetime | None]

    @property
    def signatory(self) -> bool:
        return self.participant.is_signatory

    @property
    def party(self) -> bool:
        return self.participant.is_party

    def as_dict(self) -> dict[str, Any]:
        p = self.participant

        def dated(action: Action | None) -> dict[str, Any] | None:
            return {"kind": action.kind, "date": action.date.isoformat()} if action else None

        signature = p.signature
        return {
            "name": p.name,
            "iso3": p.iso3,
            "reio": p.reio,
            "footnotes": list(p.footnotes),
            "signature": signature.date.isoformat() if signature else None,
            "consent": dated(p.consent),
            "provisional_application": dated(p.provisional),
            "withdrawn": p.withdrawn,
            "first_observed_at": {
                k: v.isoformat() if v else None for k, v in self.observed.items()
            },
        }


def participant_views(status: TreatyStatus, first_observed: FirstObserved) -> list[ParticipantView]:
    """The participants as the status prints them, each action with its first observation."""
    views: list[ParticipantView] = []
    for p in status.participants:
        observed: dict[str, datetime | None] = {c.value: None for c in Column}
        actions = sorted(p.actions, key=lambda a: a.date)
        for a in actions:
            act: ActKey = (p.key, a.column.value, a.kind, a.date)
            first = first_observed.get((act, a.letter, a.withdrawn))
            if observed[a.column.value] is None:
                observed[a.column.value] = first
        views.append(ParticipantView(replace(p, actions=tuple(actions)), observed))
    return views
