"""Shared text helpers for depositary pages: whitespace, dates, counts, footnote markers, cells."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from tracker.domain.dates import MONTH_NAMES, make_date

_DATE = r"(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})"
_LEADING_DATE_RE = re.compile(r"^\s*" + _DATE + r"(?!\d)")
_TRAILING_DATE_RE = re.compile(r"^(.*?),?\s*" + _DATE + r"\s*$", re.DOTALL)
_CELL_RE = re.compile(r"^(\[)?\s*" + _DATE + r"(?:\s+([A-Za-z]{1,2}))?\s*(\])?$")
_SUPERSCRIPT_RE = re.compile(
    r"<\s*superscript\s*>(.*?)<\s*/\s*superscript\s*>", re.DOTALL | re.IGNORECASE
)
_LITERAL_TAG_RE = re.compile(
    r"</?\s*(?:i|b|u|em|strong|a|br|p|span|sup|sub|superscript|text)\b[^<>]{0,300}>", re.IGNORECASE
)
_WS_RE = re.compile(r"\s+")
# Elements whose content is never text, wherever a hostile page nests them.
NOT_TEXT = frozenset({"script", "style", "template"})
# What no parsed text may hold (so no feed, CSV or JSON answer can fail on it): C0 controls but
# TAB, LF and CR (whitespace, folded into a space), DEL and the C1 controls, surrogates and the
# non-characters U+FFFE/U+FFFF (illegal in XML 1.0), and the invisible format characters that
# would make a different participant of the same printed name (soft hyphen, zero-width space and
# joiners, directional marks, embeddings and isolates, word joiner, stray BOM).
_UNPRINTABLE = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
_UNPRINTABLE_RE = re.compile(f"[{_UNPRINTABLE}]")
_CONTROL_RE = re.compile(
    f"[{_UNPRINTABLE}\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def strip_controls(text: str) -> str:
    """Remove control, non-XML and invisible format characters (TAB, LF, CR stay)."""
    return _CONTROL_RE.sub("", text)


# What strip_controls removes, as UTF-8: the single bytes (C0 but TAB, LF, CR; DEL), and the
# sequences of the others by their lead byte (surrogates have no UTF-8 form). Kept equal to
# _CONTROL_RE by tests/sources/test_text.py, over every code point.
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_CONTROL_SEQUENCES: dict[int, frozenset[bytes]] = {}
for _cp in (
    *range(0x80, 0xA0), 0xAD, *range(0x200B, 0x2010), *range(0x202A, 0x202F),
    *range(0x2060, 0x2065), *range(0x2066, 0x206A), 0xFEFF, 0xFFFE, 0xFFFF,
):  # fmt: skip
    _seq = chr(_cp).encode("utf-8")
    _CONTROL_SEQUENCES[_seq[0]] = _CONTROL_SEQUENCES.get(_seq[0], frozenset()) | {_seq}


def utf8_has_controls(payload: bytes) -> bool:
    """Whether strip_controls would remove anything from `payload.decode("utf-8")` (`payload`
    must be valid UTF-8): a byte-level scan, a few times faster than the regex on the text."""
    if len(payload.translate(None, _CONTROL_BYTES)) != len(payload):
        return True
    if payload.isascii():
        return False
    for lead, sequences in _CONTROL_SEQUENCES.items():
        width = len(next(iter(sequences)))
        at = payload.find(lead)
        while at >= 0:
            if payload[at : at + width] in sequences:
                return True
            at = payload.find(lead, at + 1)
    return False


def strip_unprintable(text: str) -> str:
    """Remove only what no JSON, CSV or XML output may carry: C0 controls but TAB, LF and CR,
    DEL, C1, surrogates, U+FFFE and U+FFFF (the outputs' guard for text stored earlier)."""
    return _UNPRINTABLE_RE.sub("", text) if _UNPRINTABLE_RE.search(text) else text


def _controls_out_nfc(text: str, printable: bool) -> tuple[str, bool]:
    """`text` without controls (the regex only when it is not `printable`) and in NFC (only when
    it is not ASCII, its own NFC); with whether it was printable and NFC left it as it was (a
    text NFC changed is folded by the caller as any other)."""
    if not printable:
        text = _CONTROL_RE.sub("", text)
    if not text.isascii():
        normal = unicodedata.normalize("NFC", text)
        printable = printable and normal is text
        text = normal
    return text, printable


def clean(text: str | None) -> str:
    """One line of page text: controls stripped, Unicode NFC, every run of whitespace (NBSP,
    tabs, CR/LF included) folded into one space, stripped.

    NFC makes "Côte d'Ivoire" written with a combining accent (NFD) the same text, so the same
    participant, as the precomposed form."""
    if not text:
        return ""
    # Fast paths with the same result: a printable text holds no control or format character
    # (every one is a Unicode "Other"), an ASCII text is its own NFC, and str.split() splits on
    # exactly the code points `\s` matches (NBSP among them). tests/sources/test_text.py checks
    # all three over every code point.
    text, printable = _controls_out_nfc(text, text.isprintable())
    # A printable text's only whitespace is the space (every other one is unprintable, checked
    # in tests/sources/test_text_fast_paths.py): with single spaces and none at either end it is
    # already folded, and split() and join() would only copy it, word by word.
    if printable and "  " not in text and text[0] != " " and text[-1] != " ":
        return text
    return " ".join(text.split())


def _usual(text: str) -> str:
    """`text` with its tabs, line feeds, carriage returns and no-break spaces made spaces: when
    that is printable, `text` holds nothing _CONTROL_RE matches (each of its characters is
    unprintable; none of these four is one), so the regex need not run."""
    return text.replace("\t", " ").replace("\n", " ").replace("\r", " ").replace("\xa0", " ")


def clean_lines(text: str) -> str:
    """clean() of every line of `text`, the empty ones left out, joined by line feeds; at once:
    controls stripped and NFC applied to the whole text (a line feed is neither a control nor
    ever composed, so each line comes out as clean() makes it), then each line's whitespace
    folded (tests/sources/test_text_fast_paths.py compares it with the line-by-line clean())."""
    if not text:
        return ""
    # Tabs, carriage returns and no-break spaces made spaces first: whitespace all the same to the
    # fold; no control, never composed nor composed into (NFC leaves them as they are).
    text = text.replace("\t", " ").replace("\r", " ").replace("\xa0", " ")
    # The regex only when something but the usual whitespace is unprintable (a cheaper scan).
    text, printable = _controls_out_nfc(text, text.replace("\n", " ").isprintable())
    # A printable line stripped of its spaces holds no other whitespace (the only printable
    # whitespace is the space): without "  " in it, it is folded already, and split() and join()
    # would only copy it word by word.
    lines = []
    for line in text.split("\n"):
        line = line.strip(" ")
        if "  " in line or not (printable or line.isprintable()):
            line = " ".join(line.split())
        if line:
            lines.append(line)
    return "\n".join(lines)


def _make_date(day: str, month: str, year: str) -> date | None:
    return make_date(day, month, year, abbreviated=True)


def leading_date(text: str) -> date | None:
    """The date a text starts with (`24 December 2014, in accordance with...`), if any."""
    m = _LEADING_DATE_RE.match(clean(text))
    return _make_date(*m.groups()) if m else None


def place_and_date(text: str) -> tuple[str | None, date | None]:
    """Split `New York, 7 July 2017` into its place and date; (text, None) when no date ends it."""
    cleaned = clean(text)
    m = _TRAILING_DATE_RE.match(cleaned)
    if not m:
        return (cleaned or None), None
    found = _make_date(*m.groups()[1:])
    if found is None:
        return (cleaned or None), None
    place = m.group(1).strip().rstrip(",").strip()
    return (place or None), found


def parse_count(text: str | None) -> int | None:
    """A printed count such as `117` (None when absent or not a number)."""
    cleaned = clean(text)
    return int(cleaned) if cleaned.isdigit() else None


def split_refs(text: str) -> tuple[str, ...]:
    """Footnote refs from a marker text such as `4, 5` or `2,3`."""
    return tuple(r for r in (clean(part) for part in re.split(r"[,\s]+", text)) if r)


def strip_superscripts(text: str) -> tuple[str, tuple[str, ...]]:
    """Remove literal `<superscript>1,2</superscript>` markers; return the text and the refs."""
    if "<" not in text:
        return clean(text), ()
    refs: list[str] = []
    for m in _SUPERSCRIPT_RE.finditer(text):
        refs.extend(split_refs(m.group(1)))
    return clean(_SUPERSCRIPT_RE.sub(" ", text)), tuple(refs)


_LITERAL_CODE_RE = re.compile(
    r"<\s*(script|style)\b[^<>]{0,300}>.*?<\s*/\s*\1\s*>|<!--.*?-->", re.DOTALL | re.IGNORECASE
)


def strip_literal_code(text: str) -> str:
    """Remove literal `<script>...</script>`, `<style>...</style>` and `<!-- -->` (contents
    included) kept as escaped text, as the MTDSG XML keeps its inline markup."""
    return _LITERAL_CODE_RE.sub("", text) if "<" in text else text


def strip_literal_tags(text: str) -> str:
    """Remove literal inline markup (`<i>`, `<a href=...>`, `<superscript>`) kept as text."""
    return clean(_LITERAL_TAG_RE.sub(" ", text) if "<" in text else text)


@dataclass(frozen=True)
class Cell:
    """One dated cell: the date, the action letter after it and whether it is bracketed."""

    date: date
    letter: str
    withdrawn: bool


def parse_cell(text: str | None) -> Cell | None:
    """Parse `29 Jul 2020 a`, `[ 9 Jan 2012 a]`...; None when empty, ValueError when unreadable."""
    found = read_cell(text)
    return None if found is None else Cell(*found)


# Month names as a cell prints them (lower case: full names, three-letter abbreviations and
# "sept"), for read_cell()'s fast path; what tracker.domain.dates.month_number accepts with
# `abbreviated`, checked equal by tests/sources/test_text_fast_paths.py.
_CELL_MONTHS: dict[str, int] = {
    **{name[:3]: number for number, name in enumerate(MONTH_NAMES, 1)},
    "sept": 9,
    **{name: number for number, name in enumerate(MONTH_NAMES, 1)},
}


def read_cell(text: str | None) -> tuple[date, str, bool] | None:
    """parse_cell() as a (date, letter, withdrawn) tuple, for the table parsers' inner loop."""
    if not text or text.isspace():  # an empty cell (`&nbsp;`): clean() would give ""
        return None
    # Fast path, the same result as _CELL_RE below: an ASCII `D Mon YYYY` or `D Mon YYYY l`, a
    # known month and a real day. Anything else (brackets, a dot or comma after the month, an
    # impossible date, other digits) takes the regular expression. When the text, its tabs,
    # line feeds and no-break spaces made spaces (_usual), is printable ASCII, clean() would only
    # fold its whitespace: its words are that text's split(), without clean().
    words = text if text.isprintable() else _usual(text)
    if words.isascii() and words.isprintable():
        parts = words.split()
        count = len(parts)
        if count == 3 or count == 4:
            day, month, year = parts[0], parts[1], parts[2]
            letter = parts[3] if count == 4 else ""
            number = _CELL_MONTHS.get(month.lower())
            if (
                number is not None
                and len(day) <= 2
                and day.isdigit()
                and len(year) == 4
                and year.isdigit()
                and (count == 3 or (len(letter) <= 2 and letter.isalpha()))
            ):
                try:
                    return date(int(year), number, int(day)), letter, False
                except ValueError:
                    pass  # no such day: the regular expression's path says so
    cleaned = clean(text)
    if not cleaned:
        return None
    m = _CELL_RE.match(cleaned)
    if not m:
        raise ValueError(f"unreadable cell {cleaned!r}")
    opened, day, month, year, letter, closed = m.groups()
    if bool(opened) != bool(closed):
        raise ValueError(f"unbalanced brackets in cell {cleaned!r}")
    found = _make_date(day, month, year)
    if found is None:
        raise ValueError(f"impossible date in cell {cleaned!r}")
    return found, letter or "", bool(opened)
