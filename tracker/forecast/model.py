"""When will the Nth qualifying instrument come? A reference-class forecast with an interval.

Pure (no I/O, no clock: the caller gives the day it answers for). The method, in words:

1. The treaty has k of the N instruments it needs; it took T days from its opening to its kth
   (its own pace so far; at least FLOOR_DAYS, so a ratification on the opening day does not
   make the scale zero).
2. Every other tracked treaty whose count rule needs at least MIN_THRESHOLD is looked at the moment it had the same share
   of its own threshold (its ceil(k/N x Nj)th instrument): how long it then took to reach its
   threshold, as a multiple of the time it had taken to get there. A treaty that had not
   reached its threshold by the day of the forecast is "at least this long" (right-censored),
   so the treaties that stalled count too; nothing dated after the day of the forecast is used.
3. The multiples' distribution is the Kaplan-Meier estimate (scipy.stats.ecdf with
   CensoredData), conditioned on what is known: the threshold was not reached by the day of
   the forecast. Its 10th, 50th and 90th percentiles, times T, after the kth instrument, give
   p10, the median and p90 of the date of the Nth; the rule's delay turns each into a date of
   entry into force.

With no qualifying instrument yet there is no pace: the multiples are replaced by the other
treaties' days from opening to threshold. Where fewer than MIN_COMPARABLE treaties are
comparable, or fewer than MIN_BEYOND of them reached their threshold later than this treaty has
already waited, the answer is "insufficient history", never a date; where the estimate never
climbs to 90%, p90 is null ("later than any comparable treaty shows").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from tracker.domain.counting import GroupState
from tracker.domain.entry_dates import entry_date
from tracker.domain.rules import Rule
from tracker.forecast.answer import (
    FORECAST,
    INSUFFICIENT,
    MET,
    NOT_FORECAST,
    Forecast,
    Quantiles,
)
from tracker.forecast.history import History, count_part

# A treaty needing fewer instruments is no reference: a share of a threshold of 2 to 4 is too
# coarse to stand at the same share as another treaty's.
MIN_THRESHOLD = 5
FLOOR_DAYS = 30  # the smallest time-so-far a multiple is taken of
MIN_COMPARABLE = 10  # comparable treaties needed for a forecast
MIN_BEYOND = 3  # of them, reaching their threshold later than this treaty has already waited
QUANTILES = {"p10": 0.1, "median": 0.5, "p90": 0.9}
NO_RULE_COUNT = "the rule has no count of instruments"
NO_DATE = "the page gives no date to count from (no adoption date, no dated action)"

METHOD = (
    "reference class: the other tracked treaties, each at the moment it had the same share of "
    "its threshold, and how long it then took to reach it, as a multiple of its time so far "
    "(Kaplan-Meier, treaties not there yet counted as at least that long), applied to this "
    "treaty's time from opening to its latest qualifying instrument and conditioned on the "
    "threshold not being reached by today"
)
METHOD_NO_PACE = (
    "reference class without pace (no qualifying instrument yet): the other tracked treaties' "
    "days from opening to threshold (Kaplan-Meier, treaties not there yet counted as at least "
    "that long), conditioned on the threshold not being reached by today"
)


def _treaties(n: int) -> str:
    return f"{n} treaty" if n == 1 else f"{n} treaties"


def default_horizons(today: date) -> tuple[date, date]:
    """The end of this year and of the next: the dates `probability_by` answers for."""
    return date(today.year, 12, 31), date(today.year + 1, 12, 31)


@dataclass(frozen=True)
class _Pace:
    start: date  # the day multiples are counted from (the kth instrument, or the opening)
    scale: int  # days a multiple of 1 is (the time so far; 1 with no instrument yet)


def _pace(h: History, k: int) -> _Pace:
    if k == 0:
        return _Pace(h.opened, 1)
    start = h.dates[k - 1]
    return _Pace(start, max((start - h.opened).days, FLOOR_DAYS))


def _share_index(k: int, threshold: int, other: int) -> int:
    """The instrument of a treaty needing `other` that stands at the same share as k of N."""
    if k == 0:
        return 0
    return min(max(1, math.ceil(k * other / threshold)), other - 1)


def _reference(
    target: History, k: int, others: Sequence[History], today: date
) -> tuple[list[float], list[float]]:
    """The multiples of the comparable treaties: those that reached, and those not yet there."""
    reached: list[float] = []
    waiting: list[float] = []
    for full in others:
        if full.treaty == target.treaty or full.threshold < MIN_THRESHOLD:
            continue
        h = full.known_at(today)
        if h is None:
            continue
        kj = _share_index(k, target.threshold, h.threshold)
        if len(h.dates) < kj:
            continue  # it had not come this far by the day of the forecast
        pace = _pace(h, kj)
        end = h.reached_on
        if end is not None:
            reached.append((end - pace.start).days / pace.scale)
        else:
            waiting.append((today - pace.start).days / pace.scale)
    return reached, waiting


class _Conditional:
    """The Kaplan-Meier distribution of the multiples, given they exceed `waited`: its steps,
    joined linearly from (waited, 0), so quantiles and probabilities read the same curve."""

    def __init__(self, reached: list[float], waiting: list[float], waited: float) -> None:
        # numpy and scipy are imported here, not with the module: they cost seconds at start-up
        # to every process that imports the services (each crawl's child), forecasting or not.
        import numpy as np
        from scipy.stats import CensoredData, ecdf

        sf = ecdf(CensoredData(uncensored=np.array(reached), right=np.array(waiting))).sf
        x = np.asarray(sf.quantiles, dtype=float)
        s = np.asarray(sf.probabilities, dtype=float)
        before = s[x <= waited]
        base = float(before[-1]) if len(before) else 1.0
        keep = x > waited
        self.xs = np.concatenate(([waited], x[keep]))
        self.cdf = np.concatenate(([0.0], 1.0 - s[keep] / base)) if base > 0 else np.zeros(1)

    def probability(self, x: float) -> float:
        """P(multiple <= x), given it exceeds `waited`."""
        import numpy as np

        return float(np.interp(x, self.xs, self.cdf, left=0.0))

    def quantile(self, q: float) -> float | None:
        """The multiple at which the probability reaches q (None: it never does)."""
        import numpy as np

        if self.cdf[-1] < q - 1e-12:
            return None
        i = int(np.argmax(self.cdf >= q - 1e-12))
        if i == 0:
            return float(self.xs[0])
        lo, hi = self.cdf[i - 1], self.cdf[i]
        return float(self.xs[i - 1] + (self.xs[i] - self.xs[i - 1]) * (q - lo) / (hi - lo))


def _plus(day: date, days: float) -> date | None:
    """`day` and that many days, None past the calendar's end (9999-12-31)."""
    try:
        return day + timedelta(days=round(days))
    except OverflowError:
        return None


def _entry(rule: Rule, met: date | None) -> date | None:
    """Entry into force by the rule for the Nth on `met`, None past the calendar's end."""
    if met is None:
        return None
    try:
        return entry_date(rule, met)
    except OverflowError:
        return None


def _on(pace: _Pace, multiple: float | None, today: date) -> date | None:
    if multiple is None:
        return None
    found = _plus(pace.start, multiple * pace.scale)
    return None if found is None else max(found, today)


def _by(rule: Rule, met: date, day: date) -> bool:
    found = _entry(rule, met)
    return found is not None and found <= day


def _latest_met_for(rule: Rule, day: date, start: date) -> date | None:
    """The latest day the Nth instrument can come for entry into force by `day` (None: none)."""
    if not _by(rule, start, day):
        return None
    lo, hi = start, day  # entry_date never precedes the day the rule was met
    while lo < hi:
        mid = lo + timedelta(days=((hi - lo).days + 1) // 2)
        if _by(rule, mid, day):
            lo = mid
        else:
            hi = mid - timedelta(days=1)
    return lo


def met_forecast(
    treaty: str,
    today: date,
    threshold: int | None,
    qualifying: int,
    met: date,
    eif: date | None,
    horizons: Sequence[date],
) -> Forecast:
    """The answer for a treaty whose threshold was met on `met`: its dates, not a forecast
    (`eif`: its entry into force, None where not known; then no probability is given)."""
    return Forecast(
        treaty=treaty,
        as_of=today,
        state=MET,
        threshold=threshold,
        qualifying=qualifying,
        nth_instrument=Quantiles(met, met, met),
        entry_into_force=Quantiles(eif, eif, eif) if eif else None,
        probability_by={d: (1.0 if eif <= d else 0.0) for d in horizons} if eif else {},
    )


def forecast(
    rule: Rule,
    target: History,
    others: Sequence[History],
    *,
    today: date,
    horizons: Sequence[date] = (),
    groups: Sequence[GroupState] = (),
) -> Forecast:
    """The forecast for `target` (its rule `rule`) as known on `today`, learning from `others`
    as known on `today` (the target itself is left out wherever it appears among them).
    `groups`: the evaluation's named groups, to name their missing members among the parts not
    forecast."""
    threshold, parts = count_part(rule, groups)
    known = target.known_at(today)
    k = len(known.dates) if known else 0
    horizons = tuple(horizons) or default_horizons(today)
    base = Forecast(
        treaty=target.treaty, as_of=today, state=NOT_FORECAST, threshold=threshold,
        qualifying=k, not_forecast=tuple(parts), method=METHOD,
    )  # fmt: skip
    if known is None:
        return replace(base, reason=f"not yet opened for signature on {today.isoformat()}")
    if threshold is None:
        return replace(base, reason="; ".join(parts) or NO_RULE_COUNT)
    if k >= threshold:
        met = known.reached_on
        assert met is not None
        found = met_forecast(
            target.treaty, today, threshold, k, met, entry_date(rule, met), horizons
        )
        return replace(
            found,
            not_forecast=tuple(parts),
            reason=f"the {threshold}th qualifying instrument was deposited on {met.isoformat()}",
        )
    reached, waiting = _reference(known, k, others, today)
    pace = _pace(known, k)
    waited = (today - pace.start).days / pace.scale
    beyond = sum(1 for x in reached if x > waited)
    naive = _plus(pace.start, (threshold / k - 1) * pace.scale) if k else None
    if naive is not None and naive < today:
        naive = None  # the pace so far would have been there already: it says nothing
    base = replace(
        base,
        method=METHOD if k else METHOD_NO_PACE,
        based_on=len(reached) + len(waiting),
        reached=len(reached),
        naive=naive,
    )
    if base.based_on < MIN_COMPARABLE or beyond < MIN_BEYOND:
        why = (
            f"{_treaties(base.based_on)} comparable (at least {MIN_COMPARABLE} needed), "
            f"{beyond} of them reached their threshold later than this treaty has already "
            f"waited (at least {MIN_BEYOND} needed)"
        )
        return replace(base, state=INSUFFICIENT, reason=why)
    dist = _Conditional(reached, waiting, waited)
    nth = {name: _on(pace, dist.quantile(q), today) for name, q in QUANTILES.items()}
    eifs = {name: _entry(rule, d) for name, d in nth.items()}
    probability: dict[date, float] = {}
    for day in horizons:
        latest = _latest_met_for(rule, day, today)
        p = 0.0 if latest is None else dist.probability((latest - pace.start).days / pace.scale)
        probability[day] = round(p, 3)
    return replace(
        base,
        state=FORECAST,
        nth_instrument=Quantiles(nth["p10"], nth["median"], nth["p90"]),
        entry_into_force=Quantiles(eifs["p10"], eifs["median"], eifs["p90"]),
        probability_by=probability,
    )


__all__ = [
    "FORECAST",
    "INSUFFICIENT",
    "MET",
    "NOT_FORECAST",
    "NO_DATE",
    "NO_RULE_COUNT",
    "Forecast",
    "Quantiles",
    "default_horizons",
    "forecast",
    "met_forecast",
]
