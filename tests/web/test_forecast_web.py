"""The forecast on the web: `GET /api/treaties/{id}/forecast` (its answer, its errors, its OpenAPI
document) and the treaty page's band and "When?" section, over the project's own pages
(support.cybercrime: the 30 treaties of support.own_pages and the Cybercrime convention)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from support import cybercrime, own_pages

from tracker.services.answer_cache import ANSWERS, FORECAST_HISTORIES
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.web.app import create_app
from tracker.web.dashboard_chart import Band, Series, layout

pytestmark = pytest.mark.db

NOW = datetime(2026, 12, 1, 15, tzinfo=UTC)
D = date.fromisoformat


def _client(session_factory, settings) -> TestClient:
    ANSWERS.clear()
    FORECAST_HISTORIES.clear()
    return TestClient(create_app(session_factory, settings, clock=lambda: NOW))


@pytest.fixture
def client(session_factory, settings):
    cybercrime.ingest_with_references(session_factory)
    return _client(session_factory, settings)


def test_the_api_answers_the_forecast(client):
    response = client.get("/api/treaties/XVIII-16/forecast")
    assert response.status_code == 200
    f = response.json()
    assert (f["treaty"], f["as_of"], f["state"], f["threshold"], f["qualifying"]) == (
        "XVIII-16", "2026-12-01", "forecast", 40, 5,
    )  # fmt: skip
    nth = {k: D(v) for k, v in f["nth_instrument"].items()}
    eif = {k: D(v) for k, v in f["entry_into_force"].items()}
    assert D("2026-12-01") <= nth["p10"] <= nth["median"] <= nth["p90"]
    assert eif == {k: v + timedelta(days=90) for k, v in nth.items()}  # art. 65(1)
    assert set(f["probability_by"]) == {"2026-12-31", "2027-12-31"}
    assert f["based_on"] >= 10 and f["method"].startswith("reference class")


def test_by_dates_and_bad_ones(client):
    f = client.get("/api/treaties/XVIII-16/forecast?by=2035-01-01&by=2027-06-30").json()
    assert list(f["probability_by"]) == ["2027-06-30", "2035-01-01"]
    assert f["probability_by"]["2027-06-30"] <= f["probability_by"]["2035-01-01"]
    bad = client.get("/api/treaties/XVIII-16/forecast?by=2027-02-30")
    assert bad.status_code == 422
    assert bad.json() == {
        "detail": "query parameter by.0: Input should be a valid date or datetime, day value is "
        "outside expected range"
    }
    assert client.get("/api/treaties/XVIII-16/forecast?by=0").status_code == 422
    last = client.get("/api/treaties/XVIII-16/forecast?by=9999-12-31")  # the calendar's end
    assert last.status_code == 200 and 0 <= last.json()["probability_by"]["9999-12-31"] <= 1


def test_unknown_treaty_is_404_in_the_one_shape(client):
    response = client.get("/api/treaties/XVIII-99/forecast")
    assert response.status_code == 404 and set(response.json()) == {"detail"}


def test_met_and_not_forecast_give_no_invented_date(client):
    met = client.get("/api/treaties/XXVI-9/forecast").json()
    assert met["state"] == "threshold met" and met["nth_instrument"]["median"] == "2020-10-24"
    ctbt = client.get("/api/treaties/XXVI-4/forecast").json()
    assert ctbt["state"] == "not forecast" and ctbt["nth_instrument"] is None
    assert "each missing State is its own question" in ctbt["reason"]


def test_the_openapi_document_describes_it(client):
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/treaties/{treaty_id}/forecast"]["get"]
    assert {p["name"] for p in op["parameters"]} == {"treaty_id", "by"}
    assert "404" in op["responses"]
    schema = spec["components"]["schemas"]["ForecastAnswer"]
    assert {"nth_instrument", "entry_into_force", "probability_by", "method", "based_on"} <= set(
        schema["properties"]
    )


def _band(page: str):
    doc = lxml_html.fromstring(page)
    return doc, doc.xpath('//*[@id="progress-chart"]//*[@class="forecast"]')


def test_the_treaty_page_draws_the_band_beyond_today(client):
    f = client.get("/api/treaties/XVIII-16/forecast").json()
    doc, (band,) = _band(client.get("/treaties/XVIII-16").text)
    assert (band.get("data-p10"), band.get("data-median"), band.get("data-p90")) == (
        f["nth_instrument"]["p10"], f["nth_instrument"]["median"], f["nth_instrument"]["p90"],
    )  # fmt: skip
    (rect,) = band.xpath(".//*[contains(@class, 'forecast-band')]")
    (path,) = band.xpath(".//*[@class='forecast-path']")
    series_end = float(doc.xpath('//*[@class="series"]/@d')[0].split("H")[-1])
    assert float(path.get("x1")) == series_end  # the band starts from today's count
    assert float(rect.get("x")) > series_end  # p10 is after today
    when = doc.xpath('//*[@id="forecast"]')[0].text_content()
    assert f"expected around {f['entry_into_force']['median']}" in when
    assert f"Based on {f['based_on']} tracked treaties" in when


def test_a_page_with_no_forecast_says_why_and_draws_no_band(session_factory, settings):
    """Two treaties only: too few to learn from."""
    for treaty, body in (("XXVI-9", own_pages.tpnw_page()), ("XVIII-16", cybercrime.page())):
        page = FetchedPage("untc", own_pages.url_of(treaty), body, NOW, NOW, expected_treaty=treaty)
        assert ingest_page(session_factory, page).outcome == "accepted"
    client = _client(session_factory, settings)
    doc, bands = _band(client.get("/treaties/XVIII-16").text)
    assert bands == []
    (when,) = doc.xpath('//*[@id="forecast"]')
    assert when.get("data-state") == "insufficient history"
    assert "No forecast (insufficient history): 1 treaty comparable" in when.text_content()
    api = client.get("/api/treaties/XVIII-16/forecast").json()
    assert api["nth_instrument"] is None and api["probability_by"] == {}


def test_a_page_as_of_a_past_date_shows_no_forecast(client):
    doc, bands = _band(client.get("/treaties/XVIII-16?as_of=2026-06-01").text)
    assert bands == [] and doc.xpath('//*[@id="forecast"]') == []


def test_an_open_ended_band_runs_to_the_charts_right_edge():
    """p90 null (later than any comparable treaty shows): the band reaches the right edge, and
    the chart extends past the median by as much as the median lies past p10."""
    band = Band(D("2026-12-01"), 5, D("2028-01-01"), D("2030-01-01"), None)
    dates = (D("2026-03-12"), D("2026-05-20"), D("2026-07-01"), D("2026-09-15"), D("2026-11-03"))
    chart = layout(Series("qualifying instruments", dates, 40, None, D("2026-12-01"), band))
    assert chart.band is not None and chart.band["open"] is True
    assert chart.band["p90_x"] == chart.right
    assert chart.band["p10_x"] < chart.band["median_x"] < chart.right
    assert chart.band["today_x"] < chart.band["p10_x"]
    assert chart.band["threshold_y"] == chart.threshold_y
    assert chart.x_ticks[-1][1] in ("2031", "2032")  # the stretch beyond the median
