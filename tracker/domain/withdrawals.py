"""When a participant stopped being bound: withdrawals and denunciations, with their dates.

Pure, stdlib only. The depositary prints a withdrawn instrument in [brackets] with its original
date; the withdrawal's own dates are in the participant's footnote ("On 27 June 2025, the
Government of ... deposited ... a notification of withdrawal ... The withdrawal took effect ... on
27 December 2025"), or follow from the treaty's withdrawal clause ("six months after receipt"),
or are not known at all: then an `Ending` says so (effective_on None) and carries the bounds the
history can give (still bound on `not_before`, no longer on `not_after`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from tracker.domain.models import TreatyStatus
from tracker.domain.rules import Delay

# How an ending's effective date is known.
FOOTNOTE = "footnote"  # printed in the participant's footnote
CLAUSE = "clause"  # notification date from the footnote, delay from the treaty's clause
HISTORY = "history"  # bounds from the sequence of pages (last seen bound, first seen not)
UNKNOWN = "unknown"  # brackets and nothing else


@dataclass(frozen=True)
class Ending:
    """One end of a participant's consent (or signature) to the treaty."""

    participant: str  # Participant.key
    kind: str  # "withdrawal" | "denunciation" | "revocation"
    notified_on: date | None
    effective_on: date | None  # None: not known (see not_before / not_after)
    basis: str  # FOOTNOTE | CLAUSE | HISTORY | UNKNOWN
    words: str = ""  # the footnote sentence(s) it was read from
    not_before: date | None = None  # known still bound on this date
    not_after: date | None = None  # known no longer bound on this date

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
        }


@dataclass(frozen=True)
class Rejoined:
    """A new instrument the footnote gives after an ending (Trinidad and Tobago re-acceded to
    the Optional Protocol on 26 August 1998), not printed in the table."""

    participant: str
    kind: str  # "accession", "ratification" ...
    on: date
    words: str = ""


@dataclass(frozen=True)
class Withdrawals:
    """What the footnotes of one status say about withdrawals, per participant key."""

    endings: Mapping[str, Sequence[Ending]]
    rejoined: Mapping[str, Sequence[Rejoined]]


def read_withdrawals(status: TreatyStatus, clause: Delay | None = None) -> Withdrawals:
    """Read every participant's withdrawals from its footnotes (`clause`: the treaty's delay
    from notification to effect, for a footnote that gives the notification date only).

    A participant with a bracketed consent and no readable footnote gets an Ending with
    basis UNKNOWN. Withdrawals of reservations or declarations are not endings."""
    return Withdrawals({}, {})
