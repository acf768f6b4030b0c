"""Exports people open in spreadsheets, read back as a spreadsheet would (the csv module and
openpyxl), over both depositaries (support.two_sources), and one shape for API errors.

- CSV: a UTF-8 byte order mark first (Excel then shows "Côte d'Ivoire"), flat columns (a
  consent is `consent_date` and `consent_kind`; no JSON in a cell), ISO dates, `true`/`false`.
- XLSX of every list (`?format=xlsx`): a bold, frozen header row, the same rows and columns as
  the CSV, dates as date cells, times as date-time cells (UTC), numbers and booleans typed, text
  typed as text (a leading `=` is never a formula).
- Errors: `{"detail": "..."}` for every 4xx, validation errors included (one string naming the
  parameter), and no CLI hint in an HTTP answer; the OpenAPI document says so.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker
from support.two_sources import austria_ratifies_marrakesh, seed_two_sources

from tracker.services.answer_cache import ANSWERS
from tracker.settings import Settings
from tracker.web.api import COUNTRY_COLUMNS, EVENT_COLUMNS, PARTICIPANT_COLUMNS, TREATY_COLUMNS
from tracker.web.app import create_app
from tracker.web.errors import validation_detail
from tracker.web.export import XLSX_MEDIA, Column, column_names, to_csv, to_xlsx

pytestmark = pytest.mark.db

EXPORTS = {  # url (without format) -> (attachment name, columns)
    "/api/treaties": ("treaties", TREATY_COLUMNS),
    "/api/treaties/XXVI-9/participants": ("XXVI-9-participants", PARTICIPANT_COLUMNS),
    "/api/treaties/WIPO-843/participants": ("WIPO-843-participants", PARTICIPANT_COLUMNS),
    "/api/treaties/XXVI-9/events": ("XXVI-9-events", EVENT_COLUMNS),
    "/api/events": ("events", EVENT_COLUMNS),
    "/api/countries/AUT": ("AUT-actions", COUNTRY_COLUMNS),
}
# Lists whose columns depend on the rows (the comparison: two columns per country).
MATRICES = {"/compare?c=AUT,DEU": "compare-AUT-DEU"}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture
def client(session_factory: sessionmaker[Session], settings: Settings) -> TestClient:
    seed_two_sources(session_factory)
    austria_ratifies_marrakesh(session_factory, "2026-02-11")  # a WIPO-843 consent event
    ANSWERS.clear()  # answers are cached by snapshot ids, which repeat across test databases
    app = create_app(session_factory, settings, clock=lambda: datetime(2026, 2, 4, 9, tzinfo=UTC))
    return TestClient(app)


def _csv(client: TestClient, url: str, name: str) -> list[list[str]]:
    answer = client.get(url + ("&" if "?" in url else "?") + "format=csv")
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == f'attachment; filename="{name}.csv"'
    assert answer.content.startswith(b"\xef\xbb\xbf"), answer.content[:10]  # the UTF-8 BOM
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))


def _xlsx(client: TestClient, url: str, name: str) -> Any:
    answer = client.get(url + ("&" if "?" in url else "?") + "format=xlsx")
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"] == XLSX_MEDIA
    assert answer.headers["content-disposition"] == f'attachment; filename="{name}.xlsx"'
    book = load_workbook(io.BytesIO(answer.content))
    assert len(book.worksheets) == 1
    return book.worksheets[0]


def _as_csv_text(cell: Any) -> str:
    """What the CSV says for an XLSX cell's value (dates ISO, times UTC with +00:00)."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if cell.number_format == "yyyy-mm-dd":
            return value.date().isoformat()
        return value.replace(tzinfo=UTC).isoformat()
    return str(value)


# --- CSV --------------------------------------------------------------------------------------


def test_csv_opens_in_excel_as_utf8_with_flat_columns(client):
    for url, (name, columns) in EXPORTS.items():
        header, *rows = _csv(client, url, name)
        assert header == column_names(columns), url
        assert rows, url
        for row in rows:
            for column, cell in zip(header, row, strict=True):
                assert cell[:1] not in ("{", "["), (url, column, cell)  # no JSON in a cell
                assert cell not in ("True", "False", "None"), (url, column, cell)
                assert "_" not in cell or column in ("source_url",), (url, column, cell)
                if column.endswith(("_date", "_on")) and cell:
                    assert ISO_DATE.fullmatch(cell), (url, column, cell)


def test_a_participant_flat_as_it_is_in_json(client):
    """Côte d'Ivoire reads back as written (the BOM), its consent in two columns."""
    answer = client.get("/api/treaties/XXVI-9/participants").json()
    by_name = {p["name"]: p for p in answer}
    ivory = next(n for n in by_name if n.startswith("C") and "Ivoire" in n)
    assert ivory == "Côte d'Ivoire"
    header, *rows = _csv(client, "/api/treaties/XXVI-9/participants", "XXVI-9-participants")
    lines = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    austria = by_name["Austria"]
    assert lines["Austria"]["signature_date"] == austria["signature"] == "2017-09-20"
    assert (lines["Austria"]["consent_date"], lines["Austria"]["consent_kind"]) == (
        austria["consent"]["date"],
        austria["consent"]["kind"],
    )
    assert (lines["Austria"]["withdrawn"], lines["Austria"]["reio"]) == ("false", "false")
    assert lines[ivory]["iso3"] == "CIV"
    assert set(lines) == set(by_name)


def test_events_flat_with_booleans_and_kinds_in_words(client):
    header, *rows = _csv(client, "/api/events", "events")
    lines = [dict(zip(header, r, strict=True)) for r in rows]
    consent = next(line for line in lines if line["treaty"] == "WIPO-843")
    assert (consent["kind"], consent["participant"], consent["instrument_kind"]) == (
        "consent",
        "Austria",
        "ratification",
    )
    assert (consent["legal_date"], consent["baseline"]) == ("2026-02-10", "false")
    entered = next(line for line in lines if line["kind"] == "entered into force")
    assert entered["treaty"] == "XXVI-9" and entered["entry_into_force"] == "2021-01-22"
    assert entered["deciding_deposits"] == "Honduras (2020-10-24)"
    assert {line["baseline"] for line in lines} == {"true", "false"}


def test_csv_of_any_rows_unit():
    rows = [
        {"name": "Côte d'Ivoire", "ok": True, "n": 3, "when": "2020-01-02", "tags": ["a", "b"]},
        {"name": "=1+1", "ok": False, "n": None, "when": None, "tags": []},
    ]
    text = to_csv(rows, ["name", "ok", "n", "when", "tags"])
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbfname,ok,n,when,tags\r\n")
    assert text.splitlines()[1:] == ["Côte d'Ivoire,true,3,2020-01-02,a; b", "'=1+1,false,,,"]


# --- XLSX -------------------------------------------------------------------------------------


def test_every_list_as_xlsx_is_the_csv_with_typed_cells(client):
    for url, (name, columns) in EXPORTS.items():
        sheet = _xlsx(client, url, name)
        header, *csv_rows = _csv(client, url, name)
        rows = list(sheet.iter_rows())
        assert [c.value for c in rows[0]] == header == column_names(columns), url
        assert all(c.font.b for c in rows[0]), url
        assert sheet.freeze_panes == "A2", url
        assert len(rows) - 1 == len(csv_rows), url
        for cells, line in zip(rows[1:], csv_rows, strict=True):
            as_text = [_as_csv_text(c) for c in cells]
            # the CSV neutralizes formula starts with a quote; the XLSX types text as text
            assert as_text == [v[1:] if v.startswith("'") else v for v in line], url
            for column, cell in zip(header, cells, strict=True):
                if cell.value is None:
                    continue
                if column in ("legal_date", "signature_date", "consent_date", "date"):
                    assert cell.is_date and cell.number_format == "yyyy-mm-dd", (url, column)
                if column.endswith("_at"):
                    assert cell.is_date and cell.number_format == "yyyy-mm-dd hh:mm:ss"
                if column in ("withdrawn", "in_force", "reio", "baseline", "source_healthy"):
                    assert isinstance(cell.value, bool), (url, column, cell.value)
                if column in ("signatories", "parties", "id"):
                    assert isinstance(cell.value, int), (url, column, cell.value)


def test_the_comparison_as_xlsx_is_its_csv(client):
    for url, name in MATRICES.items():
        header, *lines = _csv(client, url, name)
        sheet = _xlsx(client, url, name)
        rows = list(sheet.iter_rows())
        assert [c.value for c in rows[0]] == header and lines, url
        assert [[_as_csv_text(c) for c in r] for r in rows[1:]] == lines, url
        dated = [c for r in rows[1:] for h, c in zip(header, r, strict=True) if h.endswith("_date")]
        assert dated and all(c.is_date for c in dated if c.value is not None), url


def test_xlsx_dates_and_times(client):
    sheet = _xlsx(client, "/api/treaties?source=untc", "treaties")
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    tpnw = next(
        dict(zip(header, (c.value for c in r), strict=True))
        for r in sheet.iter_rows(min_row=2)
        if r[0].value == "XXVI-9"
    )
    assert tpnw["entry_into_force"] == datetime(2021, 1, 22)
    assert tpnw["threshold_met_on"] == datetime(2020, 10, 24)
    assert tpnw["observed_at"] == datetime(2026, 2, 3, 12)  # UTC
    assert (tpnw["in_force"], tpnw["parties"], tpnw["stage"]) == (True, 74, "in force")


def test_xlsx_text_is_never_a_formula_unit():
    rows = [
        {"name": '=HYPERLINK("http://evil.example")', "when": "2020-02-30", "at": "2026-02-03"},
        {"name": "Côte d'Ivoire\x07", "when": "2020-01-02", "at": "2026-02-03T14:00:00+02:00"},
    ]
    columns = ["name", Column("when", type="date"), Column("at", type="datetime")]
    sheet = load_workbook(io.BytesIO(to_xlsx(rows, columns, "odd: name?"))).worksheets[0]
    assert sheet.title == "odd_ name_"
    (evil, when, at), (ivory, when2, at2) = sheet.iter_rows(min_row=2)
    assert (evil.data_type, evil.value) == ("s", '=HYPERLINK("http://evil.example")')
    assert when.value == "2020-02-30" and when.data_type == "s"  # not a date: kept as text
    assert at.value == datetime(2026, 2, 3)
    assert ivory.value == "Côte d'Ivoire"  # the control character stripped
    assert when2.value == datetime(2020, 1, 2) and when2.is_date
    assert at2.value == datetime(2026, 2, 3, 12)  # in UTC
    assert isinstance(when2.value, date)


# --- one shape for API errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "code", "detail"),
    [
        (
            "/api/events?limit=0",
            422,
            "query parameter limit: Input should be greater than or equal to 1",
        ),
        (
            "/api/treaties?source=nope",
            422,
            "query parameter source: unknown source 'nope'; known: untc, wipo",
        ),
        (
            "/api/treaties/XXVI-9?as_of=bad",
            422,
            "query parameter as_of: expected a date as YYYY-MM-DD",
        ),
        (
            "/api/countries/A1",
            422,
            "path parameter iso3: String should match pattern '^[A-Za-z]{3}$'",
        ),
        ("/api/treaties/NOPE", 404, "unknown treaty 'NOPE'"),
        ("/api/treaties/NOPE/events", 404, "unknown treaty 'NOPE'"),
        ("/feeds/treaties/NOPE.atom", 404, "unknown treaty 'NOPE'"),
    ],
)
def test_every_error_is_one_detail_string_without_cli_hints(client, url, code, detail):
    answer = client.get(url)
    assert answer.status_code == code, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"detail": detail}


def test_two_bad_parameters_are_both_named(client):
    answer = client.get("/api/events?limit=ten&kind=nonsense")
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail.startswith("query parameter kind: Input should be 'signature'"), detail
    assert "; query parameter limit: Input should be a valid integer" in detail


def test_the_openapi_document_describes_422_as_one_string(client):
    doc = client.get("/openapi.json").json()
    schema = doc["components"]["schemas"]["HTTPValidationError"]
    assert schema["properties"] == {"detail": {"type": "string", "title": "Detail"}}
    assert "ValidationError" not in doc["components"]["schemas"]
    ref = doc["paths"]["/api/events"]["get"]["responses"]["422"]["content"]["application/json"]
    assert ref["schema"] == {"$ref": "#/components/schemas/HTTPValidationError"}


def test_validation_detail_unit():
    assert validation_detail([{"loc": ("body",), "msg": "Field required"}]) == (
        "request body: Field required"
    )
    assert validation_detail(
        [{"loc": ("body", "kinds", 0), "msg": "Value error, unknown kind"}]
    ) == ("body field kinds.0: unknown kind")
    assert validation_detail([]) == "invalid request"


def test_the_country_page_links_its_xlsx(client):
    page = client.get("/countries/AUT").text
    assert 'href="/api/countries/AUT?format=xlsx"' in page
    sheet = _xlsx(client, "/api/countries/AUT", "AUT-actions")
    assert sheet.max_row > 1
