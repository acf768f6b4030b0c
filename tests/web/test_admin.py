"""Operator endpoint: confirming an outside-data condition over HTTP, with a bearer token."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from statuses import member, page, status

from tracker.services.ingest import ingest_page
from tracker.web.app import create_app

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]
URL = "/api/treaties/XXVII-7-d/conditions/emissions_55"


def _paris(session_factory) -> None:
    start = date(2016, 4, 22)
    members = [
        member(f"State {i}", None, consent=(start + timedelta(days=i)).isoformat())
        for i in range(55)
    ]
    value = status(*members, treaty="XXVII-7-d", title="Paris Agreement")
    ingest_page(session_factory, page(value, "2016-10-01", url="https://treaties.example/paris"))


@pytest.fixture
def client(session_factory, settings):
    _paris(session_factory)

    app = create_app(session_factory, settings.replace(admin_token="s3cret"))
    with TestClient(app) as c:
        yield c


def test_confirming_needs_the_token_and_then_updates_the_answer(client):
    body = {"met_on": "2016-10-05", "note": "UNFCCC table"}
    assert client.post(URL, json=body).status_code == 401
    assert client.post(URL, json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    before = client.get("/api/treaties/XXVII-7-d").json()
    assert before["conditions"][0]["state"] == "awaiting confirmation"
    done = client.post(URL, json=body, headers={"Authorization": "Bearer s3cret"})
    assert done.status_code == 200
    assert done.json()["events"] == ["threshold_crossed", "entered_into_force"]
    after = client.get("/api/treaties/XXVII-7-d").json()
    assert (after["threshold_met_on"], after["entry_into_force"]["computed"]) == (
        "2016-10-05",
        "2016-11-04",
    )


@pytest.mark.parametrize(
    ("url", "body", "code", "detail"),
    [
        (URL, {"met_on": "2999-01-01"}, 422, "cannot be confirmed as met in the future"),
        (
            "/api/treaties/XXVII-7-d/conditions/tonnage",
            {"met_on": "2016-10-05"},
            422,
            "has no condition 'tonnage'",
        ),
        ("/api/treaties/NOPE/conditions/x", {"met_on": "2016-10-05"}, 404, "unknown treaty"),
        (URL, {"met_on": "yesterday"}, 422, "met_on"),
    ],
)
def test_bad_confirmations_are_refused(client, url, body, code, detail):
    answer = client.post(url, json=body, headers={"Authorization": "Bearer s3cret"})
    assert answer.status_code == code
    assert detail in str(answer.json()["detail"])


def test_operator_endpoints_are_disabled_without_a_token(session_factory, settings):
    _paris(session_factory)
    with TestClient(create_app(session_factory, settings)) as c:
        answer = c.post(URL, json={"met_on": "2016-10-05"}, headers={"Authorization": "Bearer x"})
    assert answer.status_code == 403
    assert "TRACKER_ADMIN_TOKEN" in answer.json()["detail"]
