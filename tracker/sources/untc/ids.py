"""UNTC treaty ids (MTDSG numbers: XXVI-9, XXVII-7-d, III-2-2a, XI-A-16): the check and the order.

The forms and their grammar are in tracker.sources.untc.urls (TREATY_ID, FORMS).
"""

from __future__ import annotations

import re
from typing import Any

from tracker.sources.untc.urls import BadTreatyId, chapter_of, parse_treaty_id

__all__ = ["BadTreatyId", "check_id", "sort_key"]

_TOKEN = re.compile(r"\d+|[a-z]+")


def check_id(treaty_id: str) -> int:
    """The chapter of an MTDSG number; BadTreatyId (a ValueError naming the accepted forms)
    when it is not one."""
    return chapter_of(treaty_id)


def sort_key(treaty_id: str) -> tuple[Any, ...]:
    """The order of the depositary's own lists: by chapter (Roman, as a number), sub-chapter,
    number, then the part, numbers before letters and a bare number before its revisions:
    XI-A-2 < XI-A-16 < XI-B-1; III-2 < III-2-2 < III-2-2a < III-2-3; IV-11 < IV-11-a < IV-12.
    Anything that is not an MTDSG number sorts last, by its text."""
    try:
        number = parse_treaty_id(treaty_id)
    except BadTreatyId:
        return (1, 0, "", 0, (), treaty_id)
    part = tuple(
        (0, int(t), "") if t.isdigit() else (1, 0, t) for t in _TOKEN.findall(number.part or "")
    )
    return (0, number.chapter, number.subchapter or "", number.number, part, treaty_id)
