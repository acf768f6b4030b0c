"""The forecast against the tracked history of the real captures (tracker.devtools.real_histories):
the backtest's calibration and errors against the naive baseline (the figures
benchmarks/bench_forecast.py prints), and the Cybercrime convention forecast from a page with its
first ratifications, learning from the real treaties. Skips when shared/ is absent."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import pytest
from support import cybercrime
from support.real import ABSENT, REAL

from tracker.catalogue import catalogue
from tracker.devtools.real_histories import Tracked, load
from tracker.domain.evaluate import evaluate
from tracker.forecast.backtest import SHARES, backtest
from tracker.forecast.history import history_of
from tracker.forecast.model import FORECAST, forecast
from tracker.sources import untc
from tracker.sources.untc.footnotes import FOOTNOTES

pytestmark = [
    pytest.mark.skipif(not (REAL / "index.json").exists(), reason=ABSENT),
    pytest.mark.slow,  # parses every real page (about 6 s)
]


@cache
def _tracked() -> tuple[Tracked, ...]:
    return tuple(load())


def test_the_histories_are_the_real_treaties_with_their_computed_dates():
    tracked = {t.public_id: t for t in _tracked()}
    assert len(tracked) >= 75
    tpnw = tracked["XXVI-9"].history  # 50 instruments needed; the 50th was Honduras's
    assert tpnw.threshold == 50 and tpnw.reached_on == date(2020, 10, 24)
    assert tpnw.opened == date(2017, 7, 7)
    # Where two captures hold a treaty, the newer one (the 2026 page, not the 2018 file).
    assert tracked["XXVI-9"].captured == date(2026, 2, 3)


def test_the_backtest_is_calibrated_and_beats_the_naive_pace():
    report = backtest([(t.rule, t.history) for t in _tracked()])
    s = report.summary()
    assert s["treaties"] >= 60 and s["forecasts"] >= 150
    assert 0.75 <= s["coverage_80"] <= 0.85
    for share in map(str, SHARES):
        assert s["median_error_days"][share] < s["naive_median_error_days"][share]


def test_the_cybercrime_convention_from_its_first_ratifications():
    status = untc.parse(cybercrime.page(), url="https://treaties.un.org/x?mtdsg_no=XVIII-16")
    rule = catalogue("untc").rules["XVIII-16"]
    today = date(2026, 12, 1)
    ev = evaluate(rule, status, footnotes=FOOTNOTES, today=today)
    history = history_of("XVIII-16", rule, status, ev)
    assert history is not None and history.opened == cybercrime.OPENED
    assert history.dates == cybercrime.RATIFIED  # the European Union's approval is not additional
    f = forecast(rule, history, [t.history for t in _tracked()], today=today)
    assert f.state == FORECAST and (f.threshold, f.qualifying) == (40, 5)
    q, e = f.nth_instrument, f.entry_into_force
    assert q and e and q.p10 and q.median and e.median
    assert today < q.p10 < q.median
    assert e.median == q.median + timedelta(days=90)  # art. 65(1): the 90th day after the 40th
    assert f.probability_by[date(2026, 12, 31)] == 0.0  # 35 instruments and 90 days in a month
    assert 0 <= f.probability_by[date(2027, 12, 31)] < 0.5
    assert f.based_on >= 50 and f.naive and f.naive > q.median  # the naive pace is far slower
