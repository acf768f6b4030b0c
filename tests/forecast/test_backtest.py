"""The backtest (tracker.forecast.backtest) on built histories: what it rewinds, what it skips,
and that each rewound forecast is made from that day's knowledge only."""

from __future__ import annotations

import json
from datetime import date, timedelta

from tracker.domain.rule_spec import rule_from_spec
from tracker.forecast.backtest import Trial, backtest, plain_count
from tracker.forecast.history import History
from tracker.forecast.model import FORECAST, Forecast, Quantiles, forecast

D = date.fromisoformat
RULE = rule_from_spec("T", {"threshold": 20, "delay": {"days": 90}})


def _history(i: int, threshold: int = 20) -> History:
    opened = D("1990-01-01") + timedelta(days=40 * i)
    dates = [opened + timedelta(days=150 + 11 * i + (12 + 5 * i) * n) for n in range(threshold)]
    return History(f"R-{i}", opened, threshold, tuple(dates))


def test_each_reached_treaty_is_rewound_at_25_50_and_75_percent_from_that_days_knowledge():
    tracked = [(RULE, _history(i)) for i in range(20)]
    report = backtest(tracked)
    assert report.treaties == 20 and len(report.trials) == 60
    histories = [h for _, h in tracked]
    for trial in report.trials:
        h = next(h for _, h in tracked if h.treaty == trial.treaty)
        k = {25: 5, 50: 10, 75: 15}[trial.share]
        assert trial.day == h.dates[k - 1] and trial.real == h.dates[19]
        assert trial.made == forecast(RULE, h, histories, today=trial.day)
    # The earliest treaties have too few references on their days: they say so, never a date.
    assert report.skipped["insufficient history"] > 0
    assert all(t.made.nth_instrument is None for t in report.trials if t.made.state != FORECAST)
    summary = report.summary()
    assert (
        summary["forecasts"] == len(report.made) == 60 - summary["skipped"]["insufficient history"]
    )
    assert json.loads(json.dumps(summary))["benchmark"] == "forecast"
    assert set(summary["median_error_days"]) == {"25", "50", "75"}


def test_rules_with_parts_not_forecast_and_unreached_treaties_are_not_scored():
    emissions = rule_from_spec(
        "K",
        {"threshold": 20, "delay": {"days": 90}, "conditions": [{"key": "e", "description": "e"}]},
    )
    assert not plain_count(emissions) and plain_count(RULE)
    waiting = History("W", D("2000-01-01"), 20, (D("2000-02-01"),))
    small = _history(0, threshold=3)  # 75% of 3 is the 3rd: nothing left to forecast
    report = backtest([(emissions, _history(1)), (RULE, waiting), (RULE, small)])
    assert report.treaties == 1
    assert report.skipped["threshold too small for this share"] == 1


def _trial(real: str, p10: str, p90: str | None, median: str = "2021-06-01") -> Trial:
    q = Quantiles(D(p10), D(median), D(p90) if p90 else None)
    made = Forecast("T", D("2020-01-01"), FORECAST, 20, 5, nth_instrument=q, naive=D("2022-06-01"))
    return Trial("T", 50, D("2020-01-01"), D(real), made)


def test_inside_the_interval_and_the_errors():
    assert _trial("2021-01-01", "2021-01-01", "2022-01-01").inside  # bounds are inside
    assert not _trial("2020-12-31", "2021-01-01", "2022-01-01").inside
    assert not _trial("2022-01-02", "2021-01-01", "2022-01-01").inside
    open_ended = _trial("2030-01-01", "2021-01-01", None)
    assert open_ended.inside and open_ended.open_ended
    t = _trial("2021-07-01", "2021-01-01", "2022-01-01")
    assert (t.error_days, t.naive_error_days) == (30, 335)
