"""The instruments that count towards a rule, and when each one counts.

Standard library only. An `Instrument` is one deposit of a kind the rule counts, from a
participant the rule lets count (States only, a group's members, an organization or not), or a
predecessor's instrument told in its successors' footnotes; each carries the withdrawal that
ended it (tracker.domain.endings), and `counts_on(day)` says whether it counts on a day.
"""

from __future__ import annotations

import datetime as dt  # `dt.date` where a field named `date` hides the type
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tracker.domain.endings import Ending, ends_of
from tracker.domain.models import Column, Participant, TreatyStatus
from tracker.domain.rules import STATES, Group, Reio, Rule
from tracker.domain.successions import PredecessorInstrument, Successions


@dataclass(frozen=True)
class Instrument:
    """One deposit that counts towards the rule (a predecessor's, where `via` names it)."""

    participant: str  # Participant.key, or "predecessor:<name>"
    name: str
    iso3: str | None
    kind: str
    date: date
    withdrawn: bool = False
    via: str | None = None
    successors: tuple[str, ...] = ()  # for a predecessor's instrument: the keys of its successors
    ending: Ending | None = None  # the withdrawal that ended it, if one did or is due

    @property
    def ended_on(self) -> dt.date | None:
        """The day it stopped counting (its withdrawal took effect), where known."""
        return self.ending.effective_on if self.ending else None

    @property
    def end_unknown(self) -> bool:
        """Ended (or ending) on a date nobody has printed."""
        return self.ending is not None and self.ending.effective_on is None

    def counts_on(self, day: dt.date, *, sure: bool = True) -> bool:
        """True if it counts on `day`: deposited by then and not yet withdrawn. For an end of
        unknown date, `sure` counts it only where the history shows it still in force, and
        otherwise wherever it is not known to have ended."""
        if self.date > day:
            return False
        if self.ending is None:
            return True
        if self.ending.effective_on is not None:
            return day < self.ending.effective_on
        if sure:  # bound until the history says so, and before any notification of its end
            bound = self.ending.not_before
            if self.ending.notified_on is not None:
                before = self.ending.notified_on - timedelta(days=1)
                bound = before if bound is None else max(bound, before)
            return bound is not None and day <= bound
        return self.ending.not_after is None or day < self.ending.not_after

    @property
    def members(self) -> tuple[str, ...]:
        """The participants this instrument stands for (itself, or a predecessor's successors)."""
        return self.successors if self.via else ((self.iso3,) if self.iso3 else ())

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "participant": self.name,
            "iso3": self.iso3,
            "kind": self.kind,
            "date": self.date.isoformat(),
        }
        if self.withdrawn:
            d["withdrawn"] = True
        if self.ending is not None:
            d["withdrawal"] = self.ending.to_dict()
        if self.via:
            d["predecessor_of"] = self.via
        return d


def counts_reio(rule: Rule, participant: Participant) -> bool:
    return _counts_who(rule, participant) and (not participant.reio or rule.reio is Reio.AS_STATE)


def _counts_who(rule: Rule, participant: Participant) -> bool:
    """Whether the rule's restriction on who counts (`only`) lets this participant's count."""
    if rule.only == STATES:
        return not participant.reio
    if isinstance(rule.only, Group):
        return participant.iso3 in rule.only.participants
    return True


def own_instruments(rule: Rule, p: Participant, endings: Sequence[Ending]) -> list[Instrument]:
    """The participant's consent acts of a counted kind, each with the ending that ended it.

    Each act counts during its own lifetime: a re-accession after a withdrawal counts again from
    its own date. An ending belongs to the latest act deposited before it; a bracketed act left
    without one ended on a date not known (before the next act, where there is one). Endings of
    other columns (a signature gone) end no instrument."""
    acts = sorted(
        (
            a
            for a in p.actions
            if a.kind in rule.counts
            and (a.column is Column.CONSENT or a.kind == "definitive_signature")
        ),
        key=lambda a: a.date,
    )
    columns = {None, Column.CONSENT.value}
    if any(a.column is Column.SIGNATURE for a in acts):  # a definitive signature is an instrument
        columns.add(Column.SIGNATURE.value)
    ends = ends_of(p.key, acts, [e for e in endings if e.column in columns])
    return [
        Instrument(p.key, p.name, p.iso3, a.kind, a.date, a.withdrawn, ending=ending)
        for a, ending in zip(acts, ends, strict=True)
    ]


def predecessor_instrument(pred: PredecessorInstrument) -> Instrument:
    """A predecessor's instrument told in its successors' footnotes, standing for them."""
    return Instrument(
        "predecessor:" + pred.predecessor,
        pred.predecessor,
        None,
        pred.kind,
        pred.date,
        via=", ".join(pred.successors),
        successors=pred.successors,
    )


def qualifying_instruments(
    rule: Rule,
    status: TreatyStatus,
    successions: Successions,
    endings: Mapping[str, Sequence[Ending]],
) -> list[Instrument]:
    """Every instrument that counts, oldest first: the rows' own and their predecessors', each
    with the withdrawal that ended it (`endings`: per participant key, as
    tracker.domain.withdrawals.read_withdrawals reads them)."""
    found: list[Instrument] = []
    for p in status.participants:
        if not counts_reio(rule, p):
            continue
        consent = p.consent
        if consent is not None and consent.kind == "succession" and successions.covered(p.key):
            continue  # the predecessor's instrument is what counted
        found.extend(own_instruments(rule, p, endings.get(p.key, ())))
    for pred in successions.instruments:
        if isinstance(rule.only, Group) and not set(pred.successors) <= set(rule.only.participants):
            continue  # a predecessor counts for a group only if all its successors are members
        if pred.kind in rule.counts:
            found.append(predecessor_instrument(pred))
    return sorted(found, key=lambda i: (i.date, i.name))
