"""/changes in a real headless browser (the fixtures of test_browser: the app under uvicorn,
Debian's chromium through Playwright): reached from the navigation, filtered by its form, no
console errors; a screenshot goes to test-artifacts/changes.png."""

from __future__ import annotations

from typing import Any

import pytest
import test_browser
from test_browser import ARTIFACTS, Site, _open

pytestmark = pytest.mark.slow

# test_browser's fixtures: the app under uvicorn, the browser, a page recording console errors
site, browser, page = test_browser.site, test_browser.browser, test_browser.page


def test_the_changes_page_from_the_navigation_and_its_filter(site: Site, page: Any) -> None:
    _open(page, site.base + "/")
    page.get_by_role("navigation", name="Site").get_by_role("link", name="What changed").click()
    page.wait_for_load_state("networkidle")
    assert page.url == site.base + "/changes"
    assert page.locator("h1").inner_text() == "What changed"
    every = page.locator("li[data-event]").count()
    assert every > 0 and page.locator("section.changes-day h2").count() >= 1
    page.select_option("#kind", "consent")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state("networkidle")
    assert page.url == site.base + "/changes?since=&kind=consent&source=&country="
    consents = page.locator("li[data-event]")
    assert 0 < consents.count() <= every
    classes = consents.evaluate_all("items => items.map(i => i.className)")
    assert set(classes) == {"event-consent"}
    assert page.locator("#kind").input_value() == "consent"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "changes.png"), full_page=True)
    assert page.errors == []
