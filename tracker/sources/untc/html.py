"""Parser for the UNTC ViewDetails.aspx status page (ASP.NET HTML) -> validated TreatyStatus."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from lxml import etree

from tracker.domain.models import Footnote, Participant, TreatyStatus
from tracker.sources.documents import html_root, tag_of, text_nodes
from tracker.sources.text import (
    NOT_TEXT,
    clean,
    leading_date,
    place_and_date,
    split_refs,
)
from tracker.sources.untc.declarations import read_declarations
from tracker.sources.untc.letters import label_in_force
from tracker.sources.untc.table import build_participant, column_roles
from tracker.sources.untc.validate import check_header, check_status

_IDS = {
    "title": "rptTreaty_ctl00_tcTreaty",
    "conclusion": "rptTreaty_ctl00_tcText",
    "chapter": "rptHead_ctl00_tcHead",
    "eif_label": "rptEIF_ctl00_tcEifLabel",
    "eif_text": "rptEIF_ctl00_tcText",
    "status": "rptStatus_ctl00_tcText",
    "stamp": "_div3",
    "table": "tblgrid",
}
_STAMP_RE = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})\s+(\d{1,2}):(\d{2}):(\d{2})")
_NUMBER_RE = re.compile(r"^\d+(?:-?[a-z]{1,2})?\s*\.\s*")


_tag = tag_of
_text_nodes = text_nodes


def _text(el: etree._Element, skip: Iterable[etree._Element] = ()) -> str:
    """Text of an element without its <sup> footnote markers (nor the `skip` elements)."""
    return clean(_text_nodes(el, skip, sup=False))


def _refs(el: etree._Element) -> tuple[str, ...]:
    """Footnote refs printed in the <sup> markers inside an element."""
    if len(el) == 0 or (len(el) == 1 and el[0].tag == "br" and len(el[0]) == 0):
        return ()  # no descendant but a <br>: no marker (most participant cells)
    refs: list[str] = []
    # iter("sup"), iter("a"): libxml2's HTML parser lower-cases every tag name (html_root), so
    # the tag is what _tag() would make of it, and lxml filters the elements without Python.
    for sup in el.iter("sup"):
        if any(_tag(a) in NOT_TEXT for a in sup.iterancestors()):
            continue
        anchors = [clean(_text_nodes(a)) for a in sup.iter("a")]
        found = [a for a in anchors if a] or list(split_refs(_text_nodes(sup)))
        refs.extend(found)
    return tuple(refs)


_SUFFIXES = {**_IDS, "notes": "_divNotesAll"}
_ALL_SUFFIXES = tuple(_SUFFIXES.values())


def _find(root: etree._Element) -> dict[str, list[etree._Element]]:
    """The elements whose id ends in one of the known suffixes (all are divs or tables)."""
    found: dict[str, list[etree._Element]] = {key: [] for key in _SUFFIXES}
    for el in root.iter("div", "table"):
        ident = el.get("id")
        if not ident or not ident.endswith(_ALL_SUFFIXES):
            continue
        if any(_tag(a) in NOT_TEXT for a in el.iterancestors()):
            continue  # inside a <template>: inert, never shown
        for key, suffix in _SUFFIXES.items():
            if ident.endswith(suffix):
                found[key].append(el)
    return found


def _first_text(found: dict[str, list[etree._Element]], key: str) -> str:
    return _text(found[key][0]) if found[key] else ""


def _treaty_id(root: etree._Element) -> str | None:
    for form in root.iter("form"):
        m = re.search(r"mtdsg_no=([^&]+)", form.get("action", ""))
        if m:
            return clean(unquote(m.group(1)))
    return None


def _title(raw: str, treaty_id: str) -> str:
    """Title without its leading `9.` / `11. b` section number."""
    title = _NUMBER_RE.sub("", raw, count=1)
    sub = treaty_id.rsplit("-", 1)[-1] if treaty_id.count("-") >= 2 else ""
    if sub.isalpha() and sub.islower() and title.startswith(sub + " "):
        title = title[len(sub) + 1 :]
    return clean(title)


def _new_york_offset(moment: datetime) -> timedelta:
    """UTC offset of New York local time (US rule since 2007: 2nd Sunday March - 1st Sunday Nov)."""
    try:
        from zoneinfo import ZoneInfo

        offset = moment.replace(tzinfo=ZoneInfo("America/New_York")).utcoffset()
        if offset is not None:
            return offset
    except Exception:  # noqa: BLE001 - no tz database: fall back to the fixed US rule
        pass
    march = datetime(moment.year, 3, 8 + (6 - datetime(moment.year, 3, 8).weekday()) % 7, 2)
    november = datetime(moment.year, 11, 1 + (6 - datetime(moment.year, 11, 1).weekday()) % 7, 2)
    return timedelta(hours=-4 if march <= moment < november else -5)


def status_as_at(text: str) -> datetime | None:
    """`STATUS AS AT : 03-02-2026 10:16:18 EDT` (day-month-year, New York time) -> aware UTC."""
    m = _STAMP_RE.search(text)
    if not m:
        return None
    day, month, year, hour, minute, second = (int(g) for g in m.groups())
    try:
        local = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    return (local - _new_york_offset(local)).replace(tzinfo=UTC)


def _count(status_text: str, label: str) -> int | None:
    m = re.search(label + r"\s*:\s*(\d+)", status_text, re.I)
    return int(m.group(1)) if m else None


_ROWS = etree.XPath("./tr | ./thead/tr | ./tbody/tr | ./TR | ./TBODY/TR")
_CELLS = ("td", "th")


def _cells(tr: etree._Element) -> list[etree._Element]:
    # `td.tag in _CELLS` first: the HTML parser lower-cases tags, so _tag() is rarely needed.
    return [td for td in tr if td.tag in _CELLS or _tag(td) in _CELLS]


def _participants(table: etree._Element) -> tuple[tuple[str, ...], tuple[Participant, ...]]:
    rows = _ROWS(table)
    if not rows:
        return (), ()
    columns = tuple(_text(td) for td in _cells(rows[0]))
    roles = column_roles(columns)
    people = []
    for number, tr in enumerate(rows[1:], start=1):
        tds = _cells(tr)
        if not tds:
            continue
        raw = [_text_nodes(td) for td in tds[1:]]
        people.append(build_participant(_text(tds[0]), _refs(tds[0]), raw, roles, number))
    return columns, tuple(people)


def _footnotes(notes: list[etree._Element]) -> tuple[Footnote, ...]:
    found = []
    for div in notes:
        anchor = next((a for a in div.iter() if _tag(a) == "a" and a.get("name")), None)
        if anchor is None:
            continue
        found.append(Footnote(clean(anchor.get("name")), _text(div, skip=[anchor])))
    return tuple(found)


def parse_html(
    body: bytes, *, expected_treaty: str | None = None, content_type: str | None = None
) -> TreatyStatus:
    """Parse and validate one ViewDetails.aspx status page (`content_type`: the HTTP header)."""
    root = html_root(body, content_type)
    found = _find(root)
    title_raw = _first_text(found, "title")
    treaty_id = _treaty_id(root)
    treaty_id = check_header(treaty_id, title_raw, expected_treaty)
    place, adopted = place_and_date(_first_text(found, "conclusion"))
    eif_label = _first_text(found, "eif_label") or None
    eif_text = _first_text(found, "eif_text") or None
    eif_date = None
    if eif_label and eif_text and "entry into force" in eif_label.casefold():
        eif_date = leading_date(eif_text)
    status_text = _first_text(found, "status")
    chapter = re.sub(r"(?i)^chapter\s+", "", _first_text(found, "chapter")) or None
    columns, people = _participants(found["table"][0]) if found["table"] else ((), ())
    status = TreatyStatus(
        treaty_id=treaty_id,
        title=_title(title_raw, treaty_id),
        chapter=chapter,
        adoption_place=place,
        adoption_date=adopted,
        eif_label=eif_label,
        in_force=label_in_force(eif_label),
        eif_text=eif_text,
        eif_date=eif_date,
        published_signatories=_count(status_text, "Signatories"),
        published_parties=_count(status_text, "Parties"),
        status_as_at=status_as_at(_first_text(found, "stamp")),
        columns=columns,
        participants=people,
        footnotes=_footnotes(found["notes"]),
        declarations=read_declarations(root),
    )
    return check_status(
        status,
        table_found=bool(found["table"]),
        no_table_reason="no participants table (no table whose id ends in 'tblgrid')",
    )
