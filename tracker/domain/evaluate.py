"""Apply an entry-into-force rule to a treaty's status: counts, remaining, dates, deciding deposits.

Pure: the caller passes the status as last observed, the legal date to answer for, the
operator's confirmations of outside-data conditions, and today's date for projections.

Here: the evaluation itself (`evaluate`) and its answer (`Evaluation`). Its parts: which
instruments count and when (tracker.domain.instruments), counting them (tracker.domain.counting),
the dates of entry into force (tracker.domain.entry_dates), the deposits of the deciding day
(tracker.domain.deciding) and the cross-check with the printed answer (tracker.domain.cross_check).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from tracker.domain.counting import (
    GroupState,
    first_day,
    group_state,
    reio_difference,
    share_met,
    share_unknown,
    unknown_ends,
)
from tracker.domain.cross_check import Printed, cross_check
from tracker.domain.deciding import DayDeposit, day_deposits, deciding_of
from tracker.domain.endings import Ending
from tracker.domain.entry_dates import (
    after_treaty,
    entry_date,
    later_unknown,
    participants_in_force_from,
    succession_unknown,
)
from tracker.domain.footnotes import FootnoteGrammar
from tracker.domain.instruments import Instrument, qualifying_instruments
from tracker.domain.models import TreatyStatus
from tracker.domain.rules import Rule
from tracker.domain.successions import (
    Successions,
    UnreadableSuccession,
    predecessor_instruments,
)
from tracker.domain.withdrawals import read_withdrawals


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


def evaluate(
    rule: Rule,
    status: TreatyStatus,
    *,
    footnotes: FootnoteGrammar,
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

    `footnotes`: the source's footnote grammar (tracker.domain.footnotes), which reads the
    predecessors' instruments and, unless `endings` gives them, the withdrawals.

    An instrument counts from its deposit until its withdrawal takes effect (`endings`, per
    participant key; read from the status's footnotes and the rule's withdrawal clause when not
    given): one withdrawn before the rule was met does not count toward it, one withdrawn after
    still counted when it did. A withdrawal of unknown date never makes the rule met.

    `others` gives the entry-into-force date of other tracked treaties (by external id; None:
    not known) for a rule that waits for one (after_treaty); `parties_of(treaty, day)` the
    number of parties of another treaty on a day, for a threshold that is a share of them.
    """
    successions = predecessor_instruments(status, footnotes)
    if endings is None:
        endings = read_withdrawals(status, footnotes, rule.withdrawal).endings
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
        count_met = first_day(instruments, rule.threshold)
        remaining = 0 if count_met else max(0, rule.threshold - n_counting)
        met_dates.append(count_met)
        if unsure := unknown_ends(instruments, rule.threshold, None, count_met):
            warnings.append(unsure)
    elif rule.share_of is not None:
        remaining, count_met = share_met(rule, instruments, counting, as_of or today, parties_of)
        met_dates.append(count_met)
        if share_warning := share_unknown(rule, instruments, as_of or today, parties_of):
            warnings.append(share_warning)
    groups = tuple(
        group_state(g, instruments, answer_day)
        for g in ((rule.all_of,) if rule.all_of else ()) + rule.at_least
    )
    for g in groups:
        remaining = max(remaining, 0 if g.met_on else g.remaining)
        met_dates.append(g.met_on)
        if unsure := unknown_ends(instruments, g.group.needed, g.group.participants, g.met_on):
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
    computed = after_treaty(rule, entry_date(rule, met) if met else None, others, warnings)
    if reio_warning := reio_difference(
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
        after_treaty(rule, entry_date(rule, base), others, [])
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
    deciding = deciding_of(instruments, met, count_met, groups) if met else ()
    in_force_from = (
        participants_in_force_from(rule, status, met, computed, as_of) if met and computed else {}
    )
    if later_warning := later_unknown(rule, status, in_force_from):
        warnings.append(later_warning)
    if succession_warning := succession_unknown(status, in_force_from):
        warnings.append(succession_warning)
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
        deciding_day=day_deposits(rule, status, successions, instruments, deciding, met)
        if met
        else (),
    )
