"""Counting instruments towards a rule: distinct participants, groups, a share of another treaty.

Standard library only. A State counts once however many instruments it deposited; a group counts
its members (a predecessor's instrument stands for its successors); a threshold that is a share
of another treaty's parties is met only on a day that number is known. The warnings where what
is not known could change the count: a withdrawal of unknown date, an organization's (REIO)
instrument when the rule does not say how it counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from tracker.domain.endings import Ending
from tracker.domain.instruments import Instrument, qualifying_instruments
from tracker.domain.models import TreatyStatus
from tracker.domain.rules import Group, Reio, Rule
from tracker.domain.successions import Successions


@dataclass(frozen=True)
class GroupState:
    group: Group
    first: Mapping[str, date]  # each member with a qualifying instrument: its first deposit
    met_on: date | None

    @property
    def have(self) -> tuple[str, ...]:
        """ISO3 of the members with a qualifying instrument."""
        return tuple(sorted(self.first))

    @property
    def dates(self) -> list[date]:
        """The members' first deposits, oldest first."""
        return sorted(self.first.values())

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(p for p in self.group.participants if p not in self.have)

    @property
    def remaining(self) -> int:
        return max(0, self.group.needed - len(self.have))

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.group.label,
            "needed": self.group.needed,
            "have": len(self.have),
            "missing": list(self.missing),
            "met_on": self.met_on.isoformat() if self.met_on else None,
        }


def first_day(
    instruments: Sequence[Instrument],
    needed: int,
    *,
    sure: bool = True,
    members: tuple[str, ...] | None = None,
) -> date | None:
    """The first deposit day on which `needed` instruments (or members of `members`) count,
    withdrawals in effect by then left out (see Instrument.counts_on for `sure`)."""
    if all(i.ending is None for i in instruments):
        return _first_day_unended(instruments, needed, members)
    for day in sorted({i.date for i in instruments}):
        counting = [i for i in instruments if i.counts_on(day, sure=sure)]
        if members is None:
            have = len({i.participant for i in counting})  # a State counts once
        else:
            have = len({m for i in counting for m in i.members if m in members})
        if have >= needed:
            return day
    return None


def _first_day_unended(
    instruments: Sequence[Instrument], needed: int, members: tuple[str, ...] | None
) -> date | None:
    """`first_day` where no instrument ever ends: each counts from its own date on, so the
    count only grows, and one walk in date order finds the day (whatever `sure`)."""
    have: set[str] = set()
    ordered = sorted(instruments, key=lambda i: i.date)
    at = 0
    while at < len(ordered):
        day = ordered[at].date
        while at < len(ordered) and ordered[at].date == day:  # every deposit of that day
            i = ordered[at]
            if members is None:
                have.add(i.participant)  # a State counts once
            else:
                have.update(m for m in i.members if m in members)
            at += 1
        if len(have) >= needed:
            return day
    return None


def group_state(group: Group, instruments: list[Instrument], day: date) -> GroupState:
    first: dict[str, date] = {}
    for i in instruments:  # oldest first
        if not i.counts_on(day):
            continue
        for member in i.members:
            if member in group.participants:
                first.setdefault(member, i.date)
    met = first_day(instruments, group.needed, members=group.participants)
    return GroupState(group, first, met)


def unknown_ends(
    instruments: Sequence[Instrument],
    needed: int,
    members: tuple[str, ...] | None,
    sure: date | None,
) -> str | None:
    """A warning when instruments withdrawn on unknown dates could make the rule met earlier
    than the instruments known to count (None: they change nothing)."""
    maybe = first_day(instruments, needed, sure=False, members=members)
    if maybe is None or maybe == sure:
        return None
    names = sorted(
        {
            i.name
            for i in instruments
            if i.end_unknown and i.counts_on(maybe, sure=False) and not i.counts_on(maybe)
        }
    )
    known = (
        f"it is met on {sure.isoformat()} without them" if sure else "it is not met without them"
    )
    return (
        f"the threshold would be met on {maybe.isoformat()} counting {', '.join(names)}, "
        f"withdrawn on a date not known; not declared met on their strength ({known})"
    )


def share_met(
    rule: Rule,
    instruments: list[Instrument],
    counting: list[Instrument],
    base: date | None,
    parties_of: Callable[[str, date], int | None] | None,
) -> tuple[int, date | None]:
    """A threshold that is a share of another treaty's parties: (remaining, day met).

    Met on the first deposit day on which the instruments counting that day reach the share of
    the other treaty's parties that day (`parties_of(treaty, day)`); a day whose number of
    parties is unknown stops the count there: no date on the strength of a guess."""
    share = rule.share_of
    assert share is not None
    for day in sorted({i.date for i in instruments}):
        parties = parties_of(share.treaty, day) if parties_of else None
        if parties is None:
            return 0, None
        have = len({i.participant for i in instruments if i.counts_on(day)})
        if parties and have >= share.needed(parties):
            return 0, day
    parties = parties_of(share.treaty, base) if parties_of and base else None
    if parties is None:
        return 0, None
    return max(0, share.needed(parties) - len({i.participant for i in counting})), None


def share_unknown(
    rule: Rule,
    instruments: list[Instrument],
    base: date | None,
    parties_of: Callable[[str, date], int | None] | None,
) -> str | None:
    """The warning when the other treaty's number of parties is not known where it is needed."""
    share = rule.share_of
    assert share is not None
    days = sorted({i.date for i in instruments} | ({base} if base else set()))
    unknown = [d for d in days if parties_of is None or parties_of(share.treaty, d) is None]
    if not unknown:
        return None
    return (
        f"the threshold is {share.words()}, whose number of parties is not known on"
        f" {unknown[0].isoformat()}; no date is computed"
    )


def reio_difference(
    rule: Rule,
    status: TreatyStatus,
    successions: Successions,
    endings: Mapping[str, Sequence[Ending]],
    as_of: date | None,
    answer_day: date,
    count_met: date | None,
    remaining: int,
) -> str | None:
    """With reio unknown, REIO instruments are left out; say so where counting them would change
    the count or the day the threshold is met."""
    if rule.reio is not Reio.UNKNOWN or rule.threshold is None:
        return None
    both = [
        i
        for i in qualifying_instruments(
            replace(rule, reio=Reio.AS_STATE), status, successions, endings
        )
        if as_of is None or i.date <= as_of
    ]
    reio_keys = {p.key for p in status.participants if p.reio}
    extra = [i for i in both if i.participant in reio_keys]
    if not extra:
        return None
    with_met = first_day(both, rule.threshold)
    with_remaining = (
        0
        if with_met
        else max(0, rule.threshold - len([i for i in both if i.counts_on(answer_day)]))
    )
    if (with_met, with_remaining) == (count_met, remaining):
        return None
    named = ", ".join(f"{i.name} ({i.date.isoformat()})" for i in extra)
    if with_met is not None:
        effect = f"the threshold would be met on {with_met.isoformat()}"
    else:
        effect = f"{with_remaining} would remain"
    return (
        "the rule does not say how an instrument of a regional economic integration organization"
        f" counts: not counted here; counting {named}, {effect}"
    )
