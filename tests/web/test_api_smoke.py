"""The HTTP API over a database with one treaty: status equals the CLI's, errors are 4xx."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from statuses import member, page, status

from tracker.services.ingest import ingest_page
from tracker.services.read.status import treaty_status
from tracker.web.app import create_app

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]


@pytest.fixture
def client(session_factory, settings):
    value = status(
        member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08"),
        member("Algeria", "DZA", sig="2017-09-20"),
    )
    ingest_page(session_factory, page(value, "2019-01-02"))
    app = create_app(session_factory, settings, clock=lambda: datetime(2026, 11, 22, tzinfo=UTC))
    with TestClient(app) as c:
        yield c


def test_treaty_is_the_status_object(client, session_factory):
    answer = client.get("/api/treaties/XXVI-9")
    assert answer.status_code == 200
    with session_factory() as session:
        expected = treaty_status(session, "XXVI-9", today=datetime(2026, 11, 22).date())
    assert answer.json() == expected


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("/api/treaties/XXVI-99", 404),
        ("/api/treaties/XXVI-9?as_of=2020-02-30", 422),
        ("/api/events?kind=nonsense", 422),
        ("/api/events?since=yesterday", 422),
        ("/api/countries/A1", 422),
        ("/api/countries/ZZZ", 404),
        ("/api/treaties?format=xml", 422),
        ("/feeds/treaties/NOPE.atom", 404),
    ],
)
def test_bad_input_is_a_clear_4xx(client, url, code):
    answer = client.get(url)
    assert answer.status_code == code
    assert answer.json()["detail"]


def test_signed_not_ratified_as_csv(client):
    answer = client.get("/api/treaties/XXVI-9/participants?filter=signed_not_ratified&format=csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.text.startswith("\ufeff")  # UTF-8 for Excel
    lines = answer.text.removeprefix("\ufeff").splitlines()
    assert lines[0].startswith("name,iso3,reio,signature_date,consent_date,consent_kind")
    assert [line.split(",")[0] for line in lines[1:]] == ["Algeria"]


def test_health_and_metrics(client):
    assert client.get("/healthz").json()["status"] == "ok"
    client.get("/api/treaties")
    metrics = client.get("/metrics").text
    assert (
        'tracker_http_requests_total{method="GET",route="/api/treaties",status="200"} 1.0'
        in metrics
    )
    assert "tracker_treaties 1.0" in metrics
