"""Who has not joined, on the web: `GET /api/treaties/{id}/missing` (its answer and its OpenAPI
document) and the treaty page's "Not yet joined" section, over pages of the project's own
ingested through the real parser (support.own_pages' TPNW; a page with a withdrawn State)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from support import own_pages
from support.untc_render import Page, Row, render

from tracker.services.answer_cache import ANSWERS
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.web.app import create_app

pytestmark = pytest.mark.db

NOON = datetime(2026, 2, 3, 12, tzinfo=UTC)
D = date.fromisoformat


def _ingest(session_factory, treaty: str, body: bytes) -> None:
    page = FetchedPage("untc", own_pages.url_of(treaty), body, NOON, NOON, expected_treaty=treaty)
    assert ingest_page(session_factory, page).outcome == "accepted"


def _ottawa_few() -> bytes:
    rows = [
        Row("Austria", D("1997-12-03"), D("1998-06-29")),
        Row("Estonia", None, D("2004-05-12"), letter="a", withdrawn=True),
        Row("Holy See", D("1997-12-04"), D("1998-02-17")),
        Row("Marshall Islands", D("1997-12-04")),
    ]
    return render(
        Page(
            treaty_id="XXVI-5",
            title="Convention on the Prohibition of the Use, Stockpiling, Production and "
            "Transfer of Anti-Personnel Mines and on their Destruction",
            rows=rows,
            in_force="1 March 1999, in accordance with article 17(1).",
        )
    )


@pytest.fixture
def client(session_factory, settings):
    _ingest(session_factory, "XXVI-9", own_pages.tpnw_page())
    _ingest(session_factory, "XXVI-5", _ottawa_few())
    ANSWERS.clear()
    app = create_app(session_factory, settings, clock=lambda: datetime(2026, 11, 22, 9, tzinfo=UTC))
    return TestClient(app)


def test_api_missing_answer(client):
    response = client.get("/api/treaties/XXVI-9/missing")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    found = response.json()
    assert found["treaty"] == "XXVI-9" and found["observed_at"].startswith("2026-02-03")
    ref = found["reference"]
    assert (ref["id"], ref["version"], ref["members"]) == ("un_members", 1, 193)
    assert "un.org" in ref["citation"]
    for key in ("signed_not_ratified", "not_signed"):
        for entry in found[key]:
            assert isinstance(entry["iso3"], str) and len(entry["iso3"]) == 3
            assert isinstance(entry["name"], str) and entry["name"]
            assert (entry["signed"] is None) == (key == "not_signed")
    c = found["counts"]
    assert c["parties"] + c["signed_not_ratified"] + c["not_signed"] == c["reference"] == 193
    assert client.get("/api/treaties/xxvi-9/missing").json()["treaty"] == "XXVI-9"


def test_api_missing_withdrawn_and_observer(client):
    found = client.get("/api/treaties/XXVI-5/missing").json()
    assert [e["iso3"] for e in found["withdrawn"]] == ["EST"]
    assert found["withdrawn"][0]["consents"][0]["date"] == "2004-05-12"
    assert [e["iso3"] for e in found["signed_not_ratified"]] == ["MHL"]
    counted = {o["iso3"]: o["counted"] for o in found["observers"]}
    assert counted == {"VAT": True, "PSE": False}
    c = found["counts"]
    assert (c["reference"], c["parties"], c["not_signed"]) == (194, 2, 194 - 4)


def test_api_missing_unknown_treaty_is_404(client):
    response = client.get("/api/treaties/XXVI-99/missing")
    assert response.status_code == 404 and "XXVI-99" in response.json()["detail"]


def test_openapi_documents_the_endpoint(client):
    doc = client.get("/openapi.json").json()
    op = doc["paths"]["/api/treaties/{treaty_id}/missing"]["get"]
    assert "iso3" in op["description"] and "signed" in op["description"]
    assert "404" in op["responses"] and "200" in op["responses"]
    assert [p["name"] for p in op["parameters"]] == ["treaty_id"]


def test_treaty_page_shows_not_yet_joined(client):
    found = client.get("/api/treaties/XXVI-5/missing").json()
    page = client.get("/treaties/XXVI-5")
    assert page.status_code == 200
    doc = lxml_html.fromstring(page.text)
    (section,) = doc.xpath('//section[@id="missing"]')
    assert section.xpath("string(.//h2)") == "Not yet joined"
    count = {e.get("data-count"): int(e.text_content()) for e in section.xpath(".//*[@data-count]")}
    assert count == {"signed_not_ratified": 1, "not_signed": 190, "withdrawn": 1}
    signed = section.xpath('.//ul[@id="missing-signed"]/li')
    assert [li.get("data-iso3") for li in signed] == ["MHL"]
    assert "signed 1997-12-04" in signed[0].text_content()
    unsigned = [li.get("data-iso3") for li in section.xpath('.//ul[@id="missing-unsigned"]/li')]
    assert unsigned == [e["iso3"] for e in found["not_signed"]] and "FRA" in unsigned
    (withdrawn,) = section.xpath('.//ul[@id="missing-withdrawn"]/li')
    text = " ".join(withdrawn.text_content().split())
    assert "Estonia" in text and "accession of 2004-05-12" in text
    assert "effective date not known" in text
    assert "version 1" in section.text_content() and "un.org" in section.text_content()


def test_treaty_page_as_of_a_past_date_says_the_section_is_for_the_latest_status(client):
    page = client.get("/treaties/XXVI-9?as_of=2020-01-01")
    doc = lxml_html.fromstring(page.text)
    (section,) = doc.xpath('//section[@id="missing"]')
    assert "latest status only" in section.text_content()
    assert not section.xpath(".//ul")
