"""The forecast checked against history: rewind each treaty that reached its threshold.

Pure. For every treaty whose rule is a plain count (no named list, quota, outside condition or
moving share) and which reached its threshold, rewind to the day of its instrument at 25%, 50%
and 75% of the threshold (its ceil(share x N)th), forecast from what was known that day (every
history cut to it, the treaty itself never among the references: tracker.forecast.model) and
compare with the real date of its Nth. The naive baseline extrapolates the treaty's own pace
so far linearly (N/k times its time from opening to its kth instrument).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tracker.domain.rules import Rule
from tracker.forecast.history import History, count_part
from tracker.forecast.model import FORECAST, Forecast, forecast

SHARES = (25, 50, 75)


@dataclass(frozen=True)
class Trial:
    """One rewound forecast and what really happened."""

    treaty: str
    share: int
    day: date  # the day it was made (the instrument at that share)
    real: date  # the real date of the Nth instrument
    made: Forecast

    @property
    def error_days(self) -> int | None:
        median = self.made.nth_instrument.median if self.made.nth_instrument else None
        return abs((median - self.real).days) if median else None

    @property
    def naive_error_days(self) -> int | None:
        return abs((self.made.naive - self.real).days) if self.made.naive else None

    @property
    def open_ended(self) -> bool:
        q = self.made.nth_instrument
        return q is not None and q.p90 is None

    @property
    def inside(self) -> bool:
        """The real date is inside the 80% interval (an open-ended one has no upper bound)."""
        q = self.made.nth_instrument
        if q is None or q.p10 is None:
            return False
        return q.p10 <= self.real and (q.p90 is None or self.real <= q.p90)


@dataclass
class Report:
    trials: list[Trial] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # why a rewind made no forecast
    treaties: int = 0  # treaties rewound

    @property
    def made(self) -> list[Trial]:
        return [t for t in self.trials if t.made.state == FORECAST]

    def coverage(self, trials: Sequence[Trial] | None = None) -> float | None:
        chosen = self.made if trials is None else list(trials)
        return sum(t.inside for t in chosen) / len(chosen) if chosen else None

    def errors(self, share: int, *, naive: bool = False) -> list[int]:
        found = [
            t.naive_error_days if naive else t.error_days for t in self.made if t.share == share
        ]
        return sorted(e for e in found if e is not None)

    def summary(self) -> dict[str, Any]:
        made = self.made
        bounded = [t for t in made if not t.open_ended]
        return {
            "benchmark": "forecast",
            "treaties": self.treaties,
            "forecasts": len(made),
            "skipped": dict(sorted(self.skipped.items())),
            "coverage_80": _round(self.coverage()),
            "coverage_80_bounded": _round(self.coverage(bounded)),
            "open_ended": len(made) - len(bounded),
            "coverage_80_by_share": {
                str(s): _round(self.coverage([t for t in made if t.share == s])) for s in SHARES
            },
            "below_p10": sum(1 for t in made if t.made.nth_instrument and not t.inside
                             and t.made.nth_instrument.p10 and t.real < t.made.nth_instrument.p10),
            "median_error_days": {str(s): _median(self.errors(s)) for s in SHARES},
            "p90_error_days": {str(s): _p90(self.errors(s)) for s in SHARES},
            "naive_median_error_days": {str(s): _median(self.errors(s, naive=True)) for s in SHARES},
            "naive_p90_error_days": {str(s): _p90(self.errors(s, naive=True)) for s in SHARES},
        }  # fmt: skip


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _median(xs: list[int]) -> float | None:
    return float(statistics.median(xs)) if xs else None


def _p90(xs: list[int]) -> float | None:
    """The 90th percentile (nearest rank) of sorted `xs`."""
    return float(xs[max(0, math.ceil(0.9 * len(xs)) - 1)]) if xs else None


def plain_count(rule: Rule) -> bool:
    """A rule the backtest can score: a count of instruments and nothing else."""
    threshold, parts = count_part(rule)
    return threshold is not None and not parts


def backtest(tracked: Sequence[tuple[Rule, History]], shares: Sequence[int] = SHARES) -> Report:
    """Rewind every plainly counted treaty that reached its threshold (`tracked`: each treaty's
    rule and history; all the histories are the references)."""
    histories = [h for _, h in tracked]
    report = Report()
    for rule, history in tracked:
        real = history.reached_on
        if real is None or not plain_count(rule):
            continue
        report.treaties += 1
        for share in shares:
            k = max(1, math.ceil(history.threshold * share / 100))
            if k >= history.threshold:
                report.skipped["threshold too small for this share"] += 1
                continue
            day = history.dates[k - 1]
            if real <= day:  # the kth and the Nth on one day: nothing left to forecast
                report.skipped["reached on the day of this share"] += 1
                continue
            made = forecast(rule, history, histories, today=day)
            if made.state != FORECAST:
                report.skipped[made.state] += 1
            report.trials.append(Trial(history.treaty, share, day, real, made))
    return report
