"""Parser for WIPO Lex's "Contracting Parties/Signatories" page of one treaty -> TreatyStatus.

The page (`/wipolex/en/treaties/ShowResults?search_what=C&treaty_id=N`) prints, in its facet
header, the treaty's common name in `<strong>` and then "(Total Members: N)" or "(Not yet in
force)"; its participants in `table#wipoTreatiesTable`, headed Member | Signature | Instrument |
In Force | Details. A dated cell prints its date as text ("June 28, 2013"; the instrument's
kind before it: "Ratification: July 26, 2018") and as epoch milliseconds in `data-sort`
(midnight UTC of that date; `data-sort=""` when empty). Both are read and must agree.
Pure: bytes in, TreatyStatus or PageRejected out; text from text nodes only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from lxml import etree

from tracker.domain.dates import make_date
from tracker.domain.models import Action, Column, Participant, TreatyStatus
from tracker.sources import PageRejected
from tracker.sources.countries import identify
from tracker.sources.documents import html_root, tag_of, text_nodes
from tracker.sources.text import NOT_TEXT, clean
from tracker.sources.wipo.urls import query
from tracker.sources.wipo.validate import NOT_A_STATUS_PAGE, check_identity, check_status

# What WIPO Lex spells out before the date of an instrument, and the neutral kind it is.
INSTRUMENT_KINDS: dict[str, str] = {
    "ratification": "ratification",
    "accession": "accession",
    "acceptance": "acceptance",
    "approval": "approval",
    # A successor State's declaration that it continues to apply the treaty its predecessor
    # was bound by (e.g. the States of former Yugoslavia, Czechoslovakia, the USSR): this is
    # how WIPO records a succession, so it is the domain's "succession", as UNTC's letter d.
    "declaration of continued application": "succession",
    "declaration/notification of succession": "succession",
}
# The columns, by their printed headers (folded); "Details" (links to remarks) carries no date.
MEMBER, SIGNATURE, INSTRUMENT, IN_FORCE, DETAILS = (
    "member",
    "signature",
    "instrument",
    "in force",
    "details",
)
_REQUIRED = (MEMBER, SIGNATURE, INSTRUMENT, IN_FORCE)
_KNOWN = frozenset((*_REQUIRED, DETAILS))
_DATE_RE = re.compile(r"^([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})$")
_INSTRUMENT_RE = re.compile(r"^(.+?)\s*:\s*(.+)$")
_TOTAL_RE = re.compile(r"^\(?\s*Total Members\s*:\s*(\d+)\s*\)?$", re.I)
_NOT_YET_RE = re.compile(r"^\(?\s*Not yet in force\s*\)?$", re.I)
_DAY_MS = 86_400_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


_tag = tag_of


def _shown(el: etree._Element) -> bool:
    """Not inside a script, style sheet or inert template (never shown as the page)."""
    return _tag(el) not in NOT_TEXT and not any(_tag(a) in NOT_TEXT for a in el.iterancestors())


def _text(el: etree._Element, skip: etree._Element | None = None) -> str:
    """The element's text nodes in document order (without the `skip` element's), `<br>` a
    space, script/style/template and comments left out, cleaned into one line."""
    return clean(text_nodes(el, () if skip is None else (skip,)))


def _has_class(el: etree._Element, name: str) -> bool:
    return name in (el.get("class") or "").split()


def _canonical(root: etree._Element) -> tuple[set[str], str | None]:
    """The treaty_ids the canonical links name, and their search_what view."""
    ids: set[str] = set()
    view: str | None = None
    for link in root.iter("link"):
        if "canonical" not in (link.get("rel") or "").lower().split() or not _shown(link):
            continue
        q = query(link.get("href") or "")
        if q.get("treaty_id"):
            ids.add(clean(q["treaty_id"]))
            view = q.get("search_what", view)
    return ids, view


def _facet(root: etree._Element) -> tuple[str, str] | None:
    """The treaty's name (the `<strong>`) and the header words after it, of the facet header."""
    found: list[tuple[str, str]] = []
    for span in root.iter("span"):
        if not _has_class(span, "facet-separator") or not _shown(span):
            continue
        strong = next((s for s in span.iter("strong") if _shown(s)), None)
        if strong is None:
            continue
        name, words = _text(strong), _text(span, skip=strong)
        found.append((name, words))
    if len(set(found)) > 1:
        raise PageRejected(f"the facet header names several treaties: {sorted(set(found))}")
    return found[0] if found else None


def _table(root: etree._Element) -> etree._Element | None:
    tables = [t for t in root.iter("table") if t.get("id") == "wipoTreatiesTable" and _shown(t)]
    if len(tables) > 1:
        raise PageRejected(f"{len(tables)} tables#wipoTreatiesTable (layout change?)")
    return tables[0] if tables else None


def _header(table: etree._Element) -> tuple[tuple[str, ...], dict[str, int]]:
    rows = table.xpath("./thead/tr")
    cells = [c for c in rows[0] if _tag(c) in ("th", "td")] if rows else []
    columns = tuple(_text(c) for c in cells)
    index: dict[str, int] = {}
    for i, header in enumerate(columns):
        key = header.casefold()
        if key not in _KNOWN or key in index:
            raise PageRejected(
                f"participants table header {list(columns)}: unexpected column {header!r} "
                "(layout change?)"
            )
        index[key] = i
    missing = [k for k in _REQUIRED if k not in index]
    if missing:
        raise PageRejected(
            f"participants table header {list(columns)}: no {', '.join(missing)} column "
            "(layout change?)"
        )
    return columns, index


def _date_text(text: str) -> date:
    m = _DATE_RE.match(text)
    found = make_date(m.group(2), m.group(1), m.group(3)) if m else None
    if found is None:
        raise ValueError(f"unreadable date {text!r}")
    return found


def _sort_date(raw: str | None) -> date | None:
    """The date of a `data-sort` (epoch ms, midnight UTC); None when empty."""
    value = (raw or "").strip()
    if not value:
        return None
    if not re.fullmatch(r"-?\d{1,15}", value):
        raise ValueError(f"data-sort {value!r} is not epoch milliseconds")
    ms = int(value)
    if ms % _DAY_MS:
        raise ValueError(f"data-sort {value} is not midnight UTC")
    return (_EPOCH + timedelta(milliseconds=ms)).date()


def _cell(td: etree._Element, *, instrument: bool) -> tuple[str | None, date] | None:
    """A dated cell: (the instrument's printed kind, or None) and its date; None when empty.
    ValueError when the text and the data-sort disagree or cannot be read."""
    text = _text(td)
    sorted_as = _sort_date(td.get("data-sort"))
    if not text:
        if sorted_as is not None:
            raise ValueError(f"data-sort gives {sorted_as.isoformat()} but no date is printed")
        return None
    kind: str | None = None
    printed = text
    if instrument:
        m = _INSTRUMENT_RE.match(text)
        if not m:
            raise ValueError(f"instrument {text!r} prints no 'Kind: date'")
        kind, printed = m.group(1), m.group(2)
    found = _date_text(printed)
    if sorted_as is None:
        raise ValueError(f"{text!r} has no data-sort date to check it against")
    if sorted_as != found:
        raise ValueError(
            f"{text!r} but data-sort says {sorted_as.isoformat()} (the two dates disagree)"
        )
    return kind, found


def _participant(tr: etree._Element, index: dict[str, int], width: int, row: int) -> Participant:
    tds = [td for td in tr if _tag(td) in ("td", "th")]
    if len(tds) != width:
        raise PageRejected(
            f"participants table row {row}: {len(tds)} cells but {width} column headers "
            "(layout change?)"
        )
    name = _text(tds[index[MEMBER]])
    if not name:
        raise PageRejected(f"participants table row {row}: empty member name")
    actions: list[Action] = []
    in_force: date | None = None
    try:
        signed = _cell(tds[index[SIGNATURE]], instrument=False)
        if signed is not None:
            actions.append(Action(Column.SIGNATURE, "signature", signed[1]))
        deposited = _cell(tds[index[INSTRUMENT]], instrument=True)
        if deposited is not None:
            printed_kind, when = deposited
            kind = INSTRUMENT_KINDS.get((printed_kind or "").casefold())
            if kind is None:
                raise ValueError(f"unknown instrument {printed_kind!r}")
            actions.append(Action(Column.CONSENT, kind, when))
        effective = _cell(tds[index[IN_FORCE]], instrument=False)
        in_force = effective[1] if effective is not None else None
    except ValueError as exc:
        raise PageRejected(f"participants table row {row} ({name}): {exc}") from exc
    ident = identify(name)
    return Participant(
        name, ident.iso3, ident.reio, (), tuple(actions), published_in_force_from=in_force
    )


def _rows(table: etree._Element) -> Iterable[etree._Element]:
    return table.xpath("./tbody/tr | ./tr")


def parse_page(
    body: bytes, *, expected_treaty: str | None = None, content_type: str | None = None
) -> TreatyStatus:
    """Parse and validate one Contracting Parties page (`content_type`: the HTTP header)."""
    root = html_root(body, content_type)
    ids, view = _canonical(root)
    treaty_id = check_identity(ids, view, expected_treaty)
    facet = _facet(root)
    if facet is None or not facet[0]:
        raise PageRejected(NOT_A_STATUS_PAGE.format(what="no facet header naming the treaty"))
    title, words = facet
    label = clean(words.strip().removeprefix("(").removesuffix(")"))
    total = _TOTAL_RE.match(words)
    if total:
        in_force, published = True, int(total.group(1))
    elif _NOT_YET_RE.match(words):
        in_force, published = False, None
    else:
        raise PageRejected(
            f"the facet header prints neither 'Total Members: N' nor 'Not yet in force': {words!r}"
        )
    table = _table(root)
    columns: tuple[str, ...] = ()
    people: list[Participant] = []
    if table is not None:
        columns, index = _header(table)
        for number, tr in enumerate(_rows(table), start=1):
            people.append(_participant(tr, index, len(columns), number))
    # WIPO Lex prints no date for the treaty as a whole, only each party's "In Force" date: the
    # treaty's own entry into force is the earliest of them (the original parties'), and it is
    # what the computed date is checked against. Said so in eif_text, so no one reads it as a
    # printed treaty date.
    dates = [p.published_in_force_from for p in people if p.published_in_force_from]
    eif_date = min(dates) if in_force and dates else None
    status = TreatyStatus(
        treaty_id=treaty_id,
        title=title,
        eif_label=label,
        in_force=in_force,
        eif_date=eif_date,
        eif_text=(
            f"{eif_date.isoformat()}: the earliest In Force date WIPO Lex prints for a party"
            if eif_date
            else None
        ),
        published_parties=published,
        columns=columns,
        participants=tuple(people),
    )
    return check_status(status, table_found=table is not None)
