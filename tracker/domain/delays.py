"""Delays of a rule: from a deposit (or the day a rule is met, or a notification) to its effect.

Standard library only. The calendar arithmetic the delays need (`add_months`) is here too, and
`RuleError`, raised by every part of a rule spec that cannot be read (a delay is the first such
part: tracker.domain.rules and tracker.domain.rule_spec build on it).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any


class RuleError(ValueError):
    """A rule spec that cannot be turned into a rule (unknown key, kind, delay ...)."""


# kind -> words; n is the number in the spec ({days = 90}).
DELAY_KINDS: dict[str, str] = {
    "on_deposit": "on",
    "days": "{n} {days} after",
    "months": "{n} {months} after",
    "first_of_month_after_days": "on the first day of the month after the {nth} day after",
    "first_of_month_after_months": "on the first day of the month following {n} months after",
    "first_of_nth_month_after_month": "on the first day of the {nth} month after the month of",
}


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day (31 Aug + 3 months: 30 Nov)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st ..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _first_of_next_month(day: date) -> date:
    return add_months(day.replace(day=1), 1)


@dataclass(frozen=True)
class Delay:
    """The time between the deposit (or the day the condition is met) and entry into force."""

    kind: str
    n: int = 0

    def __post_init__(self) -> None:
        if self.kind not in DELAY_KINDS:
            raise RuleError(f"unknown delay {self.kind!r} (one of {', '.join(DELAY_KINDS)})")
        if self.kind != "on_deposit" and self.n < 1:
            raise RuleError(f"delay {self.kind} needs a positive number, not {self.n}")

    def apply(self, day: date) -> date:
        if self.kind == "on_deposit":
            return day
        if self.kind == "days":
            return day + timedelta(days=self.n)
        if self.kind == "months":
            return add_months(day, self.n)
        if self.kind == "first_of_month_after_days":
            return _first_of_next_month(day + timedelta(days=self.n))
        if self.kind == "first_of_month_after_months":
            return _first_of_next_month(add_months(day, self.n))
        return add_months(day.replace(day=1), self.n)  # first_of_nth_month_after_month

    def words(self) -> str:
        one = self.n == 1
        return DELAY_KINDS[self.kind].format(
            n=self.n,
            nth=ordinal(self.n),
            days="day" if one else "days",
            months="month" if one else "months",
        )

    def to_spec(self) -> dict[str, Any]:
        return {self.kind: True if self.kind == "on_deposit" else self.n}

    @classmethod
    def from_spec(cls, spec: Any) -> Delay:
        if not isinstance(spec, dict) or len(spec) != 1:
            raise RuleError(f"a delay is one key and its number, e.g. {{days = 90}}, not {spec!r}")
        ((kind, n),) = spec.items()
        if kind == "on_deposit":
            return cls(kind)
        if isinstance(n, bool) or not isinstance(n, int):
            raise RuleError(f"delay {kind} needs a whole number, not {n!r}")
        return cls(kind, n)
