"""How old the depositary's own figures were when the tracker read them.

A page carries the depositary's "status as at" stamp (UNTC prints one; WIPO Lex none) and the
tracker knows when it observed the page. A page observed today may print a status of months
ago (a site that stopped updating, a cached copy upstream): shown side by side, with a note when
the gap is large, such data never looks current.

The rule: a note when the stamp is `STALE_AFTER` (30 days) or more before the observation;
the gap is told in days under 60 days, in whole calendar months under two years, else in years.
A stamp after the observation (a clock or time-zone slip) is no note.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

STALE_AFTER = timedelta(days=30)

__all__ = ["STALE_AFTER", "gap_words", "printed_note"]


def _moment(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _whole_months(earlier: date, later: date) -> int:
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (1 if later.day < earlier.day else 0)


def gap_words(earlier: date, later: date) -> str:
    """A gap in words: "45 days", "8 months", "2 years"."""
    days = (later - earlier).days
    if days < 60:
        return f"{days} day{'' if days == 1 else 's'}"
    months = _whole_months(earlier, later)
    if months < 24:
        return f"{months} months"
    return f"{months // 12} years"


def printed_note(
    status_as_at: str | datetime | None, observed_at: str | datetime | None
) -> str | None:
    """A note when the depositary's stamp is old at the observation ("printed as at 2025-04-01,
    8 months before it was observed"), else None (no stamp, or a recent one)."""
    printed, observed = _moment(status_as_at), _moment(observed_at)
    if printed is None or observed is None:
        return None
    if observed - printed < STALE_AFTER:
        return None
    words = gap_words(printed.date(), observed.date())
    return f"printed as at {printed.date().isoformat()}, {words} before it was observed"
