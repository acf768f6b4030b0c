"""The end of a participant's act: an `Ending` with its dates, and which act each ending ended.

Standard library only. An ending's effective date may be printed (FOOTNOTE), follow from the
treaty's withdrawal clause (CLAUSE), be bounded by the sequence of pages (HISTORY), or not be
known at all (UNKNOWN). `ends_of` is the one rule for which ending ended which act, used by the
evaluation (tracker.domain.instruments) and the change events (tracker.domain.changes). The
endings are read from the footnotes by each source's grammar (tracker.domain.footnotes), through
tracker.domain.withdrawals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from tracker.domain.models import Action

# How an ending's effective date is known.
FOOTNOTE = "footnote"  # printed in the participant's footnote
CLAUSE = "clause"  # notification date from the footnote, delay from the treaty's clause
HISTORY = "history"  # bounds from the sequence of pages (last seen bound, first seen not)
UNKNOWN = "unknown"  # brackets and nothing else


@dataclass(frozen=True)
class Rejoined:
    """A new instrument a footnote gives after an ending (Trinidad and Tobago re-acceded to
    the Optional Protocol on 26 August 1998), not printed in the table."""

    participant: str
    kind: str  # "accession", "ratification" ...
    on: date
    words: str = ""


@dataclass(frozen=True)
class Ending:
    """One end of a participant's consent (or signature) to the treaty."""

    participant: str  # Participant.key
    kind: str  # "withdrawal" | "denunciation" | "revocation" | "superseded" (history)
    notified_on: date | None
    effective_on: date | None  # None: not known (see not_before / not_after)
    basis: str  # FOOTNOTE | CLAUSE | HISTORY | UNKNOWN
    words: str = ""  # the footnote sentence(s) it was read from
    not_before: date | None = None  # known still bound on this date
    not_after: date | None = None  # known no longer bound on this date
    column: str | None = None  # the column of the act it ended (None: the consent, as footnotes)

    @property
    def known(self) -> bool:
        return self.effective_on is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "notified_on": self.notified_on.isoformat() if self.notified_on else None,
            "effective_on": self.effective_on.isoformat() if self.effective_on else None,
            "basis": self.basis,
            "not_before": self.not_before.isoformat() if self.not_before else None,
            "not_after": self.not_after.isoformat() if self.not_after else None,
            **({"column": self.column} if self.column else {}),
        }


def ends_of(key: str, acts: Sequence[Action], endings: Sequence[Ending]) -> list[Ending | None]:
    """The ending of each of a participant's acts (`acts` oldest first; `key`: its key).

    An ending belongs to the latest act deposited before the day it is known by (its
    notification, its effect, or the first page without the act); one with no date at all is
    the brackets' own and goes to a bracketed act. A bracketed act left without one ended on a
    date not known, before the next act at the latest, as does an ending of unknown effect."""
    ends: list[Ending | None] = [None] * len(acts)
    for e in sorted(endings, key=_known_by):
        day = _known_by(e)
        fit = [k for k, a in enumerate(acts) if ends[k] is None and a.date < day]
        if day == date.max:
            fit = [k for k in fit if acts[k].withdrawn]
        if fit:
            ends[fit[-1]] = e
    for k, a in enumerate(acts):
        after = acts[k + 1].date if k + 1 < len(acts) else None
        ending = ends[k]
        if ending is None and a.withdrawn:
            ends[k] = Ending(key, "withdrawal", None, None, UNKNOWN, not_after=after)
        elif ending is not None and ending.effective_on is None and ending.not_after is None:
            ends[k] = replace(ending, not_after=after)
    return ends


def _known_by(e: Ending) -> date:
    """The day an ending is known by: its notification, its effect, or the first page without."""
    return e.notified_on or e.effective_on or e.not_after or date.max
