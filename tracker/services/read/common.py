"""What every read module shares: the answer to an unknown treaty, and dates as answered."""

from __future__ import annotations

from datetime import date, datetime


class NotFound(LookupError):
    """No treaty (or no accepted snapshot of it) under that id."""


def iso_or_none(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
