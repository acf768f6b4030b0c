"""Month names and dates as depositary texts print them (`7 July 2017`, `7 Jul. 2017`): the one
table of month names, a regular-expression alternation of them, and the day-month-year reading
every parser and domain reader uses. Pure, standard library only."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

MONTH_NAMES: tuple[str, ...] = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# The full names, lower case, for a regular expression (`(january|february|...)`).
MONTH_PATTERN = "|".join(MONTH_NAMES)
_FULL: dict[str, int] = {name: number for number, name in enumerate(MONTH_NAMES, 1)}
# Status pages also print three-letter abbreviations (and "Sept").
_ABBREVIATED: dict[str, int] = {name[:3]: number for name, number in _FULL.items()} | {"sept": 9}


@lru_cache(maxsize=512)  # pages print a dozen month names, thousands of times
def month_number(name: str, *, abbreviated: bool = False) -> int | None:
    """The month a name means, in any case (1-12), or None; `abbreviated`: `Jan`, `Sept` too."""
    key = name.casefold()
    found = _FULL.get(key)
    if found is None and abbreviated:
        found = _ABBREVIATED.get(key)
    return found


def make_date(day: str, month: str, year: str, *, abbreviated: bool = False) -> date | None:
    """The date printed as day, month name and year (digits), or None if there is no such day
    or no such month."""
    number = month_number(month, abbreviated=abbreviated)
    if number is None:
        return None
    try:
        return date(int(year), number, int(day))
    except ValueError:
        return None
