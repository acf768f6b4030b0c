"""Exports: the same rows as JSON, CSV (`?format=csv`) or XLSX (`?format=xlsx`), and the text
hygiene of every answer.

Stored text may predate the parsers' cleaning, so each answer strips, at output, the characters
that would make it fail or mislead: control characters and those illegal in XML 1.0
(`printable`).

The CSV and XLSX exports are for spreadsheets: flat columns (one value per cell: a consent is
`consent_date` and `consent_kind`, never JSON text), ISO 8601 dates, `true`/`false`, kinds in
words ("formal confirmation"). The CSV starts with a UTF-8 byte order mark, so Excel reads it as
UTF-8 ("Côte d'Ivoire", not "CÃ´te d'Ivoire"), and its cells that a spreadsheet would run as a
formula are neutralized (OWASP's CSV injection rule: a leading `=`, `+`, `-`, `@`, TAB or CR gets
a single quote in front). The XLSX has a bold, frozen header row, dates as date cells and times
as date-time cells (in UTC: Excel has no time zones), numbers and booleans typed, and every text
cell typed as text: a value starting with `=` is shown, never run, and kept as it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from fastapi.responses import JSONResponse, Response

from db.vocabulary import in_words
from tracker.sources.text import strip_unprintable

Format = Literal["json", "csv", "xlsx"]
CellType = Literal["text", "date", "datetime"]
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"

# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Columns of legal dates whose names do not say so (others end in _date, _on or _from).
_DATE_NAMES = frozenset(
    {"date", "signature", "signed", "entry_into_force", "published_entry_into_force"}
)


@dataclass(frozen=True)
class Column:
    """One export column: its header, how its cell is read from a row (default: the row's key of
    that name) and what its cells are (default: from the name: `*_at` times, `*_date`, `*_on`,
    `*_from` and a few known names dates, the rest as the values come)."""

    name: str
    get: Callable[[dict[str, Any]], Any] | None = None
    type: CellType | None = None

    def value(self, row: dict[str, Any]) -> Any:
        return self.get(row) if self.get else row.get(self.name)

    @property
    def cell_type(self) -> CellType:
        if self.type:
            return self.type
        if self.name.endswith("_at"):
            return "datetime"
        if self.name in _DATE_NAMES or self.name.endswith(("_date", "_on", "_from")):
            return "date"
        return "text"


Columns = Sequence[str | Column]


def columns_of(columns: Columns) -> list[Column]:
    return [c if isinstance(c, Column) else Column(c) for c in columns]


def column_names(columns: Columns) -> list[str]:
    """The header row of an export."""
    return [c.name for c in columns_of(columns)]


def field(*path: str) -> Callable[[dict[str, Any]], Any]:
    """A getter of a nested value (`field("consent", "date")`); None where a step is missing."""

    def get(row: dict[str, Any]) -> Any:
        value: Any = row
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    return get


def words(value: Any) -> Any:
    """A vocabulary value in words (`formal_confirmation` -> `formal confirmation`); other
    values (dates, numbers, None) as they are."""
    return in_words(value) if isinstance(value, str) else value


def printable(value: Any) -> Any:
    """`value` with control and XML-illegal characters removed from every string in it (dict
    keys too); other values unchanged. Returns new containers: the input is never mutated."""
    if isinstance(value, str):
        return strip_unprintable(value)
    if isinstance(value, dict):
        return {printable(k): printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable(v) for v in value]
    return value


def neutralize(cell: str) -> str:
    """A CSV cell a spreadsheet will show as text, never run: `'` before a formula start."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _scalar(value: Any) -> Any:
    """One cell's value: None, a bool, a number or text (a list joined with "; ", a mapping as
    `key: value` pairs; never JSON)."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in sorted(value.items()) if v is not None)
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(v) for v in value if v is not None)
    if isinstance(value, str):
        return printable(value)
    return value


def _text(value: Any) -> str:
    value = _scalar(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _csv_cell(value: Any) -> str:
    value = _scalar(value)
    if isinstance(value, str):
        return neutralize(value)
    return _text(value)  # numbers and booleans: not text from a page


def to_csv(rows: Sequence[dict[str, Any]], columns: Columns) -> str:
    """Rows as CSV (RFC 4180: CRLF line ends, so a cell holding a lone CR is quoted too) after a
    byte order mark, with a header; text cells neutralized."""
    cols = columns_of(columns)
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.name for c in cols])
    for row in rows:
        writer.writerow([_csv_cell(c.value(row)) for c in cols])
    return out.getvalue()


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _typed(value: Any, kind: CellType) -> Any:
    """The value an XLSX cell holds: a date or a naive UTC date-time where the column is one
    and the text reads as one, else what _scalar gives."""
    if kind == "date" and isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    if kind == "datetime" and isinstance(value, str) and _ISO_DATE.match(value):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.replace(tzinfo=None)
    return _scalar(value)


def to_xlsx(rows: Sequence[dict[str, Any]], columns: Columns, title: str) -> bytes:
    """Rows as one XLSX worksheet named `title`: a bold frozen header row, then one row each;
    typed cells (see the module's docstring)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cols = columns_of(columns)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(re.sub(r"[\[\]:*?/\\]", "_", title)[:31] or "export")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for c in cols:
        cell = WriteOnlyCell(sheet, value=c.name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        cells = []
        for c in cols:
            value = _typed(c.value(row), c.cell_type)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, date):
                cell.number_format = (
                    "yyyy-mm-dd hh:mm:ss" if isinstance(value, datetime) else "yyyy-mm-dd"
                )
            elif isinstance(value, str):
                cell.data_type = "s"  # text, even when it starts with "=": never a formula
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def respond(
    rows: Sequence[dict[str, Any]], fmt: Format, columns: Columns, filename: str
) -> Response:
    """JSON (the rows), or a CSV or XLSX attachment named `filename`.csv / .xlsx (a header-safe
    name: stored treaty ids end up in it) of the columns."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    if fmt == "csv":
        return Response(
            to_csv(rows, columns),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if fmt == "xlsx":
        return Response(
            to_xlsx(rows, columns, name),
            media_type=XLSX_MEDIA,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return JSONResponse(list(rows))
