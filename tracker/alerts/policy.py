"""Alert policy, pure: which events a subscription wants, retry backoff, digest times."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from db.vocabulary import ALERT_KINDS, OPT_IN_KINDS, SETTLED_EVENT_STATES

DIGEST_AT = time(7, 0)  # UTC: the daily digest goes out at this time
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)


@dataclass(frozen=True)
class EventFacts:
    """What a filter looks at in an event."""

    kind: str
    treaty: str | None
    iso3: str | None
    state: str
    baseline: bool = False


@dataclass(frozen=True)
class Filters:
    """A subscription's filters; an empty tuple means "all"."""

    treaties: Sequence[str] = ()
    countries: Sequence[str] = ()
    kinds: Sequence[str] = ()


def alertable(event: EventFacts) -> bool:
    """Only settled, new facts are sent: not suspicious or retracted, not a baseline's history."""
    return event.kind in ALERT_KINDS and event.state in SETTLED_EVENT_STATES and not event.baseline


def wants(filters: Filters, event: EventFacts) -> bool:
    """True if a subscription with `filters` should hear of `event`."""
    if not alertable(event):
        return False
    if filters.kinds and event.kind not in filters.kinds:
        return False
    if not filters.kinds and event.kind in OPT_IN_KINDS:
        return False
    if filters.treaties and event.treaty not in filters.treaties:
        return False
    if filters.countries and event.iso3 not in filters.countries:
        return False
    return True


def backoff(attempts: int) -> timedelta:
    """Wait before retry number `attempts` (1, 2, ...): 1 min, 2 min, 4 min ... capped at 6 h."""
    if attempts < 1:
        raise ValueError("attempts counts from 1")
    return min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_CAP)


def next_digest(now: datetime) -> datetime:
    """The next daily-digest time after `now` (aware, UTC)."""
    today = datetime.combine(now.date(), DIGEST_AT, now.tzinfo)
    return today if today > now else today + timedelta(days=1)
