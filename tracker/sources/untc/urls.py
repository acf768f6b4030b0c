"""UNTC addresses: build and recognise the depositary's own URLs (pure, no I/O)."""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import parse_qs, quote, urlsplit

ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
# The MTDSG number forms (every one of the 407 MTDSG XML files of 2018 and the 244 entries of
# the 2026 chapter pages is one of them):
#   XXVI-9     chapter-number
#   XXVII-7-d  chapter-number-letter        (an amendment or protocol of XXVII-7)
#   III-2-2    chapter-number-number        (an annex of III-2)
#   III-2-2a   chapter-number-numberletter  (a revised annex of III-2-2)
#   XI-A-16    chapter-subchapter-number    (chapter XI, sub-chapters A to E)
# A sub-chapter number takes the same suffixes (XI-B-19-a).
TREATY_ID = re.compile(
    r"^(?P<chapter>[IVXL]+)(?:-(?P<subchapter>[A-E]))?-(?P<number>[1-9][0-9]*)"
    r"(?:-(?P<part>[1-9][0-9]*[a-z]?|[a-z]))?$"
)
SUBCHAPTERS = "ABCDE"
FORMS = "XXVI-9, XXVII-7-d, III-2-2, III-2-2a or XI-A-16"


class BadTreatyId(ValueError):
    """Not an MTDSG number such as XXVI-9, XXVII-7-d, III-2-2a or XI-A-16."""


class TreatyNumber(NamedTuple):
    """An MTDSG number taken apart: XI-A-16 is chapter XI (11), sub-chapter A, number 16."""

    roman: str
    chapter: int
    subchapter: str | None
    number: int
    part: str | None  # "d" (XXVII-7-d), "2" (III-2-2), "2a" (III-2-2a), or None


def roman_to_int(roman: str) -> int:
    """Convert a Roman numeral (as in MTDSG chapters) to an integer; ValueError if it is none."""
    if not roman or any(ch not in ROMAN for ch in roman):
        raise ValueError(f"not a Roman numeral: {roman!r}")
    total = 0
    for i, ch in enumerate(roman):
        value = ROMAN[ch]
        nxt = ROMAN[roman[i + 1]] if i + 1 < len(roman) else 0
        total += -value if value < nxt else value
    return total


def int_to_roman(number: int) -> str:
    """The Roman numeral of a chapter number (1 <= number < 400)."""
    out = ""
    for value, letters in (
        (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
        (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ):  # fmt: skip
        while number >= value:
            out, number = out + letters, number - value
    return out


def _refuse(treaty_id: str, why: str = "") -> BadTreatyId:
    return BadTreatyId(
        f"not an MTDSG treaty number: {treaty_id!r}{why} (expected a chapter in Roman numerals, "
        f"an optional sub-chapter A-E, a number and an optional part: {FORMS})"
    )


def parse_treaty_id(treaty_id: str) -> TreatyNumber:
    """Take an MTDSG number apart; BadTreatyId, naming the accepted forms, when it is not one."""
    m = TREATY_ID.match(treaty_id) if isinstance(treaty_id, str) else None
    if not m:
        raise _refuse(treaty_id)
    roman = m.group("chapter")
    chapter = roman_to_int(roman)
    if int_to_roman(chapter) != roman:
        raise _refuse(
            treaty_id, f" ({roman} is not a Roman numeral as written: {int_to_roman(chapter)})"
        )
    return TreatyNumber(
        roman, chapter, m.group("subchapter"), int(m.group("number")), m.group("part")
    )


def chapter_of(treaty_id: str) -> int:
    """Return the chapter number of an MTDSG treaty id ("XXVI-9" -> 26, "XI-A-16" -> 11)."""
    return parse_treaty_id(treaty_id).chapter


def subchapter_of(treaty_id: str) -> str | None:
    """The sub-chapter letter of an MTDSG treaty id ("XI-A-16" -> "A"), None for most."""
    return parse_treaty_id(treaty_id).subchapter


def status_page_url(base_url: str, treaty_id: str) -> str:
    """The ViewDetails status page of a treaty (`chapter=` is the chapter's number, also for a
    sub-chapter's treaty: XI-A-16 is `chapter=11`)."""
    chapter = chapter_of(treaty_id)
    return (
        f"{base_url.rstrip('/')}/Pages/ViewDetails.aspx?src=TREATY"
        f"&mtdsg_no={quote(treaty_id)}&chapter={chapter}&clang=_en"
    )


def xml_url(base_url: str, treaty_id: str) -> str:
    """The MTDSG XML of a treaty (Volume I holds chapters I-XI, Volume II the rest; a
    sub-chapter's files are in their chapter's folder: Chapter%20XI/XI-A-16.en.xml)."""
    number = parse_treaty_id(treaty_id)
    volume = "I" if number.chapter <= 11 else "II"
    return (
        f"{base_url.rstrip('/')}/doc/Publication/MTDSG/Volume%20{volume}/"
        f"Chapter%20{number.roman}/{quote(treaty_id)}.en.xml"
    )


def index_url(base_url: str) -> str:
    """The list of chapters ("Status of Treaties")."""
    return f"{base_url.rstrip('/')}/Pages/ParticipationStatus.aspx?clang=_en"


def chapter_url(base_url: str, chapter: int, subchapter: str = "A") -> str:
    """The list of treaties of one chapter (`subid=A`, as the chapter list links it), or of one
    of its sub-chapters (chapter XI: `subid=A` to `subid=E`)."""
    if subchapter not in SUBCHAPTERS:
        raise ValueError(f"not a sub-chapter: {subchapter!r} (expected one of A-E)")
    return f"{base_url.rstrip('/')}/Pages/Treaties.aspx?id={chapter}&subid={subchapter}&clang=_en"


def _query(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    return {k.lower(): v[0] for k, v in parse_qs(parts.query).items()}


def catalogue_page_from_link(url: str) -> tuple[int, str] | None:
    """(chapter, sub-chapter) of a chapter-list link (Treaties.aspx?id=N&subid=X), else None.
    A link without `subid` is the chapter's first page, `A`."""
    if not urlsplit(url).path.lower().endswith("/treaties.aspx"):
        return None
    q = _query(url)
    value, sub = q.get("id", ""), q.get("subid", "A").upper()
    if not value.isdigit() or len(sub) != 1 or sub not in SUBCHAPTERS:
        return None
    return int(value), sub


def chapter_from_link(url: str) -> int | None:
    """The chapter number of a chapter-list link (Treaties.aspx?id=N...), else None."""
    found = catalogue_page_from_link(url)
    return found[0] if found else None


# The status page of a treaty is ViewDetails.aspx; the catalogue links some older treaties to
# the same page in another template (ViewDetailsIII.aspx?...&Temp=mtdsg3, ViewDetailsV.aspx).
_STATUS_PATH = re.compile(r"/viewdetails(?:ii|iii|iv|v)?\.aspx$")


def treaty_from_link(url: str) -> str | None:
    """The MTDSG number of a status-page link (ViewDetails.aspx?src=TREATY&mtdsg_no=...)."""
    if not _STATUS_PATH.search(urlsplit(url).path.lower()):
        return None
    q = _query(url)
    treaty = q.get("mtdsg_no", "")
    if q.get("src", "").upper() != "TREATY" or not TREATY_ID.match(treaty):
        return None
    return treaty
