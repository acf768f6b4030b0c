"""UNTC addresses: build and recognise the depositary's own URLs (pure, no I/O)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlsplit

ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
TREATY_ID = re.compile(r"^(?P<chapter>[IVXL]+)-\d+[A-Za-z0-9-]*$")


class BadTreatyId(ValueError):
    """Not an MTDSG number such as XXVI-9 or XXVII-7-d."""


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


def chapter_of(treaty_id: str) -> int:
    """Return the chapter number of an MTDSG treaty id ("XXVI-9" -> 26)."""
    m = TREATY_ID.match(treaty_id)
    if not m:
        raise BadTreatyId(f"not an MTDSG treaty number: {treaty_id!r} (expected e.g. XXVI-9)")
    return roman_to_int(m.group("chapter"))


def status_page_url(base_url: str, treaty_id: str) -> str:
    """The ViewDetails status page of a treaty."""
    chapter = chapter_of(treaty_id)
    return (
        f"{base_url.rstrip('/')}/Pages/ViewDetails.aspx?src=TREATY"
        f"&mtdsg_no={quote(treaty_id)}&chapter={chapter}&clang=_en"
    )


def xml_url(base_url: str, treaty_id: str) -> str:
    """The MTDSG XML of a treaty (Volume I holds chapters I-XI, Volume II the rest)."""
    chapter_roman = treaty_id.split("-", 1)[0]
    volume = "I" if chapter_of(treaty_id) <= 11 else "II"
    return (
        f"{base_url.rstrip('/')}/doc/Publication/MTDSG/Volume%20{volume}/"
        f"Chapter%20{chapter_roman}/{quote(treaty_id)}.en.xml"
    )


def index_url(base_url: str) -> str:
    """The list of chapters ("Status of Treaties")."""
    return f"{base_url.rstrip('/')}/Pages/ParticipationStatus.aspx?clang=_en"


def chapter_url(base_url: str, chapter: int) -> str:
    """The list of treaties of one chapter."""
    return f"{base_url.rstrip('/')}/Pages/Treaties.aspx?id={chapter}&subid=A&clang=_en"


def _query(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    return {k.lower(): v[0] for k, v in parse_qs(parts.query).items()}


def chapter_from_link(url: str) -> int | None:
    """The chapter number of a chapter-list link (Treaties.aspx?id=N...), else None."""
    if not urlsplit(url).path.lower().endswith("/treaties.aspx"):
        return None
    value = _query(url).get("id", "")
    return int(value) if value.isdigit() else None


def treaty_from_link(url: str) -> str | None:
    """The MTDSG number of a status-page link (ViewDetails.aspx?src=TREATY&mtdsg_no=...)."""
    if not urlsplit(url).path.lower().endswith("/viewdetails.aspx"):
        return None
    q = _query(url)
    treaty = q.get("mtdsg_no", "")
    if q.get("src", "").upper() != "TREATY" or not TREATY_ID.match(treaty):
        return None
    return treaty
