"""The deposits of the day a rule was met: which ones decided it, and why each other did not count.

Standard library only. The deciding deposits are those of that day that met the rule's last
requirement; every other deposit of the day is listed too, with the reason it did not count
(a kind the rule does not count, an organization's, withdrawn, a succession whose predecessor
counted instead ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tracker.domain.counting import GroupState
from tracker.domain.instruments import (
    Instrument,
    counts_reio,
    own_instruments,
    predecessor_instrument,
)
from tracker.domain.models import Action, Column, Participant, TreatyStatus
from tracker.domain.rules import Reio, Rule
from tracker.domain.successions import Successions


@dataclass(frozen=True)
class DayDeposit:
    """A deposit of the day the rule was met: whether it counted, and decided it."""

    instrument: Instrument
    counted: bool
    deciding: bool
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        found = self.instrument.to_dict() | {"counted": self.counted, "deciding": self.deciding}
        if self.reason:
            found["reason"] = self.reason
        return found


def deciding_of(
    instruments: list[Instrument], met: date, count_met: date | None, groups: tuple[GroupState, ...]
) -> tuple[Instrument, ...]:
    """The deposits of the day the rule was met that met its last requirement (a set, if several).

    If the count was met that day, every deposit of the day; otherwise those of the named group
    met that day; if only an operator's confirmation fell on that day, the day's deposits.
    """
    that_day = [i for i in instruments if i.date == met and i.counts_on(met)]
    if count_met == met:
        return tuple(that_day)
    named = {m for g in groups if g.met_on == met for m in g.group.participants}
    if named:
        return tuple(i for i in that_day if set(i.members) & named)
    return tuple(that_day)


def _not_counted(rule: Rule, p: Participant, a: Action, successions: Successions) -> str:
    """Why a deposit of the participant's did not count."""
    if not counts_reio(rule, p):
        if rule.reio is Reio.NOT_ADDITIONAL:
            return (
                "an instrument of a regional economic integration organization: not counted "
                "as additional to those of its member States"
            )
        return "the rule does not count instruments of regional economic integration organizations"
    if a.kind not in rule.counts:
        return f"a kind the rule does not count ({a.kind.replace('_', ' ')})"
    if a.kind == "succession" and successions.covered(p.key):
        return "a succession: its predecessor's own instrument counted instead"
    if a.withdrawn:
        return "deposited but withdrawn"
    own = next(iter(own_instruments(rule, p, ())), None)
    if own is not None and own.date < a.date and not own.withdrawn:
        return f"the participant's earlier {own.kind.replace('_', ' ')} of {own.date} counted"
    return "not counted"


def day_deposits(
    rule: Rule,
    status: TreatyStatus,
    successions: Successions,
    instruments: list[Instrument],
    deciding: tuple[Instrument, ...],
    met: date,
) -> tuple[DayDeposit, ...]:
    """Every deposit of the day the rule was met, counted or not, each saying why if not."""
    found = []
    for i in instruments:
        if i.date == met and not i.counts_on(met):
            why: str | None = "deposited, but withdrawn (in effect by then, or on a date not known)"
            found.append(DayDeposit(i, False, False, why))
        elif i.date == met:
            why = None if i in deciding else "counted, but not among what met the rule that day"
            found.append(DayDeposit(i, True, i in deciding, why))
    counted = {(i.participant, i.kind, i.date) for i in instruments}
    for p in status.participants:
        for a in p.actions:
            deposit = a.column is Column.CONSENT or a.kind == "definitive_signature"
            if not deposit or a.date != met or (p.key, a.kind, a.date) in counted:
                continue
            i = Instrument(p.key, p.name, p.iso3, a.kind, a.date, a.withdrawn)
            found.append(DayDeposit(i, False, False, _not_counted(rule, p, a, successions)))
    for pred in successions.instruments:
        if pred.date == met and pred.kind not in rule.counts:
            i = predecessor_instrument(pred)
            why = f"a kind the rule does not count ({pred.kind.replace('_', ' ')})"
            found.append(DayDeposit(i, False, False, why))
    return tuple(sorted(found, key=lambda d: (not d.deciding, d.instrument.name)))
