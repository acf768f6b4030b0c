"""The API's and the dashboard's answers are the bytes they were before a change made for speed
(issue 15): `GET /api/treaties`, every `GET /api/treaties/{id}` and every dashboard treaty page
`/treaties/{id}`, for the 30 own treaties (tests/support/own_pages.py) and for the golden
ingest history (tests/golden/scenario.py), digested per URL and compared with the committed
digests in `answer_bytes.json`.

Each URL is asked twice (the first computes, the second may be served from a cache) and once
more with every cache cleared: all three must be the committed bytes. A deliberate change of an
answer regenerates the file (`TRACKER_WRITE_GOLDEN=1 pytest tests/web/test_answer_bytes.py`)
and the commit says why; a change for speed never does.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support import own_pages

from tests.golden import scenario
from tracker.services.answer_cache import ANSWERS, FORECAST_HISTORIES, HISTORIES
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.web.app import create_app

pytestmark = [pytest.mark.db, pytest.mark.slow]

GOLDEN = Path(__file__).with_name("answer_bytes.json")
CLOCK = datetime(2026, 2, 4, 9, tzinfo=UTC)


def _clear() -> None:
    for cache in (ANSWERS, HISTORIES, FORECAST_HISTORIES):
        cache.clear()


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    _clear()
    yield
    _clear()


def _ids(client: TestClient) -> list[str]:
    listed = client.get("/api/treaties")
    assert listed.status_code == 200, listed.text[:300]
    return [row["treaty"] for row in listed.json()]


def _urls(ids: list[str]) -> list[str]:
    return [
        "/api/treaties",
        *(f"/api/treaties/{t}" for t in ids),
        *(f"/treaties/{t}" for t in ids),
    ]


def _digests(client: TestClient, urls: list[str]) -> dict[str, str]:
    found = {}
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 200, (url, answer.text[:300])
        found[url] = hashlib.sha256(answer.content).hexdigest()
    return found


def _compare(name: str, session_factory: Any, settings: Any) -> None:
    with TestClient(create_app(session_factory, settings, clock=lambda: CLOCK)) as client:
        urls = _urls(_ids(client))
        first = _digests(client, urls)
        again = _digests(client, urls)
        _clear()
        fresh = _digests(client, urls)
    assert again == first, [u for u in urls if again[u] != first[u]]
    assert fresh == first, [u for u in urls if fresh[u] != first[u]]
    if os.environ.get("TRACKER_WRITE_GOLDEN") == "1":
        known = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
        known[name] = first
        GOLDEN.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")
    expected = json.loads(GOLDEN.read_text())[name]
    assert set(first) == set(expected)
    changed = sorted(u for u in urls if expected[u] != first[u])
    assert not changed, f"answers changed: {changed}"


def test_the_own_treaties_answer_what_they_answered_before(session_factory, settings):
    observed = datetime(2026, 2, 3, 15, tzinfo=UTC)
    for treaty_id, url, body in own_pages.status_pages():
        page = FetchedPage("untc", url, body, observed, expected_treaty=treaty_id)
        assert ingest_page(session_factory, page).outcome == "accepted", treaty_id
    _compare("own", session_factory, settings)


def test_the_golden_history_answers_what_it_answered_before(session_factory, settings):
    scenario.run(session_factory)
    _compare("scenario", session_factory, settings)
