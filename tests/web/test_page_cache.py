"""The dashboard's treaty page, whose current answer is kept (tracker.services.read.status.
current_answer, under the status answer's key), is never older than the database: each input
changed between two requests -- a new snapshot, a new check of the same page, an operator's
confirmation and its change, a new day -- shows on the very next page, which is byte for byte
the page a server whose cache never hits renders.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support import cache_client

from tracker.services.answer_cache import ANSWERS
from tracker.services.ingest import ingest_page

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]

CLOCK = cache_client.CLOCK
# The fixtures: a client on CLOCK, and the answer cache emptied around each test.
client, fresh_cache = cache_client.client, cache_client.fresh_cache
PAGE = "/treaties/XXVI-9"


def _page(client: TestClient, monkeypatch: pytest.MonkeyPatch, url: str = PAGE) -> bytes:
    """The page as served, served again from what the first kept, and as rendered by a
    never-hitting cache: all the same bytes."""
    served = client.get(url)
    assert served.status_code == 200, served.text[:300]
    assert client.get(url).content == served.content
    with monkeypatch.context() as m:
        m.setattr(ANSWERS, "get", lambda session, key: None)
        assert client.get(url).content == served.content
    return served.content


def _kept(session_factory: Any) -> int:
    from tracker.services.answer_cache import engine_of

    with session_factory() as session:
        found = ANSWERS._by_engine.get(engine_of(session)) or {}
        return sum(1 for k in found if isinstance(k, tuple) and k[0] == "status-parts")


def test_each_input_of_the_page_shows_on_the_next_request(client, session_factory, monkeypatch):
    from statuses import member, page, status

    from tracker.services.rules_service import confirm_condition

    austria = member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08")
    one = status(austria, member("Algeria", "DZA", sig="2017-09-20"))
    two = status(austria, member("Algeria", "DZA", sig="2017-09-20", consent="2019-02-20"))
    ingest_page(session_factory, page(one, "2019-01-02"))
    before = _page(client, monkeypatch)
    assert _kept(session_factory) == 1
    ingest_page(session_factory, page(two, "2019-03-01"))  # a new snapshot: Algeria's consent
    after = _page(client, monkeypatch)
    assert after != before and b"2019-02-20" in after and b"2019-02-20" not in before
    ingest_page(session_factory, page(two, "2019-04-01"))  # the same page, checked again
    checked = _page(client, monkeypatch)
    assert checked != after
    CLOCK[0] += timedelta(days=400)  # a new day: the answer's `today`
    _page(client, monkeypatch)
    assert _kept(session_factory) == 4  # one kept answer per state above, each under its key

    paris = status(member("Austria", "AUT", sig="2016-04-22"), treaty="XXVII-7-d", title="Paris")
    url = "https://treaties.example/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVII-7-d"
    ingest_page(session_factory, page(paris, "2019-01-02", url=url))
    previous = _page(client, monkeypatch, "/treaties/XXVII-7-d")
    for met_on in (date(2016, 10, 5), date(2016, 10, 6)):  # a confirmation, then its change
        with session_factory.begin() as session:
            confirm_condition(session, "XXVII-7-d", "emissions_55", met_on, note=None, now=CLOCK[0])
        confirmed = _page(client, monkeypatch, "/treaties/XXVII-7-d")
        assert confirmed != previous
        assert f"{met_on:%-d %B %Y}".encode() in confirmed or met_on.isoformat().encode() in (
            confirmed
        )
        previous = confirmed


def test_a_kept_answer_is_not_changed_by_the_page(client, session_factory, monkeypatch):
    """The page marks each participant with its categories: on a copy, never on the kept
    answer (the API's answer, computed from the same parts, keeps its own fields)."""
    from statuses import member, page, status

    ingest_page(
        session_factory, page(status(member("Austria", "AUT", sig="2017-09-20")), "2019-01-02")
    )
    _page(client, monkeypatch)
    from tracker.services.answer_cache import engine_of

    with session_factory() as session:
        found = ANSWERS._by_engine.get(engine_of(session)) or {}
        kept = [v for k, v in found.items() if isinstance(k, tuple) and k[0] == "status-parts"]
    assert len(kept) == 1
    assert all("categories" not in p for p in kept[0][0]["participants"])
