"""Parser for the MTDSG status XML (`{mtdsg}.en.xml`, Latin-1, often malformed) -> TreatyStatus."""

from __future__ import annotations

import re
from functools import lru_cache

from lxml import etree

from tracker.domain.models import Footnote, Participant, TreatyStatus
from tracker.sources import PageRejected, encoding
from tracker.sources.text import (
    NOT_TEXT,
    leading_date,
    parse_count,
    place_and_date,
    strip_controls,
    strip_literal_code,
    strip_literal_tags,
    strip_superscripts,
    utf8_has_controls,
)
from tracker.sources.untc.letters import label_in_force
from tracker.sources.untc.table import build_participant, column_roles
from tracker.sources.untc.validate import NOT_A_STATUS_PAGE, check_header, check_status

_DECL_RE = re.compile(r"^\s*<\?xml[^>]*?\?>", re.S)
# The 2018 files carry UTF-16 punctuation cut down to its low byte; restore it. Every other
# control character goes (tracker.sources.text.strip_controls).
_PUNCTUATION = {0x18: "\u2018", 0x19: "\u2019", 0x1C: "\u201c", 0x1D: "\u201d", 0x13: "\u2013"}
# A bare `&` (or an HTML entity such as `&nbsp;`) is not XML; libxml2's recovery mode then drops
# every later entity, `&lt;superscript&gt;` included. Escape it before parsing.
_BARE_AMP_RE = re.compile(rb"&(?!(?:lt|gt|amp|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);)")
_CHAPTER_RE = re.compile(r"CHAPTER\s+([IVXLC]+)\b", re.I)
HEADER_ONLY = "header-only MTDSG file: no participants table"


def decode(body: bytes, content_type: str | None = None) -> str:
    """Decode as a browser reads XML (BOM, HTTP charset, XML declaration, detection), strictly:
    UndecodablePage when the bytes do not read cleanly (see tracker.sources.encoding)."""
    return encoding.decode(body, content_type, xml=True).text


def _root(body: bytes, content_type: str | None = None) -> etree._Element:
    try:
        text = decode(body, content_type)
    except encoding.UndecodablePage as exc:
        raise PageRejected(str(exc)) from None
    text = _DECL_RE.sub("", text, count=1)
    for code, mark in _PUNCTUATION.items():  # the same as one regex substitution, faster
        text = text.replace(chr(code), mark)
    try:  # a byte scan is cheaper than the regex; it cannot see surrogates, which fail to encode
        payload = text.encode("utf-8")
    except UnicodeEncodeError:
        payload = strip_controls(text).encode("utf-8")
    else:
        if utf8_has_controls(payload):
            payload = strip_controls(text).encode("utf-8")
    # The UTF-8 bytes are parsed (lxml would otherwise convert a str itself, from UCS-2 when
    # one character is above U+00FF); the pattern is ASCII, so it matches what it does in the str.
    payload = _BARE_AMP_RE.sub(b"&amp;", payload)
    parser = etree.XMLParser(
        encoding="utf-8", recover=True, resolve_entities=False, no_network=True, huge_tree=True
    )
    root = etree.fromstring(payload, parser)
    if root is None:
        raise PageRejected("MTDSG XML could not be parsed, even in recovery mode")
    return root


@lru_cache(maxsize=1024)
def _local_name(tag: str) -> str:
    return etree.QName(tag).localname.lower()


def _local(el: etree._Element) -> str:
    tag = el.tag
    return _local_name(tag) if isinstance(tag, str) else ""


def _raw(el: etree._Element | None) -> str:
    """The element's text nodes (not comments, processing instructions, script or style), with
    literal script/style/comment markup kept as escaped text removed too."""
    if el is None or _local(el) in NOT_TEXT:
        return ""
    if len(el) == 0:  # a leaf (most entries): its text is all there is
        return strip_literal_code(el.text or "")
    parts: list[str] = []
    _walk(el, parts)
    return strip_literal_code("".join(parts))


def _walk(node: etree._Element, parts: list[str]) -> None:
    """_raw()'s walk: a module-level function, not a closure calling itself (that would be a
    reference cycle per call, left to the garbage collector)."""
    if text := node.text:  # each text read once: lxml makes a new str at every read
        parts.append(text)
    for child in node:
        name = _local(child)
        if name and name not in NOT_TEXT:
            _walk(child, parts)
        if tail := child.tail:
            parts.append(tail)


def _plain(el: etree._Element | None) -> str:
    """Element text with superscript markers and literal inline tags removed."""
    text = strip_superscripts(_raw(el))[0]  # cleaned: strip_literal_tags() would only clean
    return strip_literal_tags(text) if "<" in text else text  # it again, to the same text


def _treaty_id(header: etree._Element) -> str | None:
    chapter = _CHAPTER_RE.search(_plain(header.find("Chapter/Header")))
    number = _plain(header.find("ExternalData/Numsect"))
    if not chapter or not number:
        return None
    parts = [chapter.group(1).upper(), _plain(header.find("SubChapter/Header")), number]
    parts.append(_plain(header.find("ExternalData/Subnumsect")))
    return "-".join(p for p in parts if p)


def _participants(
    table: etree._Element,
) -> tuple[tuple[str, ...], tuple[Participant, ...]]:
    columns = tuple(_plain(e) for e in table.findall("Thead/Row/Entry"))
    roles = column_roles(columns)
    people = []
    rows = table.findall("Tbody/Rows/Row") + table.findall("Tbody/Row")
    for number, row in enumerate(rows, start=1):
        entries = [e for e in row if e.tag == "Entry"]  # row.findall("Entry"), cheaper
        if not entries:
            continue
        # An <Entry> leaf's text is its _raw() (the common case, without the call).
        texts = [strip_literal_code(e.text or "") if len(e) == 0 else _raw(e) for e in entries]
        name, refs = strip_superscripts(texts[0])
        cells = texts[1:]
        people.append(build_participant(name, refs, cells, roles, number))
    return columns, tuple(people)


def _footnotes(treaty: etree._Element) -> tuple[Footnote, ...]:
    found = []
    for note in treaty.findall("EndNotes/Note"):
        ref = _plain(note.find("index"))
        text = " ".join(t for t in (_plain(p) for p in note.findall("text")) if t)
        if ref or text:
            found.append(Footnote(ref, text))
    return tuple(found)


def _status(root: etree._Element, expected_treaty: str | None) -> TreatyStatus:
    treaty = root if root.tag == "Treaty" else root.find("Treaty")
    header = treaty.find("Header") if treaty is not None else None
    data = header.find("ExternalData") if header is not None else None
    if treaty is None or header is None or data is None:
        raise PageRejected(NOT_A_STATUS_PAGE)
    title = _plain(data.find("Titlesect")) or _plain(data.find("Subtitlesect"))
    treaty_id = check_header(_treaty_id(header), title, expected_treaty)
    place, adopted = place_and_date(_plain(data.find("Conclusion")))
    eif_label = _plain(data.find("EIF/Label")) or None
    eif_text = _plain(data.find("EIF/Labeltext")) or None
    eif_date = None
    if eif_label and eif_text and "entry into force" in eif_label.casefold():
        eif_date = leading_date(eif_text)
    chapter = _CHAPTER_RE.search(_plain(header.find("Chapter/Header")))
    participants = treaty.find("Participants")
    table = participants.find("Table/TGroup") if participants is not None else None
    columns, people = _participants(table) if table is not None else ((), ())
    status = TreatyStatus(
        treaty_id=treaty_id,
        title=title,
        chapter=chapter.group(1).upper() if chapter else None,
        adoption_place=place,
        adoption_date=adopted,
        eif_label=eif_label,
        in_force=label_in_force(eif_label),
        eif_text=eif_text,
        eif_date=eif_date,
        published_signatories=parse_count(_raw(data.find("Status/Signatories"))),
        published_parties=parse_count(_raw(data.find("Status/Parties"))),
        status_as_at=None,  # the MTDSG XML prints no "status as at" stamp
        columns=columns,
        participants=people,
        footnotes=_footnotes(treaty),
    )
    reason = HEADER_ONLY if participants is None else "no participants table in <Participants>"
    return check_status(status, table_found=table is not None, no_table_reason=reason)


def parse_xml(
    body: bytes, *, expected_treaty: str | None = None, content_type: str | None = None
) -> TreatyStatus:
    """Parse and validate one MTDSG XML file; every failure becomes PageRejected."""
    try:
        return _status(_root(body, content_type), expected_treaty)
    except PageRejected:
        raise
    except Exception as exc:
        raise PageRejected(f"MTDSG XML could not be read: {type(exc).__name__}: {exc}") from exc
