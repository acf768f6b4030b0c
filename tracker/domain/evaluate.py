"""Apply an entry-into-force rule to a treaty's status: counts, remaining, dates, deciding deposits.

Pure: the caller passes the status as last observed, the legal date to answer for, the
operator's confirmations of outside-data conditions, and today's date for projections.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from tracker.domain.models import Action, Column, Participant, TreatyStatus
from tracker.domain.rules import STATES, Group, Reio, Rule
from tracker.domain.successions import (
    PredecessorInstrument,
    Successions,
    UnreadableSuccession,
    predecessor_instruments,
)
from tracker.domain.withdrawals import Ending, ends_of, read_withdrawals


@dataclass(frozen=True)
class Instrument:
    """One deposit that counts towards the rule (a predecessor's, where `via` names it)."""

    participant: str  # Participant.key, or "predecessor:<name>"
    name: str
    iso3: str | None
    kind: str
    date: date
    withdrawn: bool = False
    via: str | None = None
    successors: tuple[str, ...] = ()  # for a predecessor's instrument: the keys of its successors
    ending: Ending | None = None  # the withdrawal that ended it, if one did or is due

    @property
    def ended_on(self) -> date | None:
        """The day it stopped counting (its withdrawal took effect), where known."""
        return self.ending.effective_on if self.ending else None

    @property
    def end_unknown(self) -> bool:
        """Ended (or ending) on a date nobody has printed."""
        return self.ending is not None and self.ending.effective_on is None

    def counts_on(self, day: date, *, sure: bool = True) -> bool:
        """True if it counts on `day`: deposited by then and not yet withdrawn. For an end of
        unknown date, `sure` counts it only where the history shows it still in force, and
        otherwise wherever it is not known to have ended."""
        if self.date > day:
            return False
        if self.ending is None:
            return True
        if self.ending.effective_on is not None:
            return day < self.ending.effective_on
        if sure:  # bound until the history says so, and before any notification of its end
            bound = self.ending.not_before
            if self.ending.notified_on is not None:
                before = self.ending.notified_on - timedelta(days=1)
                bound = before if bound is None else max(bound, before)
            return bound is not None and day <= bound
        return self.ending.not_after is None or day < self.ending.not_after

    @property
    def members(self) -> tuple[str, ...]:
        """The participants this instrument stands for (itself, or a predecessor's successors)."""
        return self.successors if self.via else ((self.iso3,) if self.iso3 else ())

    def to_dict(self) -> dict[str, Any]:
        d = {
            "participant": self.name,
            "iso3": self.iso3,
            "kind": self.kind,
            "date": self.date.isoformat(),
        }
        if self.withdrawn:
            d["withdrawn"] = True
        if self.ending is not None:
            d["withdrawal"] = self.ending.to_dict()
        if self.via:
            d["predecessor_of"] = self.via
        return d


@dataclass(frozen=True)
class ConditionState:
    key: str
    description: str
    met_on: date | None

    @property
    def state(self) -> str:
        return "confirmed" if self.met_on is not None else "awaiting confirmation"

    def to_dict(self) -> dict[str, Any]:
        met = self.met_on.isoformat() if self.met_on else None
        return {
            "key": self.key,
            "description": self.description,
            "state": self.state,
            "met_on": met,
        }


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


@dataclass(frozen=True)
class Printed:
    """What the depositary prints about entry into force, and the page's own date."""

    in_force: bool | None  # from the label: "Entry into force" / "Not yet in force" (None: none)
    date: date | None  # the printed entry-into-force date
    label: str | None = None
    as_at: date | None = None  # the page's "status as at" day (None: not printed)

    @classmethod
    def of(cls, status: TreatyStatus) -> Printed:
        as_at = status.status_as_at.date() if status.status_as_at else None
        return cls(status.in_force, status.eif_date, status.eif_label, as_at)

    def words(self) -> str:
        if self.date is not None:
            return self.date.isoformat()
        return " ".join((self.label or "").rstrip(": ").split()) or "nothing"


def cross_check(
    printed: Printed,
    computed: date | None,
    met: date | None,
    as_of: date | None,
    today: date | None = None,
) -> tuple[bool | None, str | None]:
    """Compare the computed answer with the printed one, as of `as_of` (None: the page's present).

    Disagreements: a printed date other than the computed one, or printed while the rule is not
    met; computed in force on the page's own day (its "status as at" stamp, else `as_of`, else
    `today`) where the page prints "Not yet in force"; printed in force while the rule is not
    met. A rule met whose entry into force is still to come on that day agrees with "Not yet in
    force": the treaty is not in force yet. A printed date after `as_of` says only that the
    treaty was not in force on `as_of`: it disagrees only with a computed date on or before
    `as_of`. A page dated before the day the rule was met (an operator's later confirmation)
    cannot disagree.
    """
    says = f"the depositary prints {printed.words()}"
    ours = (
        f"computed {computed.isoformat()}" if computed else "computed not in force (rule not met)"
    )
    if printed.date is not None:
        if as_of is not None and printed.date > as_of:
            if computed is not None and computed <= as_of:
                return False, f"{ours} (in force on {as_of.isoformat()}), {says}"
            return None, None
        if computed != printed.date:
            return False, f"{ours}, {says}"
        return True, None
    if printed.in_force is False:
        if printed.as_at is not None and met and met > printed.as_at:
            return None, None  # met after the page was printed: it could not know
        if computed is None:
            return True, None
        day = printed.as_at or as_of or today
        if day is not None and computed > day:
            return True, None  # met, its entry into force still to come on the page's day
        return False, f"{ours}, {says}"
    if printed.in_force:  # in force, no date printed: comparable only from the page's day on
        if as_of is not None and (printed.as_at is None or as_of < printed.as_at):
            return None, None
        day = printed.as_at or as_of
        if computed is None or (day is not None and computed > day):
            return False, f"{ours}, {says}"
        return True, None
    return None, None


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


@dataclass(frozen=True)
class Evaluation:
    rule: Rule
    as_of: date | None
    instruments: tuple[Instrument, ...]
    remaining: int
    groups: tuple[GroupState, ...]
    conditions: tuple[ConditionState, ...]
    threshold_met_on: date | None
    deciding: tuple[Instrument, ...]
    computed: date | None
    published: date | None
    earliest: date | None  # if what remains were deposited on the as-of date (or today)
    in_force_from: Mapping[str, date | None]  # None: joined later, its delay is not known
    warnings: tuple[str, ...]
    counted: int | None = None  # instruments counting on the answer's day (withdrawn ones out)
    today: date | None = None  # the day the answer was made for (projections, the cross-check)
    printed: Printed | None = None  # what the depositary prints (None: not given)
    # Every deposit of the deciding day, the ones that did not count among them (with why).
    deciding_day: tuple[DayDeposit, ...] = ()

    @property
    def check(self) -> tuple[bool | None, str | None]:
        """Whether the computed answer agrees with the printed one, and the disagreement."""
        if self.printed is None:  # built without the page's print: the printed date alone
            return (
                (None, None) if self.published is None else (self.computed == self.published, None)
            )
        return cross_check(
            self.printed, self.computed, self.threshold_met_on, self.as_of, self.today
        )

    @property
    def agrees(self) -> bool | None:
        """The computed answer agrees with what the depositary prints, label and date (None:
        nothing printed that can be compared on the as-of date)."""
        return self.check[0]

    @property
    def disagreement(self) -> str | None:
        """The disagreement in words, naming both answers (None when they do not disagree)."""
        return self.check[1]

    def deciding_deposits(self) -> list[dict[str, Any]]:
        """Every deposit of the deciding day: `counted` and `deciding`, with a `reason` when
        not deciding (each entry keeps the keys of Instrument.to_dict)."""
        if not self.deciding_day:
            return [i.to_dict() | {"counted": True, "deciding": True} for i in self.deciding]
        return [d.to_dict() for d in self.deciding_day]

    @property
    def qualifying(self) -> int:
        """Instruments that count on the answer's day (as of, or today)."""
        return len(self.instruments) if self.counted is None else self.counted

    def entry_into_force(self) -> dict[str, Any]:
        return {
            "computed": _iso(self.computed),
            "published": _iso(self.published),
            "agrees": self.agrees,
            "earliest": _iso(self.earliest),
        }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _counts_reio(rule: Rule, participant: Participant) -> bool:
    return _counts_who(rule, participant) and (not participant.reio or rule.reio is Reio.AS_STATE)


def _counts_who(rule: Rule, participant: Participant) -> bool:
    """Whether the rule's restriction on who counts (`only`) lets this participant's count."""
    if rule.only == STATES:
        return not participant.reio
    if isinstance(rule.only, Group):
        return participant.iso3 in rule.only.participants
    return True


def _own_instruments(rule: Rule, p: Participant, endings: Sequence[Ending]) -> list[Instrument]:
    """The participant's consent acts of a counted kind, each with the ending that ended it.

    Each act counts during its own lifetime: a re-accession after a withdrawal counts again from
    its own date. An ending belongs to the latest act deposited before it; a bracketed act left
    without one ended on a date not known (before the next act, where there is one). Endings of
    other columns (a signature gone) end no instrument."""
    acts = sorted(
        (
            a
            for a in p.actions
            if a.kind in rule.counts
            and (a.column is Column.CONSENT or a.kind == "definitive_signature")
        ),
        key=lambda a: a.date,
    )
    columns = {None, Column.CONSENT.value}
    if any(a.column is Column.SIGNATURE for a in acts):  # a definitive signature is an instrument
        columns.add(Column.SIGNATURE.value)
    ends = ends_of(p.key, acts, [e for e in endings if e.column in columns])
    return [
        Instrument(p.key, p.name, p.iso3, a.kind, a.date, a.withdrawn, ending=ending)
        for a, ending in zip(acts, ends, strict=True)
    ]


def _predecessor(pred: PredecessorInstrument) -> Instrument:
    """A predecessor's instrument told in its successors' footnotes, standing for them."""
    return Instrument(
        "predecessor:" + pred.predecessor,
        pred.predecessor,
        None,
        pred.kind,
        pred.date,
        via=", ".join(pred.successors),
        successors=pred.successors,
    )


def qualifying_instruments(
    rule: Rule,
    status: TreatyStatus,
    successions: Successions,
    endings: Mapping[str, Sequence[Ending]] | None = None,
) -> list[Instrument]:
    """Every instrument that counts, oldest first: the rows' own and their predecessors', each
    with the withdrawal that ended it (`endings`: per participant key; read from the status's
    footnotes when not given)."""
    if endings is None:
        endings = read_withdrawals(status, rule.withdrawal).endings
    found: list[Instrument] = []
    for p in status.participants:
        if not _counts_reio(rule, p):
            continue
        consent = p.consent
        if consent is not None and consent.kind == "succession" and successions.covered(p.key):
            continue  # the predecessor's instrument is what counted
        found.extend(_own_instruments(rule, p, endings.get(p.key, ())))
    for pred in successions.instruments:
        if isinstance(rule.only, Group) and not set(pred.successors) <= set(rule.only.participants):
            continue  # a predecessor counts for a group only if all its successors are members
        if pred.kind in rule.counts:
            found.append(_predecessor(pred))
    return sorted(found, key=lambda i: (i.date, i.name))


def _first_day(
    instruments: Sequence[Instrument],
    needed: int,
    *,
    sure: bool = True,
    members: tuple[str, ...] | None = None,
) -> date | None:
    """The first deposit day on which `needed` instruments (or members of `members`) count,
    withdrawals in effect by then left out (see Instrument.counts_on for `sure`)."""
    for day in sorted({i.date for i in instruments}):
        counting = [i for i in instruments if i.counts_on(day, sure=sure)]
        if members is None:
            have = len({i.participant for i in counting})  # a State counts once
        else:
            have = len({m for i in counting for m in i.members if m in members})
        if have >= needed:
            return day
    return None


def _group_state(group: Group, instruments: list[Instrument], day: date) -> GroupState:
    first: dict[str, date] = {}
    for i in instruments:  # oldest first
        if not i.counts_on(day):
            continue
        for member in i.members:
            if member in group.participants:
                first.setdefault(member, i.date)
    met = _first_day(instruments, group.needed, members=group.participants)
    return GroupState(group, first, met)


def _unknown_ends(
    instruments: Sequence[Instrument],
    needed: int,
    members: tuple[str, ...] | None,
    sure: date | None,
) -> str | None:
    """A warning when instruments withdrawn on unknown dates could make the rule met earlier
    than the instruments known to count (None: they change nothing)."""
    maybe = _first_day(instruments, needed, sure=False, members=members)
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


def _deciding(
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
    if not _counts_reio(rule, p):
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
    own = next(iter(_own_instruments(rule, p, ())), None)
    if own is not None and own.date < a.date and not own.withdrawn:
        return f"the participant's earlier {own.kind.replace('_', ' ')} of {own.date} counted"
    return "not counted"


def _deciding_day(
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
            why = "deposited, but withdrawn (in effect by then, or on a date not known)"
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
            i = _predecessor(pred)
            why = f"a kind the rule does not count ({pred.kind.replace('_', ' ')})"
            found.append(DayDeposit(i, False, False, why))
    return tuple(sorted(found, key=lambda d: (not d.deciding, d.instrument.name)))


# The kinds a predecessor's instrument told in a footnote can be (tracker.domain.successions).
_PREDECESSOR_KINDS = frozenset(
    {"ratification", "accession", "acceptance", "approval", "succession"}
)


def _unreadable_that_matter(
    rule: Rule,
    status: TreatyStatus,
    successions: Successions,
    instrument_met: list[date | None],
    as_of: date | None,
) -> list[UnreadableSuccession]:
    """The successions whose unread predecessor instrument could change the answer on `as_of`.

    That instrument's date is unknown but before the succession (and not before adoption).
    Counted by `as_of` it could change the count or the date the rule was met:
    - when the rule does not count successions: always (it would be one instrument more);
    - when it does (the succession then stands for it): before the succession's date (it could
      count already); from then on, if the succession is on or after a date the count or a
      group was met (moved earlier, it could move that date), or if another unread succession
      counts too (both may stand for one predecessor instrument, counted once).
    """
    if not set(rule.counts) & _PREDECESSOR_KINDS:
        return []
    if as_of is not None and status.adoption_date and as_of < status.adoption_date:
        return []
    if "succession" not in rule.counts:
        return list(successions.unreadable)
    counted = [u for u in successions.unreadable if as_of is None or u.date <= as_of]
    found = []
    for u in successions.unreadable:
        if u not in counted:
            found.append(u)  # its predecessor's instrument may predate `as_of`
        elif any(m is not None and u.date >= m for m in instrument_met) or len(counted) > 1:
            found.append(u)
    return found


def _entry_date(rule: Rule, met: date) -> date:
    if rule.fixed_date is not None and met <= rule.fixed_date:
        when = rule.fixed_date
    else:
        when = rule.delay.apply(met)
    return max(when, rule.not_before) if rule.not_before else when


def _consent(p: Participant) -> Action | None:
    """A participant's consent to be bound: its consent-column action or a definitive signature."""
    acts = [a for a in p.actions if a.column is Column.CONSENT or a.kind == "definitive_signature"]
    return min(acts, key=lambda a: a.date) if acts else None


def _in_force_from(
    rule: Rule, status: TreatyStatus, met: date, eif: date, as_of: date | None
) -> dict[str, date | None]:
    """Entry into force for each participant with a consent: the treaty's date, or its own
    (None: it joined after the rule was met and the rule does not give the later delay)."""
    result: dict[str, date | None] = {}
    later = rule.later_delay()
    for p in status.participants:
        consent = _consent(p)
        if consent is None or (as_of is not None and consent.date > as_of):
            continue
        if consent.date <= met:
            result[p.key] = eif
        elif consent.kind == "succession":  # bound from its succession, not after a delay
            result[p.key] = max(eif, consent.date)
        elif later is None:
            result[p.key] = None
        else:
            result[p.key] = max(eif, later.apply(consent.date))
    return result


def _later_unknown(
    rule: Rule, status: TreatyStatus, in_force_from: Mapping[str, date | None]
) -> str | None:
    """The warning naming who joined after the rule was met when the later delay is unknown."""
    names = [
        p.name
        for p in status.participants
        if p.key in in_force_from and in_force_from[p.key] is None
    ]
    if not names:
        return None
    return (
        "the rule does not say when the treaty enters into force for a participant joining"
        " after it was met; not known for: " + ", ".join(names)
    )


def _share_met(
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


def _share_unknown(
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


def _after_treaty(
    rule: Rule, computed: date | None, others: Mapping[str, date | None] | None, warnings: list[str]
) -> date | None:
    """Not before the other treaty's entry into force (its date from `others`); unknown: the
    catalogue's not_before fallback if there is one, else a warning and no date."""
    if rule.after_treaty is None or computed is None:
        return computed
    other = (others or {}).get(rule.after_treaty)
    if other is not None:
        return max(computed, other)
    if rule.not_before is not None:
        return computed  # not_before, already applied, stands for the other treaty's date
    warnings.append(
        f"enters into force not before {rule.after_treaty} does, whose entry into force is not"
        " known; no date is computed"
    )
    return None


def _reio_difference(
    rule: Rule,
    status: TreatyStatus,
    successions: Successions,
    endings: Mapping[str, Sequence[Ending]] | None,
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
    with_met = _first_day(both, rule.threshold)
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


def evaluate(
    rule: Rule,
    status: TreatyStatus,
    *,
    as_of: date | None = None,
    confirmations: Mapping[str, date] | None = None,
    today: date | None = None,
    endings: Mapping[str, Sequence[Ending]] | None = None,
    others: Mapping[str, date | None] | None = None,
    parties_of: Callable[[str, date], int | None] | None = None,
) -> Evaluation:
    """Evaluate `rule` on the whole `status`, counting only what was deposited by `as_of` if given.

    Pass the full status, not one cut to `as_of`: a successor's row dated after `as_of` still
    carries the footnote that gives its predecessor's earlier instrument.

    An instrument counts from its deposit until its withdrawal takes effect (`endings`, per
    participant key; read from the status's footnotes and the rule's withdrawal clause when not
    given): one withdrawn before the rule was met does not count toward it, one withdrawn after
    still counted when it did. A withdrawal of unknown date never makes the rule met.

    `others` gives the entry-into-force date of other tracked treaties (by external id; None:
    not known) for a rule that waits for one (after_treaty); `parties_of(treaty, day)` the
    number of parties of another treaty on a day, for a threshold that is a share of them.
    """
    successions = predecessor_instruments(status)
    instruments = [
        i
        for i in qualifying_instruments(rule, status, successions, endings)
        if as_of is None or i.date <= as_of
    ]
    answer_day = as_of or today or date.max
    counting = [i for i in instruments if i.counts_on(answer_day)]
    n_counting = len({i.participant for i in counting})  # a State counts once
    warnings = []
    met_dates: list[date | None] = []
    remaining = 0
    count_met = None
    if rule.threshold is not None:
        count_met = _first_day(instruments, rule.threshold)
        remaining = 0 if count_met else max(0, rule.threshold - n_counting)
        met_dates.append(count_met)
        if unsure := _unknown_ends(instruments, rule.threshold, None, count_met):
            warnings.append(unsure)
    elif rule.share_of is not None:
        remaining, count_met = _share_met(rule, instruments, counting, as_of or today, parties_of)
        met_dates.append(count_met)
        if share_warning := _share_unknown(rule, instruments, as_of or today, parties_of):
            warnings.append(share_warning)
    groups = tuple(
        _group_state(g, instruments, answer_day)
        for g in ((rule.all_of,) if rule.all_of else ()) + rule.at_least
    )
    for g in groups:
        remaining = max(remaining, 0 if g.met_on else g.remaining)
        met_dates.append(g.met_on)
        if unsure := _unknown_ends(instruments, g.group.needed, g.group.participants, g.met_on):
            warnings.append(f"{g.group.label}: {unsure}")
    confirmed = dict(confirmations or {})
    conditions = tuple(
        ConditionState(
            c.key,
            c.description,
            d if (d := confirmed.get(c.key)) and (as_of is None or d <= as_of) else None,
        )
        for c in rule.conditions
    )
    unreadable = _unreadable_that_matter(rule, status, successions, list(met_dates), as_of)
    if unreadable:
        listed = ", ".join(f"{u.name} ({u.date.isoformat()})" for u in unreadable)
        counted = "counted as successions" if "succession" in rule.counts else "not counted"
        warnings.insert(
            0,
            f"successions whose predecessor's instrument no footnote gives ({counted}): {listed}",
        )
    met_dates.extend(c.met_on for c in conditions)
    met = max(met_dates) if met_dates and all(met_dates) else None  # type: ignore[type-var]
    computed = _after_treaty(rule, _entry_date(rule, met) if met else None, others, warnings)
    if reio_warning := _reio_difference(
        rule, status, successions, endings, as_of, answer_day, count_met, remaining
    ):
        warnings.append(reio_warning)
    published = (
        status.eif_date if status.eif_date and (as_of is None or status.eif_date <= as_of) else None
    )
    printed = Printed.of(status)
    disagreement = cross_check(printed, computed, met, as_of, today)[1]
    if disagreement:
        warnings.append(f"disagrees with the depositary: {disagreement}")
    base = as_of or today
    earliest = (
        _after_treaty(rule, _entry_date(rule, base), others, [])
        if met is None and base and not any(c.met_on is None for c in conditions)
        else None
    )
    undated = [
        i.name
        for i in instruments
        if i.end_unknown and i.counts_on(answer_day, sure=False) and not i.counts_on(answer_day)
    ]
    if undated:
        warnings.append(
            "withdrawn on a date not known (not counted where it could change the answer): "
            + ", ".join(undated)
        )
    deciding = _deciding(instruments, met, count_met, groups) if met else ()
    in_force_from = _in_force_from(rule, status, met, computed, as_of) if met and computed else {}
    if later_warning := _later_unknown(rule, status, in_force_from):
        warnings.append(later_warning)
    return Evaluation(
        rule=rule,
        as_of=as_of,
        instruments=tuple(instruments),
        remaining=remaining,
        groups=groups,
        conditions=conditions,
        threshold_met_on=met,
        deciding=deciding,
        computed=computed,
        published=published,
        earliest=earliest,
        in_force_from=in_force_from,
        warnings=tuple(warnings),
        counted=n_counting,
        today=today,
        printed=printed,
        deciding_day=_deciding_day(rule, status, successions, instruments, deciding, met)
        if met
        else (),
    )
