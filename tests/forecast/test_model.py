"""The forecast model (tracker.forecast.model) on built histories: its answers, its refusals, and
that it never learns from what was not known on the day it answers for."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from tracker.catalogue import catalogue
from tracker.domain.rule_spec import rule_from_spec
from tracker.forecast import model
from tracker.forecast.history import History
from tracker.forecast.model import FORECAST, INSUFFICIENT, MET, NOT_FORECAST, forecast

D = date.fromisoformat
RULE = rule_from_spec("T", {"threshold": 20, "delay": {"days": 90}})


def _path(treaty: str, opened: date, gaps: list[int], threshold: int = 20) -> History:
    """A history: instruments after the opening at the given gaps (days) from one to the next."""
    dates, day = [], opened
    for gap in gaps:
        day += timedelta(days=gap)
        dates.append(day)
    return History(treaty, opened, threshold, tuple(dates))


def _references(n: int = 24, *, reach: bool = True) -> list[History]:
    """n treaties opened a month apart from 1990, each at its own steady pace (a first instrument
    after 200 to 400 days, then one every 10 to 10 + 7n days); all reach 20 unless `reach`."""
    found = []
    for i in range(n):
        gaps = [200 + 9 * i] + [10 + 7 * i] * (19 if reach else 9)
        found.append(_path(f"R-{i}", D("1990-01-01") + timedelta(days=30 * i), gaps))
    return found


TARGET = _path("T", D("2020-01-01"), [300, 30, 30, 30, 30])  # 5 of 20 by 2021-02-24
TODAY = D("2021-03-01")


def test_a_forecast_has_ordered_dates_and_entry_into_force_follows_the_rule():
    f = forecast(RULE, TARGET, _references(), today=TODAY)
    assert f.state == FORECAST and (f.threshold, f.qualifying) == (20, 5)
    q = f.nth_instrument
    assert q is not None and q.p10 and q.median and q.p90
    assert TODAY <= q.p10 <= q.median <= q.p90
    e = f.entry_into_force
    assert e is not None
    assert (e.p10, e.median, e.p90) == tuple(
        d + timedelta(days=90) for d in (q.p10, q.median, q.p90)
    )
    assert (f.based_on, f.reached) == (24, 24)
    assert f.method == model.METHOD


def test_the_interval_comes_from_the_references_times_the_treatys_own_pace():
    """A treaty twice as slow so far is forecast about twice as far after its latest instrument."""
    slow = _path("S", D("2020-01-01"), [600, 60, 60, 60, 60])
    fast = forecast(RULE, TARGET, _references(), today=TARGET.dates[-1])
    late = forecast(RULE, slow, _references(), today=slow.dates[-1])
    assert fast.nth_instrument and late.nth_instrument
    assert fast.nth_instrument.median and late.nth_instrument.median
    ahead_fast = (fast.nth_instrument.median - TARGET.dates[-1]).days
    ahead_slow = (late.nth_instrument.median - slow.dates[-1]).days
    assert ahead_slow == pytest.approx(2 * ahead_fast, rel=0.02)


def test_probabilities_grow_with_the_date_and_match_the_quantiles():
    f = forecast(RULE, TARGET, _references(), today=TODAY, horizons=())
    e = f.entry_into_force
    assert e is not None and e.p10 and e.median and e.p90
    days = [TODAY + timedelta(days=90), e.p10, e.median, e.p90]
    p = forecast(RULE, TARGET, _references(), today=TODAY, horizons=days).probability_by
    assert p[days[0]] == 0.0  # the 20th cannot come in time for entry into force within 90 days
    assert p[e.p10] == pytest.approx(0.1, abs=0.03)
    assert p[e.median] == pytest.approx(0.5, abs=0.03)
    assert p[e.p90] == pytest.approx(0.9, abs=0.03)
    default = forecast(RULE, TARGET, _references(), today=TODAY).probability_by
    assert list(default) == [D("2021-12-31"), D("2022-12-31")]


def test_nothing_dated_after_the_day_is_learnt_from():
    """References' later instruments, and references opened later, change nothing."""
    early = [replace(h, dates=(*h.dates, D("2030-01-01"))) for h in _references()]
    later = _path("L", D("2022-01-01"), [5] * 20)
    base = forecast(RULE, TARGET, _references(), today=TODAY)
    assert forecast(RULE, TARGET, [*early, later], today=TODAY) == base
    # On a day when the references had not all reached their threshold: those wait.
    old = _path("O", D("1992-01-01"), [100, 20, 20, 20, 20])
    day = D("1992-06-01")
    cut = forecast(RULE, old, _references(), today=day)
    there = [h for h in _references() if h.opened <= day and (h.reached_on or day) < day]
    assert cut.reached == len(there) < cut.based_on
    early_day = forecast(RULE, TARGET, _references(), today=D("2019-01-01"))
    assert (
        early_day.state == NOT_FORECAST
        and early_day.reason == "not yet opened for signature on 2019-01-01"
    )


def test_the_treaty_itself_is_never_among_its_references():
    with_itself = [*_references(), replace(TARGET, dates=(*TARGET.dates, *(D("2021-06-01"),) * 15))]
    assert forecast(RULE, TARGET, with_itself, today=TODAY) == forecast(
        RULE, TARGET, _references(), today=TODAY
    )


def test_treaties_not_there_yet_count_as_at_least_this_long():
    """Half the references stall: they are counted (based_on) but not reached, the median moves
    later, and p90 is null when more than a tenth never get there."""
    stalled = _references(12) + [
        replace(h, treaty=h.treaty + "s") for h in _references(12, reach=False)
    ]
    f = forecast(RULE, TARGET, stalled, today=TODAY)
    all_reach = forecast(RULE, TARGET, _references(12), today=TODAY)
    assert f.state == FORECAST and (f.based_on, f.reached) == (24, 12)
    assert all_reach.based_on == all_reach.reached == 12
    assert f.nth_instrument and all_reach.nth_instrument
    assert f.nth_instrument.p90 is None and f.entry_into_force and f.entry_into_force.p90 is None
    assert f.to_dict()["nth_instrument"]["p90"] is None
    assert (
        f.nth_instrument.median is None or f.nth_instrument.median > all_reach.nth_instrument.median
    )


def test_no_qualifying_instrument_yet_is_forecast_from_the_opening_alone():
    empty = History("E", D("2020-01-01"), 20, ())
    f = forecast(RULE, empty, _references(), today=D("2020-02-01"))
    assert f.state == FORECAST and f.qualifying == 0 and f.method == model.METHOD_NO_PACE
    assert f.naive is None  # no pace to extrapolate
    q = f.nth_instrument
    assert q and q.median
    # The references take 200+9i days to their first and 19 gaps of 10+7i: from 390 to 3083 days.
    assert D("2021-01-01") < q.median < D("2028-01-01")


def test_one_instrument_is_a_pace_of_at_least_the_floor():
    """A ratification on the opening day: the time so far is taken as FLOOR_DAYS, not zero."""
    same_day = History("O", D("2020-01-01"), 20, (D("2020-01-01"),))
    f = forecast(RULE, same_day, _references(), today=D("2020-01-02"))
    assert f.state == FORECAST and f.qualifying == 1
    assert (
        f.nth_instrument and f.nth_instrument.median and f.nth_instrument.median > D("2020-01-02")
    )
    assert f.naive == D("2020-01-01") + timedelta(days=19 * model.FLOOR_DAYS)


def test_the_threshold_met_is_no_forecast():
    done = _path("M", D("2020-01-01"), [10] * 20)
    f = forecast(RULE, done, _references(), today=D("2021-01-01"))
    assert f.state == MET and f.qualifying == 20
    assert f.nth_instrument and f.nth_instrument.median == D("2020-07-19") == f.nth_instrument.p90
    assert f.entry_into_force and f.entry_into_force.median == D("2020-10-17")
    assert f.probability_by == {D("2021-12-31"): 1.0, D("2022-12-31"): 1.0}


def test_a_pace_stalled_for_years_is_insufficient_or_later_never_sooner():
    """Five instruments by 2021, none since: after ten more years no comparable treaty waited
    that long and then got there, so no date is given, with the reason."""
    soon = forecast(RULE, TARGET, _references(), today=TODAY)
    stalled = forecast(RULE, TARGET, _references(), today=D("2031-03-01"))
    assert soon.state == FORECAST and stalled.state == INSUFFICIENT
    assert stalled.nth_instrument is None and stalled.entry_into_force is None
    assert stalled.probability_by == {}
    assert stalled.reason and "already waited" in stalled.reason
    # Stalled for a shorter while: a forecast, later than the fresh one.
    a_while = forecast(RULE, TARGET, _references(), today=D("2023-03-01"))
    if a_while.state == FORECAST:
        assert a_while.nth_instrument and soon.nth_instrument
        assert a_while.nth_instrument.median and soon.nth_instrument.median
        assert a_while.nth_instrument.median > soon.nth_instrument.median


def test_too_few_comparable_treaties_is_insufficient_history():
    f = forecast(RULE, TARGET, _references(9), today=TODAY)
    assert f.state == INSUFFICIENT and f.nth_instrument is None
    assert f.reason and f.reason.startswith("9 treaties comparable (at least 10 needed)")
    small = [replace(h, threshold=4, dates=h.dates[:4]) for h in _references()]
    assert (
        forecast(RULE, TARGET, small, today=TODAY).based_on == 0
    )  # thresholds under 5: no reference


def test_parts_the_tracker_cannot_see_are_named_not_forecast():
    kyoto = rule_from_spec(
        "K",
        {
            "threshold": 20,
            "delay": {"days": 90},
            "conditions": [{"key": "emissions", "description": "55% of the 1990 emissions"}],
        },
    )
    f = forecast(kyoto, TARGET, _references(), today=TODAY)
    assert f.state == FORECAST
    assert f.not_forecast == (
        "55% of the 1990 emissions: outside data the tracker does not see, not forecast",
    )
    ctbt = catalogue("untc").rules["XXVI-4"]  # a named list of 44 States, no count
    named = forecast(ctbt, TARGET, _references(), today=TODAY)
    assert named.state == NOT_FORECAST and named.nth_instrument is None
    assert named.reason and "each missing State is its own question" in named.reason


def test_the_answer_as_json():
    d = forecast(RULE, TARGET, _references(), today=TODAY).to_dict()
    assert set(d) >= {"nth_instrument", "entry_into_force", "probability_by", "method", "based_on"}
    assert set(d["nth_instrument"]) == {"median", "p10", "p90"}
    assert all(D(v) for v in d["entry_into_force"].values())
    assert d["probability_by"] == {k: v for k, v in d["probability_by"].items() if 0 <= v <= 1}


def test_dates_past_the_calendars_end_are_null_not_an_error():
    """A pace so slow that the forecast runs past 9999-12-31 (a treaty 'opened' in year 1):
    those dates are null ("later than any date"), and a horizon on the calendar's last day is
    answered."""
    ancient = History("A", D("0001-01-01"), 200, TARGET.dates)  # 5 of 200 in 2020 years
    big = rule_from_spec("A", {"threshold": 200, "delay": {"days": 90}})
    last = date.max
    f = forecast(big, ancient, _references(), today=TODAY, horizons=(last,))
    assert f.state == FORECAST and f.nth_instrument and f.entry_into_force
    assert f.nth_instrument.p90 is None and f.entry_into_force.p90 is None
    assert f.naive is None  # N/k times two thousand years: past the calendar too
    assert 0 <= f.probability_by[last] < 0.9
    f_soon = forecast(RULE, TARGET, _references(), today=TODAY, horizons=(last,))
    assert f_soon.probability_by[last] == 1.0
