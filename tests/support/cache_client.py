"""A web client on a clock the test moves, with the answer cache emptied around each test: for
the tests that change one input of a kept answer and ask again (tests/web/test_*_cache.py).
Bind `client` and `fresh_cache` as names of the test module (the fixtures work from there).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tracker.services.answer_cache import ANSWERS
from tracker.web.app import create_app

START = datetime(2026, 2, 3, 16, tzinfo=UTC)
CLOCK = [START]  # the app's now: CLOCK[0], moved by the test


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    ANSWERS.clear()
    CLOCK[:] = [START]
    yield
    ANSWERS.clear()


@pytest.fixture
def client(session_factory: Any, settings: Any) -> Iterator[TestClient]:
    with TestClient(create_app(session_factory, settings, clock=lambda: CLOCK[0])) as c:
        yield c
