"""What the forecast learns from: each tracked treaty's count rule and its instruments' dates.

Pure (no I/O, no clock). A `History` is one treaty's opening date, the number of qualifying
instruments its rule needs, and the dates its qualifying instruments were deposited (one per
participant, its first; sorted), as the tracker evaluates them with the treaty's own rule. It
can be cut to what was known on a day (`known_at`), which is how the backtest rewinds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from tracker.domain.counting import GroupState
from tracker.domain.evaluate import Evaluation
from tracker.domain.models import TreatyStatus
from tracker.domain.rules import Rule


@dataclass(frozen=True)
class History:
    """One treaty's path towards its count threshold."""

    treaty: str  # its public id (XVIII-16, WIPO-843)
    opened: date  # adopted / opened for signature (else its first dated action)
    threshold: int  # N: the qualifying instruments its rule needs
    dates: tuple[date, ...]  # its qualifying instruments' dates, sorted, one per participant

    @property
    def reached_on(self) -> date | None:
        """The date of its Nth qualifying instrument (None: not reached in what is known)."""
        return self.dates[self.threshold - 1] if len(self.dates) >= self.threshold else None

    def count_on(self, day: date) -> int:
        """Qualifying instruments deposited by `day` (inclusive)."""
        return sum(1 for d in self.dates if d <= day)

    def known_at(self, day: date) -> History | None:
        """The history as it could be known on `day` (None: not yet opened then)."""
        if self.opened > day:
            return None
        return History(self.treaty, self.opened, self.threshold, self.dates[: self.count_on(day)])


def count_part(rule: Rule, groups: Sequence[GroupState] = ()) -> tuple[int | None, list[str]]:
    """The threshold the forecast can model for `rule`, and the parts it cannot, in words.

    A count of instruments is forecast. A named list, a quota within a group and a condition on
    outside data (emissions shares, tonnage) are not: each named State is its own question and
    the outside data is not on the page. A threshold that is a share of another treaty's parties
    moves with that treaty; it is not forecast either. `groups`: the evaluation's state of the
    named groups, to name who is missing.
    """
    missing = {g.group.label: g.missing for g in groups}

    def who(label: str) -> str:
        names = missing.get(label)
        if names is None:
            return ""
        return f" ({len(names)} missing: {', '.join(names)})" if names else " (none missing)"

    parts: list[str] = []
    if rule.all_of is not None:
        parts.append(
            f"the named list, {rule.all_of.label}{who(rule.all_of.label)}: each missing State "
            "is its own question, not forecast"
        )
    parts += [
        f"at least {g.k} from {g.label}{who(g.label)}: a quota within a named group, not forecast"
        for g in rule.at_least
    ]
    parts += [
        f"{c.description}: outside data the tracker does not see, not forecast"
        for c in rule.conditions
    ]
    if rule.share_of is not None:
        parts.append(
            f"{rule.share_of.words()}: a threshold that moves with that treaty, not forecast"
        )
    return rule.threshold, parts


def opened_on(status: TreatyStatus) -> date | None:
    """The day the treaty was adopted or opened for signature, else its first dated action (or
    that action, where the page dates one before the adoption it prints)."""
    dates = [a.date for p in status.participants for a in p.actions]
    if status.adoption_date is not None:
        dates.append(status.adoption_date)
    return min(dates) if dates else None


def history_of(
    public_id: str, rule: Rule, status: TreatyStatus, evaluation: Evaluation
) -> History | None:
    """The treaty's history for the forecast (None: its rule has no count, or no date at all).

    `evaluation` is the rule evaluated on the whole status: its instruments are those that count
    (organizations not additional to their members left out, predecessors' instruments in).
    """
    threshold, _ = count_part(rule)
    opened = opened_on(status)
    if threshold is None or opened is None:
        return None
    first: dict[str, date] = {}
    for i in evaluation.instruments:
        if i.participant not in first or i.date < first[i.participant]:
            first[i.participant] = i.date
    dates = tuple(sorted(first.values()))
    return History(public_id, opened, threshold, dates)
