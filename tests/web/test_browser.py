"""The dashboard in a real headless browser: Debian's chromium driven by Playwright.

The real app runs under uvicorn on 127.0.0.1 (a free port, in a thread) over a SQLite database
holding the recorded UNTC pages when shared/ is beside the repo, else built statuses. Install
the browser with scripts/ensure-chromium (scripts/test does). Without it the tests skip, except
in CI (`CI` set), where they fail. A screenshot of the treaty page goes to test-artifacts/.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker
from support.real import REAL
from test_dashboard import _states, seed_built, seed_real

from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from tracker.services.answer_cache import ANSWERS
from tracker.settings import Settings
from tracker.web.app import create_app

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TREATY = "XXVI-9"


def _unavailable(reason: str) -> None:
    message = f"{reason}; install it with scripts/ensure-chromium (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {message}", pytrace=False)
    pytest.skip(message)


@dataclass
class Site:
    base: str
    country: str


def _seed(sessions: sessionmaker[Session]) -> str:
    """Fill the database; return the ISO code of a country to visit."""
    if REAL.exists():
        seed_real(sessions)
        return "AUT"
    from statuses import fake_untc

    with fake_untc():
        seed_built(sessions)
    return _states()[0][1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app under uvicorn on a free loopback port, over a seeded SQLite database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'tracker.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    country = _seed(sessions)
    ANSWERS.clear()  # evaluations are cached by snapshot id, which repeat across tests
    app = create_app(
        sessions, Settings(database_url=url), clock=lambda: datetime(2026, 11, 22, 9, tzinfo=UTC)
    )
    with serving(app) as base:
        yield Site(base, country)
    engine.dispose()


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread: its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        _unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package playwright is not installed")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page that records console errors and uncaught exceptions in `page.errors`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.errors = []
    tab.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.errors.append(f"uncaught: {e}"))
    yield tab
    context.close()


def _open(page: Any, url: str) -> None:
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, url
    page.wait_for_load_state("networkidle")


def test_pages_load_without_console_errors(site: Site, page: Any) -> None:
    for path, heading in [
        ("/", "Tracked treaties"),
        (f"/treaties/{TREATY}", "Prohibition of Nuclear Weapons"),
        (f"/countries/{site.country}", site.country),
    ]:
        _open(page, site.base + path)
        assert heading in page.locator("h1").inner_text(), path
        assert page.evaluate("document.styleSheets.length") >= 1  # the CSS loaded
    assert page.errors == []


def test_chart_renders_with_size(site: Site, page: Any) -> None:
    _open(page, f"{site.base}/treaties/{TREATY}")
    box = page.locator("svg.chart-svg").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    line = page.locator("svg.chart-svg path.series").bounding_box()
    assert line is not None and line["width"] > 100 and line["height"] > 20
    assert page.locator("svg.chart-svg line.threshold").count() == 1
    assert page.locator("svg.chart-svg line.eif").count() == 1
    assert page.errors == []


def test_participant_filter_and_sort_when_clicked(site: Site, page: Any) -> None:
    _open(page, f"{site.base}/treaties/{TREATY}")
    rows = page.locator("#participants tbody tr:visible")
    everyone = rows.count()
    link = page.locator("a[data-filter=signed_not_ratified]")
    expected = int(link.locator(".n").inner_text().strip("()"))
    link.click()
    assert 0 < rows.count() == expected < everyone
    assert "filter=signed_not_ratified" in page.url
    assert page.locator("#shown-count").inner_text() == str(expected)
    page.locator("a[data-filter=all]").click()
    assert rows.count() == everyone
    header = page.locator("#participants thead th").nth(3)  # consent to be bound
    header.locator("a").click()
    assert header.get_attribute("aria-sort") == "ascending"
    first = rows.first.locator("td").nth(2).get_attribute("data-value")
    header.locator("a").click()
    assert header.get_attribute("aria-sort") == "descending"
    assert rows.first.locator("td").nth(2).get_attribute("data-value") >= first
    assert page.errors == []


def test_screenshot_of_the_treaty_page(site: Site, page: Any) -> None:
    _open(page, f"{site.base}/treaties/{TREATY}")
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / f"dashboard-treaty-{TREATY}.png"
    page.screenshot(path=str(target), full_page=True)
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000
    page.locator("figure.chart").screenshot(path=str(ARTIFACTS / f"dashboard-chart-{TREATY}.png"))
    _open(page, site.base + "/")
    page.screenshot(path=str(ARTIFACTS / "dashboard-overview.png"))
    assert page.errors == []


PHONE = {"width": 390, "height": 844}  # a common phone's CSS pixels


def test_overview_keeps_the_key_columns_in_view_on_a_phone(site: Site, browser: Any) -> None:
    """At a phone's width the treaty, its stage, its entry-into-force date and the instruments
    remaining are on screen, without scrolling sideways; the other columns are hidden."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        _open(tab, site.base + "/")
        rows = tab.locator("table.treaties tbody tr")
        assert rows.count() >= 1
        for i in range(rows.count()):
            row = rows.nth(i)
            for css in ("th.keycol", "td.stage", "td.eif", "td.num.keycol"):
                cell = row.locator(css)
                assert cell.is_visible(), (i, css)
                box = cell.bounding_box()
                assert box is not None and box["width"] > 0, (i, css)
                assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, (i, css)
            assert row.locator("td.eif").inner_text().strip()  # a date or "not yet"
            minor = row.locator("td.minor")
            assert minor.count() >= 5
            assert all(not minor.nth(j).is_visible() for j in range(minor.count()))
        wrap = tab.locator(".table-wrap")
        scroll, client = wrap.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert scroll <= client + 1, (scroll, client)  # nothing to scroll sideways to
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / "dashboard-overview-phone.png"), full_page=True)
        assert errors == []
    finally:
        context.close()
