"""UNTC treaty ids (MTDSG numbers such as XXVI-9, XXVII-7-d): the check and the sort order."""

from __future__ import annotations

import re
from typing import Any

from tracker.sources.untc.urls import BadTreatyId, chapter_of, roman_to_int

__all__ = ["BadTreatyId", "check_id", "sort_key"]


def check_id(treaty_id: str) -> int:
    """The chapter of an MTDSG number; BadTreatyId (a ValueError) when it is not one."""
    return chapter_of(treaty_id)


def _roman(text: str) -> int | None:
    try:
        return roman_to_int(text)
    except ValueError:
        return None


def sort_key(treaty_id: str) -> tuple[Any, ...]:
    """Order MTDSG numbers by chapter (roman), then each numeric or textual part ("XXVI-9-a")."""
    head, _, rest = treaty_id.partition("-")
    chapter = _roman(head.upper())
    parts = tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[-.]", rest) if p
    )
    return (chapter is None, chapter or 0, head, parts)
