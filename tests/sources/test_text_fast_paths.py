"""The parsers' fast paths give exactly what the plain definitions give, over every code point.

clean() skips the control regex for a printable text, NFC for an ASCII one, and folds
whitespace with str.split(); html_root() parses a UTF-8 body's own bytes when a byte scan finds
nothing to strip. Each shortcut rests on a property of Unicode or CPython checked here
exhaustively, and each result is compared with the plain definition (the code before the
shortcut, kept below as the reference).
"""

from __future__ import annotations

import random
import re
import sys
import unicodedata
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from tracker.domain.dates import MONTH_NAMES, make_date
from tracker.sources.documents import html_root
from tracker.sources.encoding import decode
from tracker.sources.text import (
    _CELL_RE,
    _CONTROL_RE,
    clean,
    clean_lines,
    read_cell,
    strip_controls,
    utf8_has_controls,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
_WS_RE = re.compile(r"\s+")
EVERY = range(sys.maxunicode + 1)
NOT_SURROGATE = [cp for cp in EVERY if not 0xD800 <= cp <= 0xDFFF]


def reference_clean(text: str | None) -> str:
    """clean() as first written: strip, NFC, regex whitespace fold."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", strip_controls(text))
    return _WS_RE.sub(" ", text.replace("\xa0", " ")).strip()


def reference_root(body: bytes, content_type: str | None = None) -> etree._Element:
    """html_root() as first written: always strip and re-encode."""
    text = strip_controls(decode(body, content_type).text)
    return etree.fromstring(text.encode("utf-8"), etree.HTMLParser(encoding="utf-8"))


def test_str_split_splits_exactly_where_the_regex_whitespace_matches() -> None:
    differ = [
        hex(cp)
        for cp in EVERY
        if (_WS_RE.fullmatch(chr(cp)) is not None) != (len(f"a{chr(cp)}b".split()) == 2)
    ]
    assert differ == []


def test_the_only_printable_whitespace_is_the_space() -> None:
    """clean() returns a printable text with single spaces as it is: nothing else in it folds."""
    printable_spaces = [hex(cp) for cp in EVERY if chr(cp).isprintable() and chr(cp).isspace()]
    assert printable_spaces == ["0x20"]
    assert clean("a b") == "a b" and clean("e\u0301  x") == "\u00e9 x"  # NFC's text is folded


def test_clean_of_a_clean_text_is_that_text() -> None:
    """clean() is idempotent (the MTDSG parser's _plain() does not clean a cleaned text again)."""
    for cp in EVERY:
        text = clean(f" a{chr(cp)} b\xa0{chr(cp)}")
        assert clean(text) == text, hex(cp)
    rng = random.Random(15)
    for _ in range(30_000):
        text = clean("".join(rng.choice(_TRICKY) for _ in range(rng.randint(0, 12))))
        assert clean(text) == text, repr(text)


def test_no_printable_text_holds_a_character_strip_controls_removes() -> None:
    printable_controls = [
        hex(cp) for cp in EVERY if _CONTROL_RE.match(chr(cp)) and chr(cp).isprintable()
    ]
    assert printable_controls == []
    assert not "a\tb".isprintable()  # so a tab still takes the regex path


def test_the_byte_scan_finds_exactly_what_the_regex_finds() -> None:
    wrong = []
    for cp in NOT_SURROGATE:
        # Lead bytes of other characters before it (U+2010, U+00E9, U+FFFD-like neighbours).
        text = f"x\u2010\u00e9\ufeee{chr(cp)}\u2065y"
        if utf8_has_controls(text.encode("utf-8")) != bool(_CONTROL_RE.search(text)):
            wrong.append(hex(cp))
    assert wrong == []
    assert not utf8_has_controls(b"")
    assert not utf8_has_controls(b"plain ASCII\ttab\r\n")
    assert utf8_has_controls(b"\x7f")
    assert utf8_has_controls("at the very end \u200b".encode())


_TRICKY = (
    "a", "Z", "0", " ", "  ", "\t", "\n", "\r", "\xa0", "\u2028", "\u3000", "\u1680", "\x0b",
    "\x0c", "\x1c", "\x1f", "\x85", "\x01", "\x7f", "\x9f", "\u00ad", "\u200b", "\u200d",
    "\u202e", "\u2066", "\ufeff", "\ufffe", "\ud800", "\u180e", "\u0301", "\u0308", "e", "o",
    "\u00e9", "\u2000", "\u2001", "\u212b", "\u1e9b\u0323", "C\u0327", "\u0130", "\ufb01",
)  # fmt: skip


def test_clean_equals_its_plain_definition() -> None:
    for cp in EVERY:
        text = f" a{chr(cp)} b\xa0"
        assert clean(text) == reference_clean(text), hex(cp)
    rng = random.Random(15)
    for _ in range(30_000):
        text = "".join(rng.choice(_TRICKY) for _ in range(rng.randint(0, 12)))
        assert clean(text) == reference_clean(text), repr(text)
    assert clean(None) == reference_clean(None) == ""


@pytest.mark.parametrize(
    "extra",
    ["", "\u200b", "\x01", "\u00ad", "\ufeff", "&#x200b;", "&shy;", "\u2010", "\x7f"],
    ids=["none", "zwsp", "c0", "shy", "bom-inside", "zwsp-entity", "shy-entity", "dash", "del"],
)
@pytest.mark.parametrize(
    "name", ["untc/viewdetails_3col.html", "untc/viewdetails_4col_provisional.html"]
)
def test_html_root_gives_the_tree_the_plain_definition_gives(name: str, extra: str) -> None:
    body = (FIXTURES / name).read_bytes().replace(b"Austria", f"Aus{extra}tria".encode())
    for page in (body, b"\xef\xbb\xbf" + body):
        for content_type in (None, "text/html; charset=utf-8"):
            ours = etree.tostring(html_root(page, content_type), encoding="unicode")
            assert ours == etree.tostring(reference_root(page, content_type), encoding="unicode")


def test_a_whitespace_only_cell_cleans_to_nothing() -> None:
    """read_cell() skips clean() for a text that is all whitespace: clean() gives "" for it."""
    spaces = [chr(cp) for cp in EVERY if chr(cp).isspace()]
    assert "\xa0" in spaces and "\x1c" in spaces  # NBSP; a control that is whitespace too
    for c in spaces:
        assert clean(c) == clean(f"{c} {c}\t") == "", hex(ord(c))
        assert read_cell(c * 2) is None


def reference_read_cell(text: str | None) -> tuple[date, str, bool] | None:
    """read_cell() as first written: the regular expression for every cell."""
    if not text or text.isspace():
        return None
    cleaned = clean(text)
    if not cleaned:
        return None
    m = _CELL_RE.match(cleaned)
    if not m:
        raise ValueError(f"unreadable cell {cleaned!r}")
    opened, day, month, year, letter, closed = m.groups()
    if bool(opened) != bool(closed):
        raise ValueError(f"unbalanced brackets in cell {cleaned!r}")
    found = make_date(day, month, year, abbreviated=True)
    if found is None:
        raise ValueError(f"impossible date in cell {cleaned!r}")
    return found, letter or "", bool(opened)


def _outcome(read: Callable[[str], object], text: str) -> object:
    try:
        return read(text)
    except ValueError as exc:
        return ("ValueError", str(exc))


_DAYS = ("1", "9", "09", "29", "31", "30", "0", "00", "32", "123", "\u0662", "\u00b2", "3a")
_MONTHS = (
    *MONTH_NAMES, *(m[:3] for m in MONTH_NAMES), "Sept", "sept", "SEPT", "Jul.", "Jul,", "Jul.,",
    "JANUARY", "Feb", "feB", "Ju", "Julyy", "Septembers", "Mai", "Mär", "\u0130an",
)  # fmt: skip
_YEARS = ("2020", "1999", "0000", "0001", "9999", "20201", "202", "\u0662\u0660\u0662\u0660")
_GAPS = (" ", "  ", "\t", "\xa0", "\u2009", " \n")
_OPENINGS = ("", " ", "[", "[ ", "\xa0")
_CLOSINGS = ("", " ", "]", " ]", "\xa0", "  ")
_LETTERS = ("", "a", "A", "AA", "d", "s", "n", "P", "abc", "1", "é", "a]", "[a")


def test_read_cell_equals_its_plain_definition() -> None:
    """read_cell()'s fast path (an ASCII `D Mon YYYY [l]`) reads what the regular expression
    reads, and refuses what it refuses, with the same words."""
    rng = random.Random(15)
    texts = []
    for day in _DAYS:
        for month in _MONTHS:
            for year in ("2020", "2019", "1900", "2024"):
                for letter in ("", "a", "AA", "abc"):
                    texts.append(f"{day} {month} {year} {letter}")
    for _ in range(30_000):
        day, month, year = rng.choice(_DAYS), rng.choice(_MONTHS), rng.choice(_YEARS)
        letter = rng.choice(_LETTERS)
        gaps = [rng.choice(_GAPS) for _ in range(3)]
        text = f"{rng.choice(_OPENINGS)}{day}{gaps[0]}{month}{gaps[1]}{year}"
        text += f"{gaps[2]}{letter}" if letter else ""
        text += rng.choice(_CLOSINGS)
        texts.append(text)
    texts += ["29 Feb 2019", "29 Feb 2020", "31 Apr 2020", "1 Jan 2020 a b", "1 Jan", "", " "]
    for text in texts:
        assert _outcome(read_cell, text) == _outcome(reference_read_cell, text), repr(text)
    assert read_cell("29 Jul 2020 a") == (date(2020, 7, 29), "a", False)
    assert read_cell("[ 9 Jan 2012 a]") == (date(2012, 1, 9), "a", True)


def reference_clean_lines(text: str) -> str:
    """clean_lines() as first written: clean() line by line, the empty lines left out."""
    lines = (clean(line) for line in text.split("\n") if line and not line.isspace())
    return "\n".join(line for line in lines if line)


def test_clean_lines_equals_clean_line_by_line() -> None:
    """Stripping controls and NFC over the whole text give each line what they give it alone:
    over every code point beside line feeds, and random texts of the tricky characters."""
    for cp in EVERY:
        c = chr(cp)
        text = f"a{c}\nb{c}\n\u0301x e{c}\u0301\ne\n{c}\u0301 \n{c}\n{c}\u0308\no"
        assert clean_lines(text) == reference_clean_lines(text), hex(cp)
    rng = random.Random(15)
    tricky = (*_TRICKY, "\n", "\n", "\n\n", " \n ")
    for _ in range(30_000):
        text = "".join(rng.choice(tricky) for _ in range(rng.randint(0, 14)))
        assert clean_lines(text) == reference_clean_lines(text), repr(text)
    assert clean_lines("") == reference_clean_lines("") == ""
    assert clean_lines(" Reservation:\u00a0\n\n\t\u201cIt is\u200b provided\u201d \n") == (
        "Reservation:\n\u201cIt is provided\u201d"
    )
