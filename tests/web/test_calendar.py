"""The iCalendar feed of upcoming entry-into-force dates and its CSV (support.glance's four
treaties, today 2026-11-22): TPNW's own date (2027-01-30, computed) and Zambia's under the
ICESCR (2027-02-10, three months after its ratification). Each calendar is read back twice:
by a strict reader written here to RFC 5545 (CRLF, 75-octet folding, escapes, required
properties), and by the icalendar library."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import icalendar
import pytest
from fastapi.testclient import TestClient
from support.glance import TPNW_EIF, ZAMBIA_BOUND, seed_glance

from tracker.services.answer_cache import ANSWERS
from tracker.settings import Settings
from tracker.web.app import create_app
from tracker.web.calendar import escape_text, fold, ics

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]
PUBLIC = "https://tracker.example.org"


@pytest.fixture
def client(session_factory, settings):
    seed_glance(session_factory)
    ANSWERS.clear()
    ours = Settings(**(settings.model_dump() | {"public_url": PUBLIC}))
    app = create_app(session_factory, ours, clock=lambda: datetime(2026, 11, 22, 9, tzinfo=UTC))
    with TestClient(app) as c:
        yield c


# --- a strict reader of RFC 5545 ---------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z0-9-]+")


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            nxt = text[i + 1]
            assert nxt in "\\;,nN", f"bad escape \\{nxt} in {text!r}"
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
            continue
        assert c not in ";,", f"unescaped {c!r} in TEXT {text!r}"
        out.append(c)
        i += 1
    return "".join(out)


def strict_parse(raw: bytes) -> list[dict[str, tuple[dict[str, str], str]]]:
    """The events of a calendar (property -> (params, value; TEXT unescaped)), asserting the
    RFC's rules on the way."""
    assert raw.endswith(b"\r\n")
    physical = raw[:-2].split(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    for line in physical:
        assert len(line) <= 75, f"line of {len(line)} octets: {line!r}"
        line.decode("utf-8")  # a fold never splits a UTF-8 character
    text = raw.decode("utf-8").replace("\r\n ", "")
    lines = text[:-2].split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    head: dict[str, str] = {}
    events: list[dict[str, tuple[dict[str, str], str]]] = []
    current: dict[str, tuple[dict[str, str], str]] | None = None
    for line in lines[1:-1]:
        name_params, _, value = line.partition(":")
        name, *params = name_params.split(";")
        assert _NAME.fullmatch(name), line
        parsed = dict(p.split("=", 1) for p in params)
        if line == "BEGIN:VEVENT":
            assert current is None
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            events.append(current)
            current = None
        elif current is None:
            head[name] = value
        else:
            assert name not in current, f"{name} twice in one event"
            if name in ("SUMMARY", "DESCRIPTION", "CATEGORIES"):
                value = _unescape(value)
            current[name] = (parsed, value)
    assert current is None
    assert head["VERSION"] == "2.0" and head["PRODID"]
    for e in events:
        for required in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            assert required in e, f"{required} missing"
        assert re.fullmatch(r"\d{8}T\d{6}Z", e["DTSTAMP"][1])
        for key in ("DTSTART", "DTEND"):
            params, value = e[key]
            assert params == {"VALUE": "DATE"} and re.fullmatch(r"\d{8}", value)
        start = datetime.strptime(e["DTSTART"][1], "%Y%m%d").date()
        end = datetime.strptime(e["DTEND"][1], "%Y%m%d").date()
        assert (end - start).days == 1  # one all-day event
    return events


def _calendar(client: TestClient, path: str) -> bytes:
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    return answer.content


# --- the feeds ------------------------------------------------------------------------------------


def test_all_upcoming_entries_into_force(client):
    raw = _calendar(client, "/calendar.ics")
    events = strict_parse(raw)
    assert [(e["DTSTART"][1], e["SUMMARY"][1]) for e in events] == [
        (
            TPNW_EIF.replace("-", ""),
            "XXVI-9 enters into force: Treaty on the Prohibition of Nuclear Weapons",
        ),
        (ZAMBIA_BOUND.replace("-", ""), "IV-3 in force for Zambia"),
    ]
    assert [e["UID"][1] for e in events] == [
        "XXVI-9/entry-into-force@tracker.example.org",
        "IV-3/ZMB/entry-into-force@tracker.example.org",
    ]
    assert events[0]["DTSTAMP"][1] == "20261120T120000Z"  # the page's observation
    assert events[0]["URL"][1] == f"{PUBLIC}/treaties/XXVI-9"
    assert "Computed from the entry-into-force rule." in events[0]["DESCRIPTION"][1]
    # ... and the same bytes on the next request: UIDs and stamps are stable
    assert _calendar(client, "/calendar.ics") == raw


def test_the_library_reads_it_too(client):
    parsed = icalendar.Calendar.from_ical(_calendar(client, "/calendar.ics"))
    events = parsed.walk("VEVENT")
    assert [e.decoded("DTSTART") for e in events] == [
        date.fromisoformat(TPNW_EIF),
        date.fromisoformat(ZAMBIA_BOUND),
    ]
    assert [str(e["SUMMARY"]) for e in events][1] == "IV-3 in force for Zambia"
    assert events[0].decoded("DTSTAMP") == datetime(2026, 11, 20, 12, tzinfo=UTC)


def test_one_treaty_and_by_source(client):
    one = strict_parse(_calendar(client, "/treaties/XXVI-9/calendar.ics"))
    assert [e["UID"][1] for e in one] == ["XXVI-9/entry-into-force@tracker.example.org"]
    assert strict_parse(_calendar(client, "/treaties/IV-3-a/calendar.ics")) == []  # not yet
    assert strict_parse(_calendar(client, "/calendar.ics?source=wipo")) == []
    assert len(strict_parse(_calendar(client, "/calendar.ics?source=untc"))) == 2
    missing = client.get("/treaties/XXVI-99/calendar.ics")
    assert missing.status_code == 404 and "XXVI-99" in missing.json()["detail"]
    assert client.get("/calendar.ics?source=nope").status_code == 422


def test_a_forged_host_never_reaches_the_uids(client):
    raw = client.get("/calendar.ics", headers={"Host": "evil.example"}).content
    assert b"evil.example" not in raw and b"@tracker.example.org" in raw


def test_csv_of_the_same_dates(client):
    answer = client.get("/calendar.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text.lstrip("\ufeff"))))
    assert [(r["date"], r["treaty"], r["participant"], r["iso3"]) for r in rows] == [
        (TPNW_EIF, "XXVI-9", "", ""),
        (ZAMBIA_BOUND, "IV-3", "Zambia", "ZMB"),
    ]
    assert rows[0]["basis"] == "computed" and rows[0]["url"] == f"{PUBLIC}/treaties/XXVI-9"
    assert rows[1]["status_as_at"].startswith("2026-11-19")


def test_the_pages_link_the_calendars(client):
    assert 'href="/calendar.ics"' in client.get("/").text
    assert 'href="/treaties/XXVI-9/calendar.ics"' in client.get("/treaties/XXVI-9").text


# --- the writer -------------------------------------------------------------------------------


def test_text_escapes():
    assert escape_text("a, b; c\\d\ne") == "a\\, b\\; c\\\\d\\ne"
    assert _unescape(escape_text("a, b; c\\d\ne")) == "a, b; c\\d\ne"


def test_folding_at_75_octets_never_inside_a_character():
    line = "SUMMARY:" + "Côte d’Ivoire, " * 12
    folded = fold(line).encode("utf-8")
    parts = folded[:-2].split(b"\r\n")
    assert len(parts) > 2 and all(len(p) <= 75 for p in parts)
    assert all(p.startswith(b" ") for p in parts[1:])
    assert folded.decode("utf-8").replace("\r\n ", "") == line + "\r\n"
    assert fold("SHORT:x") == "SHORT:x\r\n"


def test_long_titles_with_commas_and_semicolons_round_trip():
    title = "Convention on A, B; and C — " + "very long words " * 10
    event = {
        "key": "IV-1/entry-into-force",
        "treaty": "IV-1",
        "title": title,
        "source": "untc",
        "date": "2027-01-01",
        "basis": "printed",
        "computed": None,
        "printed": "2027-01-01",
        "participant": None,
        "iso3": None,
        "observed_at": "2026-11-20T12:00:00+00:00",
        "status_as_at": None,
    }
    raw = ics([event], name="test, with a comma", base=PUBLIC).encode("utf-8")
    (parsed,) = strict_parse(raw)
    assert parsed["SUMMARY"][1] == f"IV-1 enters into force: {title}"
    assert parsed["DESCRIPTION"][1].startswith(title + "\nDate as printed by the depositary")
    library = icalendar.Calendar.from_ical(raw).walk("VEVENT")[0]
    assert str(library["SUMMARY"]) == f"IV-1 enters into force: {title}"
