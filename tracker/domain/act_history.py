"""One act of a participant as the sequence of pages showed it, and a page as evidence of it.

Standard library only. An `ActHistory` keeps when its act was first printed and observed, last
printed without brackets, first printed in brackets or gone, what ended it (WITHDRAWN, REVOKED,
SUPERSEDED, REWRITTEN) and its `Ending`; `standing(on)` says whether it counts on a legal date.
`with_bounds` gives an end the pages date only by bounds (basis HISTORY). The derivation of every
act from the pages is tracker.domain.history; the treaty on a date, tracker.domain.treaty_history.
"""

from __future__ import annotations

import datetime as dt  # `dt.date` where a field named `date` hides the type
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from tracker.domain.endings import HISTORY, Ending
from tracker.domain.models import Column, Participant, TreatyStatus

# A legal act of a participant: (participant key, column, kind, legal date).
ActKey = tuple[str, str, str, date]

# What ended an act.
WITHDRAWN = "withdrawn"
REVOKED = "revoked"
SUPERSEDED = "superseded"
REWRITTEN = "rewritten"

# An act's standing on a day.
NOT_YET = "not_yet"  # its legal date is after the day
COUNTS = "counts"
ENDED = "ended"
NOT_KNOWN = "unknown"
NEVER = "never"  # a misprint the depositary rewrote: it never counts


@dataclass(frozen=True)
class Printed:
    """One accepted page as evidence: its status, when it was observed, its snapshot."""

    status: TreatyStatus
    observed_at: datetime
    snapshot_id: int | None = None
    digest: str = ""  # its content hash, where known (computed when not)

    @property
    def content(self) -> str:
        return self.digest or self.status.content_hash()

    @property
    def printed_at(self) -> datetime:
        """The page's own "status as at" stamp, or else when it was observed."""
        return self.status.status_as_at or self.observed_at


@dataclass(frozen=True)
class ActHistory:
    """One act as the sequence of pages showed it."""

    participant: str  # Participant.key
    name: str  # as printed on the last page showing it
    iso3: str | None
    column: Column
    kind: str
    date: date
    letter: str
    first_printed: datetime
    first_observed: datetime
    last_printed: datetime  # the last page showing it, bracketed or not
    last_unbracketed: datetime | None  # None: never printed without brackets
    first_bracketed: datetime | None  # the first page printing it in brackets since then
    first_gone: datetime | None  # the first page no longer showing it (None: still shown)
    ended_by: str | None = None  # WITHDRAWN | REVOKED | SUPERSEDED | REWRITTEN | None
    ending: Ending | None = None
    successor: ActKey | None = None  # the act that superseded or rewrote it
    confirmed: bool = True  # False: an end inferred from one page's absence alone
    source: str = "table"  # "table", or "footnote" (a re-accession only a footnote gives)

    @property
    def key(self) -> ActKey:
        return (self.participant, self.column.value, self.kind, self.date)

    def standing(self, on: dt.date) -> str:
        """NOT_YET, COUNTS, ENDED, NOT_KNOWN or NEVER on the legal date `on`."""
        if self.ended_by == REWRITTEN:
            return NEVER
        if self.date > on:
            return NOT_YET
        end = self.ending
        if end is None:
            return COUNTS
        if end.effective_on is not None:
            return COUNTS if on < end.effective_on else ENDED
        if end.not_before is not None and on <= end.not_before:
            return COUNTS
        if end.not_after is not None and on >= end.not_after and self.confirmed:
            return ENDED
        return NOT_KNOWN

    def unknown_warning(self, on: dt.date) -> str:
        what = f"{self.name}: {self.kind.replace('_', ' ')} of {self.date.isoformat()}"
        end = self.ending
        low = end.not_before if end and end.not_before else self.date
        high = end.not_after if end else None
        if not self.confirmed and high is not None and on >= high:
            return (
                f"{what} is gone from the page printed {high.isoformat()} only (not yet confirmed "
                f"by a second page); its standing on {on.isoformat()} is not known"
            )
        upper = high.isoformat() if high else "now"
        return (
            f"{what} ended between {low.isoformat()} and {upper}; its standing on "
            f"{on.isoformat()} is not known"
        )

    def to_dict(self) -> dict[str, object]:
        def iso(v: date | datetime | None) -> str | None:
            return v.isoformat() if v is not None else None

        return {
            "column": self.column.value,
            "kind": self.kind,
            "date": self.date.isoformat(),
            "letter": self.letter,
            "source": self.source,
            "first_printed": iso(self.first_printed),
            "first_observed": iso(self.first_observed),
            "last_printed": iso(self.last_printed),
            "last_unbracketed": iso(self.last_unbracketed),
            "first_bracketed": iso(self.first_bracketed),
            "first_gone": iso(self.first_gone),
            "ended_by": self.ended_by,
            "ending": self.ending.to_dict() if self.ending else None,
            "successor": list(_iso_key(self.successor)) if self.successor else None,
            "confirmed": self.confirmed,
        }


def _iso_key(key: ActKey) -> tuple[str, str, str, str]:
    return (key[0], key[1], key[2], key[3].isoformat())


def order_pages(pages: Iterable[Printed]) -> list[Printed]:
    """Pages by print time; pages printed at the same time in a fixed order (their content)."""
    return sorted(pages, key=lambda p: (p.printed_at, p.content, p.observed_at))


def last_printed_participants(pages: Sequence[Printed]) -> dict[str, Participant]:
    found: dict[str, Participant] = {}
    for page in pages:
        for p in page.status.participants:
            found[p.key] = p
    return found


def day_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date() if moment.tzinfo else moment.date()


def with_bounds(
    a: ActHistory,
    pages: Sequence[Printed],
    confirmed_gone: set[ActKey],
    confirm_after: timedelta,
    still_bound: Mapping[ActKey, date | None] | None = None,
) -> ActHistory:
    """The act with an Ending of basis HISTORY: the bounds the pages give (`still_bound`: for a
    superseded act, the last day a page printed before its successor's date showed it)."""
    if a.ended_by == WITHDRAWN:
        not_before = day_of(a.last_unbracketed) if a.last_unbracketed else None
        high = a.first_bracketed or a.first_gone
        not_after = day_of(high) if high else None
        kind, confirmed = "withdrawal", True
    elif a.ended_by == SUPERSEDED:
        successor = a.successor
        not_before = day_of(a.last_printed)
        if still_bound is not None and a.key in still_bound:
            not_before = still_bound[a.key]
        not_after = successor[3] if successor else (day_of(a.first_gone) if a.first_gone else None)
        kind, confirmed = "superseded", True
    else:  # REVOKED: gone, not replaced
        not_before = day_of(a.last_printed)
        not_after = day_of(a.first_gone) if a.first_gone else None
        kind = "revocation"
        later = [p.printed_at for p in pages if a.first_gone and p.printed_at >= a.first_gone]
        confirmed = a.key in confirmed_gone or (
            len(later) >= 2 and max(later) - min(later) >= confirm_after
        )
    ending = Ending(
        participant=a.participant,
        kind=kind,
        notified_on=None,
        effective_on=None,
        basis=HISTORY,
        not_before=not_before,
        not_after=not_after,
        column=a.column.value,
    )
    return replace(a, ending=ending, confirmed=confirmed)
