"""Pure helpers for the status answer: participants as of a legal date, and the order of treaty ids."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from tracker.domain.models import Action, Column, Participant, TreatyStatus
from tracker.sources.registry import sort_key

# A legal act of a participant: (participant key, column, kind, legal date).
ActKey = tuple[str, str, str, date]
FirstObserved = dict[tuple[ActKey, str, bool], datetime]

__all__ = ["ActKey", "FirstObserved", "ParticipantView", "participant_views", "sort_key"]


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
