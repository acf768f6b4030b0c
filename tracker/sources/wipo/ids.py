"""WIPO Lex treaty ids: WIPO's own `treaty_id` (digits, e.g. 843 for Marrakesh), the check and
the order (numeric: 2 before 15 before 843)."""

from __future__ import annotations

import re

_TREATY_ID = re.compile(r"^[1-9][0-9]{0,5}$")


class BadTreatyId(ValueError):
    """Not a WIPO Lex treaty_id."""


def check_id(treaty_id: str) -> int:
    """The number of a WIPO Lex treaty_id; BadTreatyId (a ValueError) when it is not one."""
    if not isinstance(treaty_id, str) or not _TREATY_ID.match(treaty_id):
        raise BadTreatyId(
            f"not a WIPO Lex treaty id: {treaty_id!r} (expected WIPO's treaty_id, digits, "
            "e.g. 843; its public form is WIPO-843)"
        )
    return int(treaty_id)


def sort_key(treaty_id: str) -> tuple[int, int, str]:
    """Numeric order; anything else after every number, by its text."""
    return (0, int(treaty_id), "") if treaty_id.isdigit() else (1, 0, treaty_id)
