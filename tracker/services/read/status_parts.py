"""The pieces of a treaty's status answer, shared by the answer now (tracker.services.read.status)
and the answer from the history (tracker.services.read.status_as_of): the answer itself, the
depositary's printed counts, the entry-into-force part and the participants with the first
observation of each act.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from db.models import Treaty
from tracker.catalogue import rule_and_warning
from tracker.domain.endings import Ending
from tracker.domain.evaluate import Evaluation, evaluate
from tracker.domain.models import Action, Column, Participant, TreatyStatus
from tracker.services.read.common import iso_or_none
from tracker.services.rule_context import rule_context
from tracker.services.rule_events import confirmations, rule_summary

# A legal act of a participant: (participant key, column, kind, legal date).
ActKey = tuple[str, str, str, date]

FirstObserved = dict[tuple[ActKey, str, bool], datetime]


@dataclass(frozen=True)
class TreatyAnswer:
    """The status answer, with the treaty row and the rule's evaluation it was built from."""

    status: dict[str, Any]
    treaty: Treaty
    evaluation: Evaluation | None
    parsed: TreatyStatus | None = None  # the latest status it read (None: an as-of answer)


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
        **rule_context(session, treaty, rule, known_at=known_at, slug=slug),
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


def _dated(action: Action | None) -> dict[str, Any] | None:
    return {"kind": action.kind, "date": action.date.isoformat()} if action else None


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
        signature, consent, provisional = p.signature, p.consent, p.provisional
        main = consent or signature  # Participant.withdrawn's, without looking them up again
        return {
            "name": p.name,
            "iso3": p.iso3,
            "reio": p.reio,
            "footnotes": list(p.footnotes),
            "signature": signature.date.isoformat() if signature else None,
            "consent": _dated(consent),
            "provisional_application": _dated(provisional),
            "withdrawn": bool(main and main.withdrawn),
            # the depositary's own printed entry into force for this participant (WIPO Lex's
            # In Force column), beside the computed `in_force_from`; None where none is printed
            "published_in_force_from": iso_or_none(p.published_in_force_from),
            "first_observed_at": {
                k: v.isoformat() if v else None for k, v in self.observed.items()
            },
        }


# Each column's name (Column.X.value), looked up once: an enum's `value` is a slow property.
_COLUMN_NAMES: dict[Column, str] = {c: c.value for c in Column}
_NOT_OBSERVED: dict[str, datetime | None] = dict.fromkeys(_COLUMN_NAMES.values())


def _by_date(a: Action) -> date:
    return a.date


def participant_views(status: TreatyStatus, first_observed: FirstObserved) -> list[ParticipantView]:
    """The participants as the status prints them, each action with its first observation."""
    views: list[ParticipantView] = []
    names = _COLUMN_NAMES
    for p in status.participants:
        observed = _NOT_OBSERVED.copy()
        actions = sorted(p.actions, key=_by_date)
        key = p.key
        for a in actions:
            column = names[a.column]
            if observed[column] is None:
                observed[column] = first_observed.get(
                    ((key, column, a.kind, a.date), a.letter, a.withdrawn)
                )
        in_order = p if actions == list(p.actions) else replace(p, actions=tuple(actions))
        views.append(ParticipantView(in_order, observed))
    return views
