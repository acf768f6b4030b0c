"""The treaty page's chart: qualifying instruments over time against the threshold, as SVG geometry.

Pure layout: `series_for` reads the rule's evaluation, `layout` turns dates and counts into
coordinates that `templates/_chart.html` draws as an inline SVG step line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from tracker.domain.evaluate import Evaluation
from tracker.forecast.model import FORECAST, Forecast

WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 20, 44


@dataclass(frozen=True)
class Band:
    """The forecast beyond today: from today's count up to the threshold, between the dates
    of the Nth instrument's 10th and 90th percentiles (p90 None: open to the right)."""

    today: date
    count: int
    p10: date
    median: date
    p90: date | None


@dataclass(frozen=True)
class Series:
    """Cumulative counts by legal date, the line they aim at, and the entry-into-force date."""

    label: str
    dates: tuple[date, ...]  # one per counted instrument, oldest first
    threshold: int | None
    entry_into_force: date | None
    end: date  # the as-of date, or today
    band: Band | None = None  # the forecast (tracker.web.dashboard: only for the page of today)


@dataclass
class Chart:
    """Coordinates in a WIDTH x HEIGHT view box."""

    series: Series
    path: str
    threshold_y: float | None = None
    threshold_label_y: float | None = None
    eif_x: float | None = None
    # The forecast band: x of today, p10, the median and p90 (the right edge when open), and the
    # y of today's count and of the threshold.
    band: dict[str, float | bool] | None = None
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, int]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def final(self) -> int:
        return len(self.series.dates)


def series_for(ev: Evaluation, end: date, forecast: Forecast | None = None) -> Series:
    """The instruments that count towards the rule (for a rule of named States only: theirs),
    up to `end` (the as-of date, or today), and the band of the `forecast` where it gives one."""
    eif = ev.computed or ev.published
    if ev.rule.threshold is not None or not ev.groups:
        dates = tuple(i.date for i in ev.instruments)
        band = _band(forecast, end, len(dates))
        return Series("qualifying instruments", dates, ev.rule.threshold, eif, end, band)
    group = ev.groups[0]
    label = f"instruments from {group.group.label}"
    return Series(label, tuple(group.dates), group.group.needed, eif, end)


def _band(forecast: Forecast | None, today: date, count: int) -> Band | None:
    q = forecast.nth_instrument if forecast is not None and forecast.state == FORECAST else None
    if q is None or q.p10 is None or q.median is None:
        return None
    return Band(today, count, q.p10, q.median, q.p90)


def _nice_step(span: float, most: int) -> int:
    raw = max(1.0, span / most)
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * magnitude:
            return int(m * magnitude)
    return int(10 * magnitude)


def layout(series: Series) -> Chart:
    """Place the step line, threshold line, entry-into-force marker and axis ticks."""
    points = list(series.dates)
    band = series.band
    ahead = [band.p10, band.median, band.p90] if band else []
    marks = [d for d in (series.entry_into_force, series.end, *ahead) if d]
    start = min(points + marks)
    stop = max(points + marks)
    if band is not None and band.p90 is None:  # open to the right: show a stretch beyond
        stop = max(stop, band.median + (band.median - band.p10))
    start = date(start.year, 1, 1)
    stop = max(stop, start + timedelta(days=365))
    top_value = max(len(points), series.threshold or 0, 1)
    step = _nice_step(top_value, 5)
    y_max = step * math.ceil(top_value * 1.08 / step)
    chart = Chart(series, path="")
    days = (stop - start).days or 1

    def x(d: date) -> float:
        return round(chart.left + (chart.right - chart.left) * (d - start).days / days, 1)

    def y(n: float) -> float:
        return round(chart.bottom - (chart.bottom - chart.top) * n / y_max, 1)

    parts = [f"M{x(start)} {y(0)}"]
    for n, d in enumerate(points, start=1):
        parts.append(f"H{x(d)} V{y(n)}")
    parts.append(f"H{x(series.end)}")
    chart.path = " ".join(parts)
    if series.threshold is not None:
        chart.threshold_y = y(series.threshold)
        line_above = 0 <= chart.threshold_y - y(len(points)) <= 22  # label would sit on it
        chart.threshold_label_y = chart.threshold_y + (16 if line_above else -6)
    if series.entry_into_force is not None:
        chart.eif_x = x(series.entry_into_force)
    if band is not None and series.threshold is not None:
        chart.band = {
            "today_x": x(band.today),
            "p10_x": x(band.p10),
            "median_x": x(band.median),
            "p90_x": x(band.p90) if band.p90 else chart.right,
            "open": band.p90 is None,
            "count_y": y(band.count),
            "threshold_y": y(series.threshold),
        }
    chart.y_ticks = [(y(v), v) for v in range(0, y_max + 1, step)]
    years = _nice_step(stop.year - start.year + 1, 8)
    first_year = start.year + (-start.year % years)
    chart.x_ticks = [
        (x(date(year, 1, 1)), str(year))
        for year in range(first_year, stop.year + 1, years)
        if date(year, 1, 1) <= stop
    ]
    return chart
