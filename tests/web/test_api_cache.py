"""The treaty answer served from its kept bytes (tracker.services.read.status.current_encoded):
byte for byte what a computed answer is, and never older than the database.

The API keeps a treaty's current answer encoded, under the key of everything it is computed
from (the treaty row's last check, its newest snapshot and their count, its confirmations,
today). These tests compare a server whose cache hits with one whose cache never hits, and
change each part of the key between two requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tracker.services.answer_cache import ANSWERS
from tracker.services.ingest import ingest_page
from tracker.services.read.status import treaty_status
from tracker.web.api import encode_json
from tracker.web.app import create_app
from tracker.web.guards import _clean_json

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]

CLOCK = datetime(2026, 2, 3, 16, tzinfo=UTC)
TODAY = CLOCK.date()
PATH = "/api/treaties/XXVI-9"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    ANSWERS.clear()
    yield
    ANSWERS.clear()


@pytest.fixture
def client(session_factory: Any, settings: Any) -> Iterator[TestClient]:
    with TestClient(create_app(session_factory, settings, clock=lambda: CLOCK)) as c:
        yield c


def _statuses() -> tuple[Any, Any]:
    from statuses import member, status

    austria = member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08")
    one = status(austria, member("Algeria", "DZA", sig="2017-09-20"))
    two = status(austria, member("Algeria", "DZA", sig="2017-09-20", consent="2019-02-20"))
    return one, two


def _body(client: TestClient, url: str = PATH) -> bytes:
    answer = client.get(url)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"] == "application/json"
    assert int(answer.headers["content-length"]) == len(answer.content)
    return answer.content


def _computed(session_factory: Any, treaty: str = "XXVI-9") -> bytes:
    """The answer computed now, encoded as the route encodes it (cleaned as CleanJSON would)."""
    with session_factory() as session:
        body = encode_json(treaty_status(session, treaty, today=TODAY))
    return _clean_json(body) or body


def _never_hits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ANSWERS, "get", lambda session, key: None)


def test_the_kept_bytes_are_the_computed_answer_byte_for_byte(client, session_factory, monkeypatch):
    """The second request is served from the kept bytes: the same bytes as the first (which
    computed them), as a request whose cache never hits, and as the answer computed directly;
    for the treaty list and the dashboard's treaty page likewise (their parts are cached)."""
    one, _ = _statuses()
    from statuses import page

    ingest_page(session_factory, page(one, "2019-01-02"))
    urls = (PATH, "/api/treaties", "/treaties/XXVI-9")
    first = {url: client.get(url).content for url in urls}
    assert any(isinstance(k, tuple) and k[0] == "status-encoded" for k in _keys(session_factory))
    second = {url: client.get(url).content for url in urls}
    assert second == first
    assert second[PATH] == _computed(session_factory)
    _never_hits(monkeypatch)
    assert {url: client.get(url).content for url in urls} == first


def _keys(session_factory: Any) -> list[Any]:
    with session_factory() as session:
        from tracker.services.answer_cache import engine_of

        found = ANSWERS._by_engine.get(engine_of(session))
        return list(found or ())


def test_a_new_snapshot_a_new_check_and_a_confirmation_show_on_the_next_request(
    client, session_factory
):
    """Each part of the key, changed between two requests, changes the very next answer to
    the one computed from the new state (an old body served would fail)."""
    from statuses import member, page, status

    from tracker.services.rules_service import confirm_condition

    one, two = _statuses()
    ingest_page(session_factory, page(one, "2019-01-02"))
    before = _body(client)
    assert _body(client) == before  # kept
    ingest_page(session_factory, page(two, "2019-03-01"))  # a new snapshot: Algeria's consent
    after = _body(client)
    assert after != before and after == _computed(session_factory)
    assert b'"parties":2' in after
    ingest_page(session_factory, page(two, "2019-04-01"))  # the same page, checked again
    checked = _body(client)
    assert b'"last_checked_at":"2019-04-01T12:00:00+00:00"' in checked
    assert checked == _computed(session_factory)

    paris = status(member("Austria", "AUT", sig="2016-04-22"), treaty="XXVII-7-d", title="Paris")
    url = "https://treaties.example/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVII-7-d"
    ingest_page(session_factory, page(paris, "2019-01-02", url=url))
    unconfirmed = _body(client, "/api/treaties/XXVII-7-d")
    for met_on in (date(2016, 10, 5), date(2016, 10, 6)):  # a confirmation, then its change
        with session_factory.begin() as session:
            confirm_condition(session, "XXVII-7-d", "emissions_55", met_on, note=None, now=CLOCK)
        confirmed = _body(client, "/api/treaties/XXVII-7-d")
        assert confirmed != unconfirmed
        assert f'"met_on":"{met_on.isoformat()}"'.encode() in confirmed
        assert confirmed == _computed(session_factory, "XXVII-7-d")


def test_an_id_in_another_case_and_an_unknown_id(client, session_factory):
    one, _ = _statuses()
    from statuses import page

    ingest_page(session_factory, page(one, "2019-01-02"))
    assert _body(client, "/api/treaties/xxvi-9") == _body(client) == _computed(session_factory)
    missing = client.get("/api/treaties/XXVI-99")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "unknown treaty 'XXVI-99'"}
