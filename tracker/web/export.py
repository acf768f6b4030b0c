"""Exports: the same rows as JSON or CSV (`?format=csv`), and the text hygiene of every answer.

Stored text may predate the parsers' cleaning, so each answer strips, at output, the characters
that would make it fail or mislead: control characters and those illegal in XML 1.0
(`printable`). CSV cells that a spreadsheet would run as a formula are neutralized (OWASP's CSV
injection rule: a leading `=`, `+`, `-`, `@`, TAB or CR gets a single quote in front).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from typing import Any, Literal

from fastapi.responses import JSONResponse, Response

from tracker.sources.text import strip_unprintable

Format = Literal["json", "csv"]

# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(printable(value), ensure_ascii=False, sort_keys=True)
    if isinstance(value, str):
        return neutralize(printable(value))
    return str(value)  # numbers and booleans: not text from a page


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV (RFC 4180: CRLF line ends, so a cell holding a lone CR is quoted too) with
    a header; nested values as JSON text; text cells neutralized."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()


def respond(
    rows: Sequence[dict[str, Any]], fmt: Format, columns: Sequence[str], filename: str
) -> Response:
    """JSON (the rows) or a CSV attachment named `filename`.csv (a header-safe name: stored
    treaty ids end up in it)."""
    if fmt == "csv":
        name = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
        return Response(
            to_csv(rows, columns),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return JSONResponse(list(rows))
