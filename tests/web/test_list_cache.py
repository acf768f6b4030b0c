"""The treaty list's kept rule progress (tracker.services.read.treaties._progress) is never
older than the database: each input of a treaty's progress, changed between two requests,
shows in the very next `GET /api/treaties` -- its own latest snapshot, its confirmations, today,
and for a rule that reads another treaty (IV-5 waits for IV-4's entry into force: after_treaty)
that treaty's latest snapshot. Each answer is also compared with the list computed by a
server whose cache never hits, byte for byte.
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


def _url(treaty: str) -> str:
    return f"https://treaties.example/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no={treaty}"


def _list(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, dict[str, Any]]:
    """The list as served (twice: the second from what the first kept), checked against the
    list a never-hitting cache computes; and its rows by treaty."""
    served = client.get("/api/treaties")
    assert served.status_code == 200, served.text[:300]
    assert client.get("/api/treaties").content == served.content
    with monkeypatch.context() as m:
        m.setattr(ANSWERS, "get", lambda session, key: None)
        assert client.get("/api/treaties").content == served.content
    return served.content, {r["treaty"]: r for r in served.json()}


def _ingest(session_factory: Any, treaty: str, day: str, *members: Any, **kw: Any) -> None:
    from statuses import page, status

    value = status(*members, treaty=treaty, title=f"Treaty {treaty}", **kw)
    result = ingest_page(session_factory, page(value, day, url=_url(treaty)))
    assert result.outcome in {"accepted", "unchanged"}, result


def _members(n: int, consent: str = "2000-01-10") -> list[Any]:
    from statuses import member

    codes = ("AUT", "BEL", "CAN", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "ISL", "IRL")
    return [member(f"State {c}", c, sig="1999-01-05", consent=consent) for c in codes[:n]]


def test_the_other_treatys_snapshot_shows_in_the_next_list(client, session_factory, monkeypatch):
    _ingest(session_factory, "IV-5", "2001-01-02", *_members(10))
    _, rows = _list(client, monkeypatch)
    alone = rows["IV-5"]["entry_into_force"]  # IV-4 not tracked: the rule's fallback
    assert any(k[0] == "progress-with" for k in _keys(session_factory))  # kept, others in key
    _ingest(session_factory, "IV-4", "2001-01-03", *_members(1), eif_date="2005-06-01")
    _, rows = _list(client, monkeypatch)
    assert rows["IV-5"]["entry_into_force"] != alone
    assert rows["IV-5"]["entry_into_force"] == "2005-06-01"  # the Covenant's, the later date
    _ingest(session_factory, "IV-4", "2001-01-04", *_members(1), eif_date="2006-07-01")
    _, rows = _list(client, monkeypatch)
    assert rows["IV-5"]["entry_into_force"] == "2006-07-01"  # its newer snapshot's date


def test_its_own_snapshot_a_confirmation_and_today_show_in_the_next_list(
    client, session_factory, monkeypatch
):
    from statuses import member

    from tracker.services.rules_service import confirm_condition

    _ingest(session_factory, "IV-5", "2001-01-02", *_members(9))
    _, rows = _list(client, monkeypatch)
    assert rows["IV-5"]["qualifying_instruments"] == 9 and rows["IV-5"]["remaining"] == 1
    _ingest(session_factory, "IV-5", "2001-01-05", *_members(10))  # its new snapshot
    _, rows = _list(client, monkeypatch)
    assert rows["IV-5"]["qualifying_instruments"] == 10 and rows["IV-5"]["remaining"] == 0
    _ingest(session_factory, "IV-5", "2001-01-06", *_members(10))  # checked again: unchanged
    _, rows = _list(client, monkeypatch)
    assert rows["IV-5"]["last_checked_at"] == "2001-01-06T12:00:00+00:00"

    parties = [
        member(f"State {i}", f"Q{i:02d}", sig="2016-04-22", consent="2016-09-01") for i in range(55)
    ]
    _ingest(session_factory, "XXVII-7-d", "2019-01-02", *parties)  # its 55 instruments
    before, rows = _list(client, monkeypatch)
    unconfirmed = rows["XXVII-7-d"]
    for met_on in (date(2016, 10, 5), date(2016, 10, 6)):  # a confirmation, then its change
        with session_factory.begin() as session:
            confirm_condition(session, "XXVII-7-d", "emissions_55", met_on, note=None, now=CLOCK[0])
        after, rows = _list(client, monkeypatch)
        assert after != before and rows["XXVII-7-d"] != unconfirmed
        before = after

    # today: the day a rule is evaluated on is in the key (a new day, a new evaluation)
    day_keys = {k[6] for k in _keys(session_factory) if k[0] == "progress"}
    CLOCK[0] += timedelta(days=1)
    _list(client, monkeypatch)
    assert {k[6] for k in _keys(session_factory) if k[0] == "progress"} > day_keys


def _keys(session_factory: Any) -> list[Any]:
    from tracker.services.answer_cache import engine_of

    with session_factory() as session:
        found = ANSWERS._by_engine.get(engine_of(session))
        return [k for k in (found or ()) if isinstance(k, tuple)]
