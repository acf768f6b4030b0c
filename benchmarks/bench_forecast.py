"""Backtest the forecast over the tracked history of the real captures; print its figures.

The histories: every real status page of ../shared the tracker reads and has a count rule for
(UNTC's ViewDetails pages of Feb 2026 and MTDSG XML of Jan 2018, WIPO Lex's pages of Feb 2026;
tracker.devtools.real_histories). Each treaty that reached its threshold by a plain count rule
is rewound to its 25%, 50% and 75% of the threshold and forecast from what was known then, never
from itself (tracker.forecast.backtest). Printed: treaties and forecasts made, the median and
90th-percentile absolute error in days at each point, the share of real dates inside the 80%
interval, and the same errors for the naive baseline (the treaty's pace so far, extrapolated
linearly); the last line is the JSON of it all, to compare runs.

    .venv/bin/python benchmarks/bench_forecast.py
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime

from tracker.devtools.paths import REAL
from tracker.devtools.real_histories import load
from tracker.forecast import model
from tracker.forecast.backtest import SHARES, backtest


def main() -> int:
    started = time.perf_counter()
    tracked = load()
    if not tracked:
        print(f"real captures absent: {REAL}", file=sys.stderr)
        return 2
    loaded = time.perf_counter() - started
    report = backtest([(t.rule, t.history) for t in tracked])
    took = time.perf_counter() - started - loaded
    s = report.summary()
    load1, _, _ = os.getloadavg()
    print(f"forecast backtest, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {load1:.2f}")
    print(
        f"  histories: {len(tracked)} tracked treaties with a count rule "
        f"(read in {loaded:.1f} s); rewound: {s['treaties']} that reached their threshold"
    )
    print(f"  forecasts made: {s['forecasts']} in {took:.1f} s; skipped: {s['skipped']}")
    print(
        f"  model: min {model.MIN_COMPARABLE} comparable treaties, {model.MIN_BEYOND} beyond, "
        f"references need >= {model.MIN_THRESHOLD} instruments"
    )
    print("  share   median err  p90 err   naive median  naive p90   inside 80%")
    for share in SHARES:
        k = str(share)
        print(
            f"  {share:>3}%   {s['median_error_days'][k]!s:>10}  {s['p90_error_days'][k]!s:>7}"
            f"   {s['naive_median_error_days'][k]!s:>12}  {s['naive_p90_error_days'][k]!s:>9}"
            f"   {s['coverage_80_by_share'][k]}"
        )
    print(
        f"  inside the 80% interval: {s['coverage_80']} (goal 0.75 to 0.85); "
        f"{s['open_ended']} open-ended (p90 beyond every comparable treaty), "
        f"{s['coverage_80_bounded']} of the bounded ones; {s['below_p10']} came before p10"
    )
    print(json.dumps(s, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
