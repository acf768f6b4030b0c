"""What changed between two consecutive accepted statuses of one treaty. Pure, stdlib only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from tracker.domain.models import Action, Column, Participant, TreatyStatus


class ChangeKind(StrEnum):
    SIGNATURE = "signature"
    CONSENT = "consent"
    PROVISIONAL_APPLICATION = "provisional_application"
    WITHDRAWAL = "withdrawal"
    CORRECTION = "correction"
    PARTICIPANT_DISAPPEARED = "participant_disappeared"
    # A dated cell gone from a later page, not bracketed as withdrawn: suspicious like a
    # participant's disappearance (the later page may be the wrong one) until confirmed.
    ACTION_DISAPPEARED = "action_disappeared"


# Absences: suspicious until a fresh page observed long enough later confirms them.
ABSENCES: frozenset[ChangeKind] = frozenset(
    {ChangeKind.PARTICIPANT_DISAPPEARED, ChangeKind.ACTION_DISAPPEARED}
)


_ADDED = {
    Column.SIGNATURE: ChangeKind.SIGNATURE,
    Column.CONSENT: ChangeKind.CONSENT,
    Column.PROVISIONAL: ChangeKind.PROVISIONAL_APPLICATION,
}


@dataclass(frozen=True)
class Change:
    """One event between two statuses: who, what, and the legal date it concerns."""

    kind: ChangeKind
    participant_key: str
    participant_name: str
    iso3: str | None
    legal_date: date | None
    action_kind: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None

    def details(self) -> dict[str, Any]:
        return {"action_kind": self.action_kind, "before": self.before, "after": self.after}


def _change(kind: ChangeKind, p: Participant, action: Action | None, **kw: Any) -> Change:
    return Change(
        kind=kind,
        participant_key=p.key,
        participant_name=p.name,
        iso3=p.iso3,
        legal_date=action.date if action else None,
        action_kind=action.kind if action else None,
        **kw,
    )


def _column_changes(column: Column, old: Participant, new: Participant) -> list[Change]:
    before = sorted((a for a in old.actions if a.column is column), key=lambda a: a.date)
    after = sorted((a for a in new.actions if a.column is column), key=lambda a: a.date)
    if before == after:
        return []
    if not before:
        return [_change(_ADDED[column], new, a, after=a.to_dict()) for a in after]
    # 1. Cells printed alike on both pages are no change.
    gone = list(before)
    came: list[Action] = []
    for a in after:
        if a in gone:
            gone.remove(a)
        else:
            came.append(a)
    changes: list[Change] = []
    # 2. The same act (date and kind) printed differently: a withdrawal adds brackets; anything
    # else (brackets removed, another letter of the same kind) is a correction.
    for a in list(came):
        b = next((b for b in gone if (b.date, b.kind) == (a.date, a.kind)), None)
        if b is None:
            continue
        gone.remove(b)
        came.remove(a)
        kind = ChangeKind.WITHDRAWAL if a.withdrawn and not b.withdrawn else ChangeKind.CORRECTION
        changes.append(_change(kind, new, a, before=b.to_dict(), after=a.to_dict()))
    # 3. What is left pairs by position in date order: the depositary corrected a date or kind.
    for b, a in zip(gone, came, strict=False):
        changes.append(
            _change(ChangeKind.CORRECTION, new, a, before=b.to_dict(), after=a.to_dict())
        )
    # 4. Then new cells are added acts, and cells gone without a replacement vanished.
    for a in came[len(gone) :]:
        changes.append(_change(_ADDED[column], new, a, after=a.to_dict()))
    for b in gone[len(came) :]:
        changes.append(_change(ChangeKind.ACTION_DISAPPEARED, new, b, before=b.to_dict()))
    return changes


def diff(previous: TreatyStatus, current: TreatyStatus) -> list[Change]:
    """List the changes from `previous` to `current`, participants matched by identity key."""
    old = {p.key: p for p in previous.participants}
    new = {p.key: p for p in current.participants}
    changes: list[Change] = []
    for key, p in new.items():
        before = old.get(key, Participant(name=p.name, iso3=p.iso3, reio=p.reio))
        for column in Column:
            changes.extend(_column_changes(column, before, p))
    for key, p in old.items():
        if key not in new:
            last = max(p.actions, key=lambda a: a.date) if p.actions else None
            changes.append(
                _change(
                    ChangeKind.PARTICIPANT_DISAPPEARED,
                    p,
                    last,
                    before=p.to_dict(),
                )
            )
    return changes
