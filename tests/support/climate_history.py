"""Replay openclimatedata's CSV histories of UNTC participant tables as ViewDetails pages.

The histories (`/work/shared/fixtures/real/derived/openclimatedata_*_history/`) are third-party
scrapes of one treaty's participants, one CSV per bot commit, named `<prefix>_<date>_<sha7>.csv`.
This module reads them in commit order and renders each into the markup the parser reads
(`support.untc_render`), observed at noon UTC of the commit date.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from support.untc_render import Page, Row, render

_FILE_RE = re.compile(r"^[a-z]+_(\d{4}-\d{2}-\d{2})_([0-9a-f]{7})\.csv$")
_SUPERSCRIPT_RE = re.compile(r"<superscript>([^<]*)</superscript>", re.I)
NEW_YORK = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class CsvRow:
    code: str
    name: str  # without the bot's <superscript> markers
    footnotes: tuple[str, ...]
    date: date
    participation: str | None  # "Ratification", "Acceptance", ... (only in the latest format)


@dataclass(frozen=True)
class HistoryFile:
    path: Path
    day: date  # commit date, from the file name
    sha: str
    observed_at: datetime  # noon UTC of `day`, one minute later per earlier file of that day
    header: tuple[str, ...]
    rows: tuple[CsvRow, ...]

    @property
    def name(self) -> str:
        return self.path.name


def _split_name(raw: str) -> tuple[str, tuple[str, ...]]:
    """`United Kingdom ...<superscript>5,6</superscript>` -> ("United Kingdom ...", ("5", "6"))."""
    refs: list[str] = []
    for m in _SUPERSCRIPT_RE.finditer(raw):
        refs.extend(r.strip() for r in m.group(1).split(",") if r.strip())
    return " ".join(_SUPERSCRIPT_RE.sub("", raw).split()), tuple(refs)


def read_csv(path: Path) -> tuple[tuple[str, ...], tuple[CsvRow, ...]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = tuple(reader.fieldnames or ())
        date_column = "Acceptance" if "Acceptance" in header else "Date"
        rows = []
        for rec in reader:
            name, refs = _split_name(rec["Name"])
            rows.append(
                CsvRow(
                    code=(rec.get("Code") or "").strip(),
                    name=name,
                    footnotes=refs,
                    date=date.fromisoformat(rec[date_column].strip()),
                    participation=(rec.get("Participation Type") or "").strip() or None,
                )
            )
    return header, tuple(rows)


def history(folder: Path, until: date | None = None) -> list[HistoryFile]:
    """Every CSV of the folder in commit order: by date in the name, then by file name."""
    found = []
    for path in folder.glob("*.csv"):
        m = _FILE_RE.match(path.name)
        if m is None:
            raise ValueError(f"unexpected file name in {folder}: {path.name}")
        found.append((date.fromisoformat(m.group(1)), path.name, m.group(2), path))
    found.sort()
    result: list[HistoryFile] = []
    for day, _, sha, path in found:
        if until is not None and day > until:
            break
        same_day = sum(1 for f in result if f.day == day)
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        observed = noon + timedelta(minutes=same_day)
        header, rows = read_csv(path)
        result.append(HistoryFile(path, day, sha, observed, header, rows))
    return result


def status_stamp(moment: datetime) -> str:
    """The page's `STATUS AS AT` text for an aware moment: New York time, day-month-year."""
    local = moment.astimezone(NEW_YORK)
    return local.strftime("%d-%m-%Y %H:%M:%S ") + (local.tzname() or "EST")


def render_file(
    f: HistoryFile,
    *,
    treaty_id: str,
    title: str,
    consent_header: str,
    row: Callable[[CsvRow], Row | None],
    provisional_header: str | None = None,
) -> bytes:
    """One history file as a ViewDetails page (no signature column); `row` None leaves one out."""
    rows = [r for r in (row(c) for c in f.rows) if r is not None]
    page = Page(
        treaty_id=treaty_id,
        title=title,
        rows=rows,
        signature_column=False,
        consent_header=consent_header,
        status_as_at=status_stamp(f.observed_at),
        provisional_header=provisional_header,
    )
    return render(page)


def nth_date(dates: Iterable[date], n: int) -> date | None:
    """The date of the n-th instrument (1-based) in date order, or None if fewer."""
    ordered = sorted(dates)
    return ordered[n - 1] if len(ordered) >= n else None
