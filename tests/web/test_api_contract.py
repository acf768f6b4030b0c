"""The HTTP API's contract, over 30 UNTC status pages (plus a Cybercrime Convention history,
so there are change events to list), all the project's own, rendered in UNTC's markup
(`support.own_pages`: the treaties of the real Feb 2026 set, TPNW and the CTBT built to the real
figures asserted here). tests/conformance/test_api_contract_real.py runs the same tests over the
real captures.

Every endpoint: status codes, content types, JSON shapes, CSV exports (header row, one row per
JSON item), filters, `as_of`, Atom feeds, /healthz (503 when the database is down) and /metrics.
Bad input is a 4xx with a clear `detail`, never a 500; the regressions schemathesis found are at
the end.
"""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from support import own_pages
from support.untc_render import Page, Row, render

from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from db.vocabulary import TREATY_EVENT_KINDS
from tracker.services.crawl_records import record_crawl
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.services.read.status import treaty_status
from tracker.services.read.treaties import STAGES, sort_key
from tracker.settings import Settings
from tracker.web.api import (
    COUNTRY_COLUMNS,
    EVENT_COLUMNS,
    PARTICIPANT_COLUMNS,
    TREATY_COLUMNS,
)
from tracker.web.app import create_app
from tracker.web.export import column_names

# The keys of the JSON rows the exports flatten (the exports' columns: tracker.web.api).
PARTICIPANT_KEYS = {
    "name",
    "iso3",
    "reio",
    "signature",
    "consent",
    "provisional_application",
    "withdrawn",
    "in_force_from",
    "published_in_force_from",
    "footnotes",
}
EVENT_KEYS = {
    "id",
    "treaty",
    "source",
    "kind",
    "participant",
    "iso3",
    "legal_date",
    "observed_at",
    "state",
    "snapshot_id",
    "details",
}
ACTION_KEYS = {"column", "kind", "date", "withdrawn", "printed_name"}

# slow: the module database holds the 30 real pages ingested (over 10 s to build per worker)
pytestmark = [pytest.mark.db, pytest.mark.slow]

TODAY = date(2026, 11, 22)
CLOCK = datetime(2026, 11, 22, 12, tzinfo=UTC)
OBSERVED = datetime(2026, 2, 3, 15, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"
PUBLIC = "https://tracker.example.org"  # TRACKER_PUBLIC_URL: feed ids and links are under it

# A Cybercrime Convention (XVIII-16) history: 39 State ratifications, then the 40th.
STATES = [
    "Albania",
    "Angola",
    "Austria",
    "Belgium",
    "Brazil",
    "Bulgaria",
    "Cameroon",
    "Chile",
    "China",
    "Colombia",
    "Croatia",
    "Cyprus",
    "Denmark",
    "Ecuador",
    "Egypt",
    "Estonia",
    "Finland",
    "France",
    "Georgia",
    "Germany",
    "Ghana",
    "Greece",
    "Guatemala",
    "Hungary",
    "Iceland",
    "Indonesia",
    "Ireland",
    "Italy",
    "Japan",
    "Jordan",
    "Kenya",
    "Latvia",
    "Lithuania",
    "Luxembourg",
    "Malaysia",
    "Malta",
    "Mexico",
    "Mongolia",
    "Morocco",
    "Mozambique",
    "Netherlands",
    "Norway",
    "Uruguay",
]
FORTIETH = date(2026, 9, 15)
CYBER_BEFORE = datetime(2026, 9, 1, 14, tzinfo=UTC)
CYBER_AFTER = datetime(2026, 9, 20, 14, tzinfo=UTC)


def _cyber_page(ratified: int) -> bytes:
    rows = []
    for i, name in enumerate(STATES):
        consent = date(2026, 1, 5) + timedelta(days=4 * i) if i < 39 else None
        if i == 39 and ratified == 40:
            consent = FORTIETH
        rows.append(Row(name, signature=date(2025, 10, 25), consent=consent))
    rows.append(
        Row("European Union", signature=date(2025, 10, 25), consent=date(2026, 3, 2), letter="AA")
    )
    rows.sort(key=lambda r: r.name)
    return render(
        Page(
            treaty_id="XVIII-16",
            title="United Nations Convention against Cybercrime",
            rows=rows,
            eif_text_not_in_force="(see article 65).",
            status_as_at="01-09-2026 10:00:00 EDT",
        )
    )


@dataclass(frozen=True)
class Api:
    client: TestClient
    sessions: sessionmaker[Session]
    url: str
    treaty_ids: tuple[str, ...]


@pytest.fixture(scope="module")
def pages() -> list[tuple[str, str, bytes]]:
    """(treaty, URL, page) of the 30 status pages: the project's own, rendered in UNTC's markup
    (tests/conformance/test_api_contract_real.py runs this contract over the real captures)."""
    return own_pages.status_pages()


@pytest.fixture(scope="module")
def database(
    tmp_path_factory: pytest.TempPathFactory,
    _pg_admin: Engine | None,
    pages: list[tuple[str, str, bytes]],
) -> Iterator[tuple[str, tuple[str, ...]]]:
    """A migrated database holding the 30 status pages and XVIII-16's two snapshots (module-wide)."""
    schema = None
    if _pg_admin is None:
        url = f"sqlite:///{tmp_path_factory.mktemp('api-contract') / 'tracker.sqlite3'}"
    else:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        schema = f"tracker_api_{worker}_{uuid.uuid4().hex[:8]}".lower()
        with _pg_admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        base = os.environ["TRACKER_TEST_DATABASE_URL"]
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    for treaty, original_url, body in pages:
        page = FetchedPage("untc", original_url, body, OBSERVED, expected_treaty=treaty)
        assert ingest_page(sessions, page).outcome == "accepted", treaty
    cyber_url = "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XVIII-16"
    for ratified, seen in ((39, CYBER_BEFORE), (40, CYBER_AFTER)):
        page = FetchedPage(
            "untc", cyber_url, _cyber_page(ratified), seen, expected_treaty="XVIII-16"
        )
        assert ingest_page(sessions, page).outcome == "accepted"
    # The pages came from a good crawl (a source never crawled successfully is not healthy).
    record_crawl(sessions, "untc", {"pages": len(pages) + 2}, True, None, CYBER_AFTER)
    engine.dispose()
    yield url, (*tuple(t for t, _, _ in pages), "XVIII-16")
    if schema is not None and _pg_admin is not None:
        with _pg_admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture(scope="module")
def api(database: tuple[str, tuple[str, ...]]) -> Iterator[Api]:
    url, treaty_ids = database
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    settings = Settings(data_dir=Path("data"), database_url=url, public_url=PUBLIC)
    with TestClient(create_app(sessions, settings, clock=lambda: CLOCK)) as client:
        yield Api(client, sessions, url, treaty_ids)
    engine.dispose()


def get_json(api: Api, url: str) -> Any:
    answer = api.client.get(url)
    assert answer.status_code == 200, (url, answer.text[:500])
    assert answer.headers["content-type"] == "application/json", url
    return answer.json()


def get_csv(api: Api, url: str, filename: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of a CSV export (checks its media type and attachment name)."""
    answer = api.client.get(url)
    assert answer.status_code == 200, (url, answer.text[:500])
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert answer.text.startswith("\ufeff")  # the byte order mark: Excel reads UTF-8
    reader = csv.reader(io.StringIO(answer.text.removeprefix("\ufeff")))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def _cell(value: Any) -> str:
    """A JSON value as the CSV writes it: empty for null, true/false, text as it is."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    assert not isinstance(value, (dict, list)), value  # no JSON in a cell
    return str(value)


# --- the OpenAPI document ------------------------------------------------------------------


def test_openapi_documents_every_endpoint(api):
    doc = get_json(api, "/openapi.json")
    assert doc["openapi"].startswith("3.")
    assert {
        "/api/treaties",
        "/api/treaties/{treaty_id}",
        "/api/treaties/{treaty_id}/participants",
        "/api/treaties/{treaty_id}/events",
        "/api/treaties/{treaty_id}/rule",
        "/api/events",
        "/api/countries/{iso3}",
        "/api/sources",
        "/feeds/events.atom",
        "/feeds/treaties/{treaty_id}.atom",
        "/healthz",
    } <= set(doc["paths"])
    exports = doc["paths"]["/api/treaties"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv"} <= set(exports)
    feed = doc["paths"]["/feeds/events.atom"]["get"]["responses"]["200"]["content"]
    assert [media.split(";")[0] for media in feed] == ["application/atom+xml"]
    assert "404" in doc["paths"]["/api/treaties/{treaty_id}"]["get"]["responses"]


# --- /api/treaties ------------------------------------------------------------------------


def test_treaties_every_tracked_treaty_with_its_columns(api):
    rows = get_json(api, "/api/treaties")
    assert [r["treaty"] for r in rows] == sorted(api.treaty_ids, key=sort_key)
    for row in rows:
        assert set(TREATY_COLUMNS) <= set(row), row["treaty"]
        assert isinstance(row["title"], str) and row["title"]
        assert isinstance(row["signatories"], int) and isinstance(row["parties"], int)
        assert isinstance(row["in_force"], bool) and isinstance(row["source_healthy"], bool)
        assert row["stage"] in STAGES
        assert row["source"] == "untc"
        assert row["threshold"] is None or isinstance(row["threshold"], int)
        assert row["remaining"] is None or (
            isinstance(row["remaining"], int) and row["remaining"] >= 0
        )
        datetime.fromisoformat(row["observed_at"])
    by_id = {r["treaty"]: r for r in rows}
    tpnw = by_id["XXVI-9"]
    assert (tpnw["signatories"], tpnw["parties"], tpnw["threshold"]) == (95, 74, 50)
    assert (tpnw["threshold_met_on"], tpnw["entry_into_force"]) == ("2020-10-24", "2021-01-22")
    assert tpnw["stage"] == "in force"
    assert by_id["XXVI-4"]["stage"] == "not in force" and by_id["XXVI-4"]["remaining"] > 0
    cyber = by_id["XVIII-16"]
    assert (cyber["qualifying_instruments"], cyber["remaining"]) == (40, 0)
    assert cyber["stage"] == "threshold met"  # in force on 2026-12-14, after the pinned today


def test_treaties_csv_is_the_json_as_rows(api):
    rows = get_json(api, "/api/treaties")
    header, lines = get_csv(api, "/api/treaties?format=csv", "treaties.csv")
    assert header == list(TREATY_COLUMNS)
    assert len(lines) == len(rows)
    for line, row in zip(lines, rows, strict=True):
        assert line == {c: _cell(row.get(c)) for c in TREATY_COLUMNS}


def test_treaties_search_text_in_id_or_title(api):
    every = get_json(api, "/api/treaties")
    nuclear = get_json(api, "/api/treaties?q=nuclear")
    assert {r["treaty"] for r in nuclear} == {"XXVI-4", "XXVI-9"}
    assert get_json(api, "/api/treaties?q=NUCLEAR") == nuclear
    assert [r["treaty"] for r in get_json(api, "/api/treaties?q=xxvi-2-")] == [
        "XXVI-2-a",
        "XXVI-2-b",
        "XXVI-2-c",
        "XXVI-2-d",
    ]
    child = get_json(api, "/api/treaties?q=Rights of the Child")
    expected = [r["treaty"] for r in every if "rights of the child" in r["title"].lower()]
    assert [r["treaty"] for r in child] == expected and len(expected) == 4
    assert get_json(api, "/api/treaties?q=no such treaty anywhere") == []


def test_treaties_by_depositary(api):
    assert len(get_json(api, "/api/treaties?source=untc")) == len(api.treaty_ids)
    # A slug no registered source has is a clear error, not an empty list that reads as "none".
    refused = api.client.get("/api/treaties?source=nosuch")
    assert refused.status_code == 422 and "unknown source 'nosuch'; known: untc" in refused.text


def test_treaties_in_force_or_not(api):
    every = {r["treaty"] for r in get_json(api, "/api/treaties")}
    yes = get_json(api, "/api/treaties?in_force=true")
    no = get_json(api, "/api/treaties?in_force=false")
    assert all(r["stage"] == "in force" for r in yes)
    assert all(r["stage"] != "in force" for r in no)
    assert {r["treaty"] for r in no} == {"XXVI-4", "XVIII-16"}
    assert {r["treaty"] for r in yes} | {r["treaty"] for r in no} == every
    _header, lines = get_csv(api, "/api/treaties?in_force=false&format=csv", "treaties.csv")
    assert [line["treaty"] for line in lines] == [r["treaty"] for r in no]


def test_treaties_sorted_by_remaining_instruments(api):
    rows = get_json(api, "/api/treaties?sort=remaining")
    keys = [(r["remaining"] is None, r["remaining"] or 0, sort_key(r["treaty"])) for r in rows]
    assert keys == sorted(keys)
    assert rows[-1]["treaty"] == "XXVI-4"  # the CTBT: the only one with instruments to go
    assert sorted(r["treaty"] for r in rows) == sorted(api.treaty_ids)


def test_treaties_progress_is_each_treatys_own(api, session_factory, settings, fake_parser):
    """The list's rule progress equals each treaty's status answer, even after another database
    in the same process filled the progress cache (it was keyed by snapshot id alone, so the
    first real page, snapshot 1, got the progress of another database's snapshot 1)."""
    from statuses import member, page, status

    ingest_page(
        session_factory, page(status(member("Austria", "AUT", sig="2017-09-20")), "2019-01-02")
    )
    with TestClient(create_app(session_factory, settings, clock=lambda: CLOCK)) as other:
        [only] = other.get("/api/treaties").json()
        assert (only["treaty"], only["remaining"]) == ("XXVI-9", 50)
    for row in get_json(api, "/api/treaties"):
        answer = get_json(api, f"/api/treaties/{row['treaty']}")
        assert (row["qualifying_instruments"], row["remaining"], row["threshold_met_on"]) == (
            answer["qualifying_instruments"],
            answer["remaining"],
            answer["threshold_met_on"],
        ), row["treaty"]
        assert row["entry_into_force"] == answer["entry_into_force"]["computed"], row["treaty"]
        if answer["rule"]["threshold"] is not None:
            assert row["threshold"] == answer["rule"]["threshold"], row["treaty"]


# --- /api/treaties/{id} -------------------------------------------------------------------


def test_treaty_is_the_status_object(api):
    answer = get_json(api, "/api/treaties/XXVI-9")
    with api.sessions() as session:
        assert answer == treaty_status(session, "XXVI-9", today=TODAY)
    assert answer["treaty"] == "XXVI-9" and answer["as_of"] is None
    assert (
        isinstance(answer["participants"], list) and len(answer["participants"]) == 99
    )  # rows of the page
    assert answer["rule"]["threshold"] == 50 and answer["rule"]["origin"] == "catalogue"
    assert [d["participant"] for d in answer["deciding_deposits"]] == ["Honduras"]
    assert get_json(api, "/api/treaties/xxvi-9") == answer  # ids are case-insensitive


def test_treaty_equals_tracker_status_json(api, monkeypatch, capsys):
    from tracker.cli import main

    monkeypatch.setenv("TRACKER_DATABASE_URL", api.url)
    assert main(["status", "XVIII-16", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    engine = make_engine(api.url)
    app = create_app(make_session_factory(engine), Settings(database_url=api.url))
    with TestClient(app) as real_clock:  # the CLI's today
        answer = real_clock.get("/api/treaties/XVIII-16")
    engine.dispose()
    assert answer.status_code == 200 and answer.json() == cli


@pytest.mark.parametrize(
    ("as_of", "qualifying", "remaining", "met_on"),
    [
        ("2020-10-23", 49, 1, None),  # the day before Honduras's ratification, the 50th
        ("2020-10-24", 50, 0, "2020-10-24"),
        ("2026-02-03", 74, 0, "2020-10-24"),
    ],
)
def test_treaty_as_of_a_legal_date(api, as_of, qualifying, remaining, met_on):
    then = get_json(api, f"/api/treaties/XXVI-9?as_of={as_of}")
    assert then["as_of"] == as_of
    assert (then["qualifying_instruments"], then["remaining"], then["threshold_met_on"]) == (
        qualifying,
        remaining,
        met_on,
    )
    assert then["parties"] == qualifying  # TPNW: every party's instrument qualifies
    assert then["published"]["parties"] == 74  # what the depositary printed does not move


def test_treaty_as_of_before_anything_was_signed(api):
    then = get_json(api, "/api/treaties/XXVI-9?as_of=2017-01-01")
    assert (then["signatories"], then["parties"], then["participants"]) == (0, 0, [])


def test_status_answers_follow_the_database(session_factory, settings, fake_parser):
    """The API keeps status answers per database state (tracker.web.api._Answers): a new
    snapshot, a new check of an unchanged page and an operator's confirmation each show at once."""
    from statuses import member, page, status

    from tracker.services.rules_service import confirm_condition

    austria = member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08")
    one = status(austria, member("Algeria", "DZA", sig="2017-09-20"))
    two = status(austria, member("Algeria", "DZA", sig="2017-09-20", consent="2019-02-20"))
    with TestClient(create_app(session_factory, settings, clock=lambda: CLOCK)) as client:

        def ask(url: str = "/api/treaties/XXVI-9") -> Any:
            answer = client.get(url)
            assert answer.status_code == 200, answer.text[:300]
            return answer.json()

        ingest_page(session_factory, page(one, "2019-01-02"))
        first = ask()
        assert first["parties"] == 1 and ask() == first
        ingest_page(session_factory, page(one, "2019-02-01"))  # unchanged page, checked again
        assert ask()["last_checked_at"] == "2019-02-01T12:00:00+00:00"
        assert ask()["parties"] == 1
        ingest_page(session_factory, page(two, "2019-03-01"))
        assert (ask()["parties"], ask()["qualifying_instruments"]) == (2, 2)
        assert len(ask("/api/treaties/XXVI-9/participants?filter=parties")) == 2
        assert ask("/api/treaties/XXVI-9?as_of=2019-02-19")["parties"] == 1

        paris = status(austria, treaty="XXVII-7-d", title="Paris Agreement")
        paris_url = "https://treaties.example/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVII-7-d"
        ingest_page(session_factory, page(paris, "2019-01-02", url=paris_url))
        [condition] = ask("/api/treaties/XXVII-7-d")["conditions"]
        assert condition["key"] == "emissions_55" and not condition["met_on"]
        with session_factory.begin() as session:
            confirm_condition(
                session, "XXVII-7-d", "emissions_55", date(2016, 10, 5), note=None, now=CLOCK
            )
        [condition] = ask("/api/treaties/XXVII-7-d")["conditions"]
        assert condition["met_on"] == "2016-10-05"


# --- /api/treaties/{id}/participants ------------------------------------------------------


@pytest.mark.parametrize("treaty", ["XXVI-9", "XXVI-5", "IV-5"])
def test_participant_filters(api, treaty):
    status = get_json(api, f"/api/treaties/{treaty}")
    every = get_json(api, f"/api/treaties/{treaty}/participants")
    assert every == get_json(api, f"/api/treaties/{treaty}/participants?filter=all")
    assert every == status["participants"]
    for p in every:
        assert set(PARTICIPANT_KEYS) <= set(p)
        assert isinstance(p["name"], str) and isinstance(p["withdrawn"], bool)
    parties = get_json(api, f"/api/treaties/{treaty}/participants?filter=parties")
    signed = get_json(api, f"/api/treaties/{treaty}/participants?filter=signed_not_ratified")
    withdrawn = get_json(api, f"/api/treaties/{treaty}/participants?filter=withdrawn")
    assert len(parties) == status["parties"] == status["published"]["parties"]
    assert all(p["consent"] and not p["withdrawn"] for p in parties)
    assert all(p["signature"] and not p["consent"] and not p["withdrawn"] for p in signed)
    assert all(p["withdrawn"] for p in withdrawn)
    assert len(signed) == sum(
        1 for p in every if p["signature"] and not p["consent"] and not p["withdrawn"]
    )
    assert not {p["name"] for p in parties} & {p["name"] for p in signed}
    for which, rows in (
        ("parties", parties),
        ("signed_not_ratified", signed),
        ("withdrawn", withdrawn),
    ):
        header, lines = get_csv(
            api,
            f"/api/treaties/{treaty}/participants?filter={which}&format=csv",
            f"{treaty}-participants.csv",
        )
        assert header == column_names(PARTICIPANT_COLUMNS)
        assert [line["name"] for line in lines] == [p["name"] for p in rows]
        for line, p in zip(lines, rows, strict=True):  # one value per cell
            consent = p["consent"] or {}
            assert line["signature_date"] == (p["signature"] or "")
            assert line["consent_date"] == consent.get("date", "")
            assert line["consent_kind"] == consent.get("kind", "").replace("_", " ")
            assert line["withdrawn"] == _cell(p["withdrawn"])
            assert line["footnotes"] == "; ".join(p["footnotes"])


def test_withdrawn_participants_of_the_ottawa_convention(api):
    withdrawn = get_json(api, "/api/treaties/XXVI-5/participants?filter=withdrawn")
    assert {"Estonia", "Finland", "Latvia", "Lithuania"} <= {p["name"] for p in withdrawn}


def test_participants_as_of(api):
    parties = get_json(api, "/api/treaties/XXVI-9/participants?as_of=2020-10-23&filter=parties")
    assert len(parties) == 49 and "Honduras" not in {p["name"] for p in parties}
    assert all(p["consent"]["date"] <= "2020-10-23" for p in parties)
    _header, lines = get_csv(
        api,
        "/api/treaties/XXVI-9/participants?as_of=2020-10-24&filter=parties&format=csv",
        "XXVI-9-participants.csv",
    )
    assert len(lines) == 50 and "Honduras" in {line["name"] for line in lines}


# --- events -------------------------------------------------------------------------------


def _check_event(e: dict[str, Any]) -> None:
    assert set(e) >= EVENT_KEYS
    assert isinstance(e["id"], int) and isinstance(e["treaty"], str)
    assert e["kind"] in TREATY_EVENT_KINDS
    assert datetime.fromisoformat(e["observed_at"]).tzinfo is not None
    assert e["legal_date"] is None or date.fromisoformat(e["legal_date"])
    assert isinstance(e["details"], dict)


def test_treaty_events(api):
    events = get_json(api, "/api/treaties/XVIII-16/events")
    for e in events:
        _check_event(e)
        assert e["treaty"] == "XVIII-16"
    kinds = [e["kind"] for e in events]
    assert kinds.count("consent") == 1 and kinds.count("threshold_crossed") == 1
    consent = next(e for e in events if e["kind"] == "consent")
    assert (consent["participant"], consent["legal_date"]) == (STATES[39], FORTIETH.isoformat())
    assert consent["observed_at"] == CYBER_AFTER.isoformat()
    header, lines = get_csv(api, "/api/treaties/XVIII-16/events?format=csv", "XVIII-16-events.csv")
    assert header == column_names(EVENT_COLUMNS)
    assert [int(line["id"]) for line in lines] == [e["id"] for e in events]
    by_id = {int(line["id"]): line for line in lines}
    assert by_id[consent["id"]]["instrument_kind"] == consent["details"]["action_kind"]
    crossed = next(e for e in events if e["kind"] == "threshold_crossed")
    flat = by_id[crossed["id"]]
    assert (flat["kind"], flat["baseline"]) == ("threshold crossed", "false")
    assert flat["threshold"] == str(crossed["details"]["threshold"])
    assert flat["entry_into_force"] == crossed["details"]["entry_into_force"]["computed"]
    assert not [c for line in lines for c in line.values() if c[:1] in ("{", "[")]
    tpnw = get_json(api, "/api/treaties/XXVI-9/events")
    assert {e["kind"] for e in tpnw} == {"threshold_crossed", "entered_into_force"}
    assert all(e["details"]["baseline"] is True for e in tpnw)  # the first look already showed it


def test_events_newest_first(api):
    events = get_json(api, "/api/events")
    for e in events:
        _check_event(e)
    keys = [(e["observed_at"], e["id"]) for e in events]
    assert keys == sorted(keys, reverse=True)
    assert {e["treaty"] for e in events} >= {"XXVI-9", "XVIII-16"}
    header, lines = get_csv(api, "/api/events?format=csv", "events.csv")
    assert header == column_names(EVENT_COLUMNS) and len(lines) == len(events)


def test_events_filters(api):
    every = get_json(api, "/api/events?limit=5000")
    assert len(get_json(api, "/api/events?limit=1")) == 1
    assert get_json(api, "/api/events?limit=3") == every[:3]
    consents = get_json(api, "/api/events?kind=consent")
    assert [e["kind"] for e in consents] == ["consent"]
    crossed = get_json(api, "/api/events?kind=threshold_crossed")
    assert len(crossed) == sum(1 for e in every if e["kind"] == "threshold_crossed") > 20
    late = get_json(api, "/api/events?since=2026-09-10T00:00:00Z")
    assert late == [e for e in every if e["observed_at"] >= "2026-09-10"] and late
    assert {e["treaty"] for e in late} == {"XVIII-16"}
    assert get_json(api, "/api/events?since=2026-09-10T00:00:00") == late  # naive: UTC
    assert get_json(api, "/api/events?since=2026-09-10") == late
    assert get_json(api, "/api/events?since=2026-09-20T16:00:00%2B02:00") == late  # 14:00 UTC
    assert get_json(api, "/api/events?since=2026-09-20T14:00:01Z") == []
    both = get_json(api, "/api/events?since=2026-09-10&kind=threshold_crossed&limit=10")
    assert [(e["treaty"], e["kind"]) for e in both] == [("XVIII-16", "threshold_crossed")]
    _header, lines = get_csv(api, "/api/events?kind=consent&format=csv", "events.csv")
    assert [line["kind"] for line in lines] == ["consent"]
    _header, lines = get_csv(api, "/api/treaties/XXVI-9/events?format=csv", "XXVI-9-events.csv")
    assert {line["baseline"] for line in lines} == {"true"}  # the first look already showed it


# --- rules, countries, sources ------------------------------------------------------------


def test_rule(api):
    rule = get_json(api, "/api/treaties/XXVI-9/rule")
    assert (rule["treaty"], rule["tracked"], rule["threshold"]) == ("XXVI-9", True, 50)
    assert rule["citation"] and rule["words"].startswith("Needs 50 instruments")
    paris = get_json(api, "/api/treaties/XXVII-7-d/rule")  # curated, not tracked here
    assert paris["tracked"] is False and paris["threshold"] == 55


def test_country_actions_per_treaty(api):
    austria = get_json(api, "/api/countries/AUT")
    assert (austria["iso3"], austria["name"], austria["reio"]) == ("AUT", "Austria", False)
    treaties = [t["treaty"] for t in austria["treaties"]]
    assert treaties == sorted(treaties, key=sort_key) and "XXVI-9" in treaties
    assert "XVIII-16" in treaties  # the rendered Cybercrime pages list Austria too
    for t in austria["treaties"]:
        assert set(t) == {"treaty", "source", "title", "actions"} and t["actions"]
        assert t["source"] == "untc"
        row = next(
            p
            for p in get_json(api, f"/api/treaties/{t['treaty']}/participants")
            if p["iso3"] == "AUT"
        )
        by_column = {a["column"]: (a["kind"], a["date"]) for a in t["actions"]}
        expected = {}
        for column in ("signature", "consent", "provisional_application"):
            cell = row[column]
            if isinstance(cell, dict):
                expected[column] = (cell["kind"], cell["date"])
            elif cell:
                expected[column] = (column, cell)
        assert by_column == expected, t["treaty"]
        for a in t["actions"]:
            assert set(a) >= ACTION_KEYS
            assert isinstance(a["withdrawn"], bool) and date.fromisoformat(a["date"])
    tpnw = next(t for t in austria["treaties"] if t["treaty"] == "XXVI-9")
    assert [(a["kind"], a["date"]) for a in tpnw["actions"]] == [
        ("signature", "2017-09-20"),
        ("ratification", "2018-05-08"),
    ]
    assert get_json(api, "/api/countries/aut") == austria
    header, lines = get_csv(api, "/api/countries/AUT?format=csv", "AUT-actions.csv")
    assert header == column_names(COUNTRY_COLUMNS)
    assert len(lines) == sum(len(t["actions"]) for t in austria["treaties"])
    assert {line["treaty"] for line in lines} == set(treaties)


def test_sources(api):
    sources = get_json(api, "/api/sources")
    assert [s["source"] for s in sources] == ["untc"]
    assert sources[0]["healthy"] is True and isinstance(sources[0]["consecutive_failures"], int)
    assert datetime.fromisoformat(sources[0]["last_checked_at"]) == CYBER_AFTER


# --- feeds --------------------------------------------------------------------------------


def _feed(api: Api, url: str) -> ET.Element:
    answer = api.client.get(url)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(answer.content)
    assert root.tag == f"{ATOM}feed"
    return root


def test_events_feed(api):
    root = _feed(api, "/feeds/events.atom")
    listed = get_json(api, "/api/events?limit=500")
    # Changed (review #10): the feed carries settled events only (no suspicious, disputed or
    # retracted one), newest first by when each became settled (a release: details.settled.at).
    events = [e for e in listed if e["state"] in ("final", "confirmed")]
    assert len(events) < len(listed)  # the fixture has unsettled events to leave out

    def settled(e):
        return datetime.fromisoformat(
            (e["details"].get("settled") or {}).get("at") or e["observed_at"]
        )

    events = sorted(events, key=lambda e: (settled(e), e["id"]), reverse=True)
    # Changed (issue 13): what the tracker's first look already showed (baseline) is left out,
    # unless asked for (`baseline=true`), then marked.
    news = [e for e in events if not e["details"].get("baseline")]
    assert 0 < len(news) < len(events)
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in entries] == [
        f"{PUBLIC}/api/events/{e['id']}" for e in news[:100]
    ]
    updated = datetime.fromisoformat(root.findtext(f"{ATOM}updated"))
    assert updated == max(settled(e) for e in news)
    first = entries[0]
    titles = {t["treaty"]: t["title"] for t in get_json(api, "/api/treaties")}
    named = f"{news[0]['treaty']} ({titles[news[0]['treaty']]}): "
    assert first.findtext(f"{ATOM}title").startswith(named)
    assert first.find(f"{ATOM}link").get("href") == f"{PUBLIC}/treaties/{news[0]['treaty']}"
    every = _feed(api, "/feeds/events.atom?baseline=true").findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in every] == [
        f"{PUBLIC}/api/events/{e['id']}" for e in events[:100]
    ]
    marked = [e for e in every if e.find(f"{ATOM}category[@term='baseline']") is not None]
    assert marked and all("[baseline" in e.findtext(f"{ATOM}title") for e in marked)
    assert len(marked) == sum(1 for e in events[:100] if e["details"].get("baseline"))


def test_treaty_feed(api):
    root = _feed(api, "/feeds/treaties/XVIII-16.atom")
    events = get_json(api, "/api/treaties/XVIII-16/events")
    assert root.findtext(f"{ATOM}title") == (
        "Treaty tracker: XVIII-16 United Nations Convention against Cybercrime"
    )
    self_link = root.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None
    assert self_link.get("href") == f"{PUBLIC}/feeds/treaties/XVIII-16.atom"
    titles = [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]
    # the first look's `approaching` is a baseline: left out of the default feed
    assert len(titles) == len([e for e in events if not e["details"].get("baseline")]) == 2
    cybercrime = "XVIII-16 (United Nations Convention against Cybercrime)"
    assert f"{cybercrime}: {STATES[39]} became a party (ratification) on {FORTIETH}" in titles
    assert _feed(api, "/feeds/treaties/xviii-16.atom").findtext(f"{ATOM}id") == root.findtext(
        f"{ATOM}id"
    )


# --- /healthz and /metrics ----------------------------------------------------------------


def test_healthz(api):
    answer = get_json(api, "/healthz")
    assert (answer["status"], answer["database"], answer["unhealthy_sources"]) == ("ok", "ok", [])
    assert datetime.fromisoformat(answer["time"]).tzinfo is not None


@pytest.mark.parametrize(
    ("label", "url"),
    [
        ("postgresql-refused", "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"),
        ("sqlite-unmigrated", "sqlite:///{tmp}/empty/tracker.sqlite3"),
    ],
)
def test_database_down(label, url, tmp_path):
    engine = make_engine(url.format(tmp=tmp_path))
    app = create_app(make_session_factory(engine), Settings(database_url=url.format(tmp=tmp_path)))
    with TestClient(app) as client:
        health = client.get("/healthz")
        assert health.status_code == 503, label
        assert health.json()["status"] == "error"
        assert "OperationalError" in health.json()["database"]  # says what failed
        for path in ("/api/treaties", "/api/treaties/XXVI-9", "/api/events", "/feeds/events.atom"):
            answer = client.get(path)
            assert answer.status_code == 503, path
            assert answer.json() == {"detail": "database unavailable (see /healthz)"}
        metrics = client.get("/metrics")  # the HTTP metrics are still served
        assert metrics.status_code == 200
        values = _samples(metrics.text)
        assert values[("tracker_database_up", ())] == 0.0
        assert (
            values[
                (
                    "tracker_http_requests_total",
                    (("method", "GET"), ("route", "/healthz"), ("status", "503")),
                )
            ]
            == 1.0
        )
    engine.dispose()


def _samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
    }


def test_metrics_exposition(api):
    before = _samples(api.client.get("/metrics").text)
    key = (
        "tracker_http_requests_total",
        (("method", "GET"), ("route", "/api/treaties/{treaty_id}"), ("status", "404")),
    )
    api.client.get("/api/treaties/NOPE-1")
    api.client.get("/api/treaties/NOPE-2")
    answer = api.client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=")
    after = _samples(answer.text)
    assert after[key] - before.get(key, 0.0) == 2.0
    assert after[("tracker_database_up", ())] == 1.0
    assert after[("tracker_treaties", ())] == len(api.treaty_ids)
    assert after[("tracker_source_healthy", (("source", "untc"),))] == 1.0
    events = get_json(api, "/api/events?limit=5000")
    by_kind = {k[1][0][1]: v for k, v in after.items() if k[0] == "tracker_events"}
    assert by_kind == {kind: sum(1 for e in events if e["kind"] == kind) for kind in by_kind}
    assert sum(by_kind.values()) == len(events)
    assert (
        "tracker_http_request_seconds_count",
        (("route", "/api/treaties/{treaty_id}"),),
    ) in after


# --- bad input: a clear 4xx, never a 500 --------------------------------------------------


@pytest.mark.parametrize(
    ("url", "code", "says"),
    [
        ("/api/treaties/XXVI-99", 404, "unknown treaty 'XXVI-99'"),
        ("/api/treaties/XXVI-99/participants", 404, "unknown treaty"),
        ("/api/treaties/XXVI-99/events", 404, "unknown treaty"),
        ("/api/treaties/XXVI-99/rule", 404, "no rule for 'XXVI-99'"),
        ("/feeds/treaties/NOPE.atom", 404, "unknown treaty 'NOPE'"),
        ("/api/countries/ZZZ", 404, "no participant with ISO code 'ZZZ'"),
        ("/api/countries/A1", 422, "should match pattern"),
        ("/api/countries/ABCD", 422, "should match pattern"),
        ("/api/treaties/" + "X" * 65, 422, "at most 64 characters"),
        ("/api/treaties/XXVI-9?as_of=2020-02-30", 422, "day value is outside expected range"),
        ("/api/treaties/XXVI-9?as_of=yesterday", 422, "expected a date as YYYY-MM-DD"),
        ("/api/treaties/XXVI-9/participants?filter=bogus", 422, "Input should be 'all'"),
        (
            "/api/treaties/XXVI-9/participants?format=xml",
            422,
            "query parameter format: Input should be 'json', 'csv' or 'xlsx'",
        ),
        ("/api/treaties?format=xml", 422, "query parameter format: Input should be 'json'"),
        ("/api/treaties?sort=bogus", 422, "Input should be 'treaty', 'remaining' or 'closest'"),
        ("/api/treaties?in_force=maybe", 422, "valid boolean"),
        ("/api/treaties?q=" + "x" * 201, 422, "at most 200 characters"),
        ("/api/events?kind=nonsense", 422, "Input should be 'signature'"),
        ("/api/events?since=yesterday", 422, "expected an ISO 8601 date or time"),
        (
            "/api/events?limit=0",
            422,
            "query parameter limit: Input should be greater than or equal to 1",
        ),
        ("/api/events?limit=5001", 422, "less than or equal to 5000"),
        ("/api/events?limit=ten", 422, "valid integer"),
        ("/api/nothing-here", 404, "Not Found"),
    ],
)
def test_bad_input_is_a_clear_4xx(api, url, code, says):
    answer = api.client.get(url)
    assert answer.status_code == code, answer.text[:300]
    assert answer.headers["content-type"] == "application/json"
    detail = answer.json()["detail"]  # one shape: a string, for validation errors too
    assert isinstance(detail, str) and says in detail, detail
    assert "`" not in detail and "tracker " not in detail  # no CLI hint in an HTTP answer


# Regressions: each of these was a 500 (found by schemathesis, see test_schemathesis.py).


def test_as_of_too_late_to_compute_is_a_422(api):
    """The CTBT's projected entry into force (180 days after the as-of date) left the calendar."""
    for url in (
        "/api/treaties/XXVI-4?as_of=9999-12-31",
        "/api/treaties/XXVI-4/participants?as_of=9999-12-31&format=csv",
    ):
        answer = api.client.get(url)
        assert answer.status_code == 422, answer.text[:300]
        detail = answer.json()["detail"]  # one string naming the parameter (tracker.web.errors)
        assert detail.startswith("query parameter as_of: as_of 9999-12-31 is too late"), detail
    assert get_json(api, "/api/treaties/XXVI-4?as_of=9000-01-01")["as_of"] == "9000-01-01"


@pytest.mark.parametrize(
    ("since", "everything"),
    [("0001-01-01T00:00:00%2B05:00", True), ("9999-12-31T23:59:59-05:00", False)],
)
def test_since_beyond_the_calendar_in_utc(api, since, everything):
    """An offset that moves `since` before year 1 or after 9999 in UTC: all events, or none."""
    answer = get_json(api, f"/api/events?since={since}&limit=5000")
    assert answer == (get_json(api, "/api/events?limit=5000") if everything else [])


@pytest.mark.parametrize(
    "path",
    [
        "/api/treaties/%00",
        "/api/treaties/a%00b/participants",
        "/api/treaties/a%00b/events",
        "/api/treaties/a%00b/rule",
        "/feeds/treaties/a%00b.atom",
        "/api/treaties/XXVI-9%0A",
    ],
)
def test_control_characters_in_a_treaty_id_are_a_422(api, path):
    """PostgreSQL refuses NUL in text: the query failed with a 500 before the id was checked."""
    answer = api.client.get(path)
    assert answer.status_code == 422, answer.text[:300]
    assert answer.json()["detail"].startswith("path parameter treaty_id: ")


@pytest.mark.parametrize(
    "url",
    [
        "/api/treaties/XXVI-9?as_of=0",
        "/api/treaties/XXVI-9?as_of=20201024",
        "/api/treaties/XXVI-9/participants?as_of=1603497600",
        "/api/events?since=0.5",
        "/api/events?since=1790000000",
    ],
)
def test_numbers_are_not_dates(api, url):
    """pydantic read `as_of=0` as 1970-01-01 and `since=0.5` as Unix time: now refused."""
    answer = api.client.get(url)
    assert answer.status_code == 422, answer.text[:300]
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and "parameter " in detail and ": expected " in detail
