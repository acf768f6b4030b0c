"""A moment of knowledge, "what we knew on T", read from an ISO date or a zoned date-time.

Standard library only (the `--known-at` of `tracker status` and the API's `known_at`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT = re.compile(r"(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2})(?::(\d{2})(?:\.(\d+))?)?")
_ZONE = re.compile(r"([Zz]|[+-]\d{2}:?\d{2})")


def since_moment(text: str) -> datetime:
    """Read "since T" (`tracker history --since`): an ISO date (the start of that day, UTC) or
    a zoned date-time as `known_at_moment` reads it. ValueError for anything else."""
    value = text.strip()
    if _DATE.fullmatch(value):
        return datetime.combine(date.fromisoformat(value), time.min, UTC)
    return known_at_moment(value)


def known_at_moment(text: str) -> datetime:
    """Read "what we knew on T": an ISO date (the end of that day, UTC) or an ISO date-time
    with its zone (Z or an offset), returned in UTC (beyond the calendar's ends: its first or
    last instant). ValueError for anything else, a date-time without a zone included (which
    moment it means would be a guess)."""
    value = text.strip()
    if _DATE.fullmatch(value):
        return datetime.combine(date.fromisoformat(value), time.max, UTC)
    moment = _MOMENT.match(value)
    if moment is None:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or a date-time (YYYY-MM-DDTHH:MM)")
    zone = value[moment.end() :]
    if not zone:
        raise ValueError(f"{text!r} has no time zone (write e.g. {value}Z, or a date alone)")
    if not _ZONE.fullmatch(zone):
        raise ValueError(f"{text!r}: {zone!r} is not a time zone (Z or +HH:MM)")
    head, seconds, fraction = moment.groups()
    seconds = min(seconds or "00", "59")  # a leap second is the last second of its minute
    stamp = f"{head}:{seconds}.{(fraction or '0')[:6].ljust(6, '0')}"
    parsed = datetime.fromisoformat(stamp + ("+00:00" if zone in "Zz" else zone))
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+05:00 is before year 1 in UTC
        return (datetime.min if parsed.year == 1 else datetime.max).replace(tzinfo=UTC)
