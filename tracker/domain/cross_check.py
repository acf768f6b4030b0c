"""What the depositary prints about entry into force, and the cross-check of the computed answer.

Standard library only. `Printed` is the page's label ("Entry into force" / "Not yet in force"),
its printed date and its "status as at" day; `cross_check` says whether the computed answer
agrees with it on a day, and names both answers where they disagree.
"""

from __future__ import annotations

import datetime as dt  # `dt.date` where a field named `date` hides the type
from dataclasses import dataclass
from datetime import date

from tracker.domain.models import TreatyStatus


@dataclass(frozen=True)
class Printed:
    """What the depositary prints about entry into force, and the page's own date."""

    in_force: bool | None  # as printed (the parser reads it from its source's words; None: none)
    date: date | None  # the printed entry-into-force date
    label: str | None = None
    as_at: dt.date | None = None  # the page's "status as at" day (None: not printed)

    @classmethod
    def of(cls, status: TreatyStatus) -> Printed:
        as_at = status.status_as_at.date() if status.status_as_at else None
        return cls(status.in_force, status.eif_date, status.eif_label, as_at)

    def words(self) -> str:
        if self.date is not None:
            return self.date.isoformat()
        return " ".join((self.label or "").rstrip(": ").split()) or "nothing"


def cross_check(
    printed: Printed,
    computed: date | None,
    met: date | None,
    as_of: date | None,
    today: date | None = None,
) -> tuple[bool | None, str | None]:
    """Compare the computed answer with the printed one, as of `as_of` (None: the page's present).

    Disagreements: a printed date other than the computed one, or printed while the rule is not
    met; computed in force on the page's own day (its "status as at" stamp, else `as_of`, else
    `today`) where the page prints "Not yet in force"; printed in force while the rule is not
    met. A rule met whose entry into force is still to come on that day agrees with "Not yet in
    force": the treaty is not in force yet. A printed date after `as_of` says only that the
    treaty was not in force on `as_of`: it disagrees only with a computed date on or before
    `as_of`. A page dated before the day the rule was met (an operator's later confirmation)
    cannot disagree.
    """
    says = f"the depositary prints {printed.words()}"
    ours = (
        f"computed {computed.isoformat()}" if computed else "computed not in force (rule not met)"
    )
    if printed.date is not None:
        if as_of is not None and printed.date > as_of:
            if computed is not None and computed <= as_of:
                return False, f"{ours} (in force on {as_of.isoformat()}), {says}"
            return None, None
        if computed != printed.date:
            return False, f"{ours}, {says}"
        return True, None
    if printed.in_force is False:
        if printed.as_at is not None and met and met > printed.as_at:
            return None, None  # met after the page was printed: it could not know
        if computed is None:
            return True, None
        day = printed.as_at or as_of or today
        if day is not None and computed > day:
            return True, None  # met, its entry into force still to come on the page's day
        return False, f"{ours}, {says}"
    if printed.in_force:  # in force, no date printed: comparable only from the page's day on
        if as_of is not None and (printed.as_at is None or as_of < printed.as_at):
            return None, None
        day = printed.as_at or as_of
        if computed is None or (day is not None and computed > day):
            return False, f"{ours}, {says}"
        return True, None
    return None, None
