"""Pure helpers for the status answer: participants as of a legal date, and MTDSG sort order."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from tracker.domain.models import Action, Column, Participant, TreatyStatus
from tracker.sources.untc_urls import roman_to_int

# A legal act of a participant: (participant key, column, kind, legal date).
ActKey = tuple[str, str, str, date]
FirstObserved = dict[tuple[ActKey, str, bool], datetime]


def _roman(text: str) -> int | None:
    try:
        return roman_to_int(text)
    except ValueError:
        return None


def sort_key(treaty_id: str) -> tuple[Any, ...]:
    """Order MTDSG numbers by chapter (roman), then each numeric or textual part ("XXVI-9-a")."""
    head, _, rest = treaty_id.partition("-")
    chapter = _roman(head.upper())
    parts = tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[-.]", rest) if p
    )
    return (chapter is None, chapter or 0, head, parts)


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


def _counts_at(action: Action, act: ActKey, as_of: date | None, seen: dict[ActKey, date]) -> Action:
    """Drop the brackets of an action known to have still stood on `as_of`."""
    if as_of is not None and action.withdrawn and seen.get(act, date.min) >= as_of:
        return replace(action, withdrawn=False)
    return action


def participant_views(
    status: TreatyStatus,
    first_observed: FirstObserved,
    as_of: date | None,
    seen_unbracketed: dict[ActKey, date],
) -> list[ParticipantView]:
    """Build the participants answered for `as_of` (None: everything the latest snapshot says)."""
    views: list[ParticipantView] = []
    for p in status.participants:
        kept = [a for a in p.actions if as_of is None or a.date <= as_of]
        if as_of is not None and not kept:
            continue
        observed: dict[str, datetime | None] = {c.value: None for c in Column}
        actions: list[Action] = []
        for a in sorted(kept, key=lambda a: a.date):
            act: ActKey = (p.key, a.column.value, a.kind, a.date)
            first = first_observed.get((act, a.letter, a.withdrawn))
            if observed[a.column.value] is None:
                observed[a.column.value] = first
            actions.append(_counts_at(a, act, as_of, seen_unbracketed))
        views.append(ParticipantView(replace(p, actions=tuple(actions)), observed))
    return views
