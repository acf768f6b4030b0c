"""The forecast band in a real headless browser (Debian's chromium through Playwright, as
tests/web/test_browser.py): drawn beyond today, between p10 and p90, on the treaty page of the
Cybercrime convention among the project's own pages (support.cybercrime)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from support import cybercrime
from test_browser import _open, browser, page, serving  # noqa: F401 - the browser fixtures

from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from tracker.services.answer_cache import ANSWERS, FORECAST_HISTORIES
from tracker.settings import Settings
from tracker.web.app import create_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('forecast') / 'tracker.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    cybercrime.ingest_with_references(make_session_factory(engine))
    ANSWERS.clear()
    FORECAST_HISTORIES.clear()
    clock = lambda: datetime(2026, 12, 1, 15, tzinfo=UTC)
    app = create_app(make_session_factory(engine), Settings(database_url=url), clock=clock)
    with serving(app) as url_base:
        yield url_base
    engine.dispose()


def test_the_band_is_drawn_after_today_up_to_the_threshold(base: str, page: Any) -> None:  # noqa: F811
    _open(page, f"{base}/treaties/XVIII-16")
    band = page.locator("svg.chart-svg rect.forecast-band").bounding_box()
    line = page.locator("svg.chart-svg path.series").bounding_box()
    threshold = page.locator("svg.chart-svg line.threshold").bounding_box()
    assert band and line and threshold
    assert band["width"] > 20 and band["height"] > 20  # drawn, and seen
    assert band["x"] > line["x"] + line["width"] - 1  # p10 lies after today's end of the line
    assert abs(band["y"] - threshold["y"]) < 3  # its top is the threshold
    median = page.locator("svg.chart-svg circle.forecast-median").bounding_box()
    assert median and band["x"] <= median["x"] <= band["x"] + band["width"]
    assert "expected around" in page.locator("#forecast").inner_text()
    assert page.errors == []
