"""A treaty's derived history: its acts in print order, and the treaty on any legal date.

Standard library only. `TreatyHistory` (built by tracker.domain.history.derive) answers for one
act, one participant, every known ending, and `as_of(D)`: each participant's standing on D
(party, signatory, withdrawn, revoked, unknown ...) and the status to evaluate on D.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from tracker.domain.act_history import (
    COUNTS,
    ENDED,
    NOT_KNOWN,
    NOT_YET,
    REVOKED,
    REWRITTEN,
    WITHDRAWN,
    ActHistory,
    ActKey,
    Printed,
    last_printed_participants,
)
from tracker.domain.endings import Ending
from tracker.domain.models import Action, Column, Participant, TreatyStatus


@dataclass(frozen=True)
class ParticipantStanding:
    """One participant on a day: what it is, the act per column to show, every act so far."""

    participant: Participant  # one action per column: the one that counts, else the latest
    standing: str  # party | signatory | provisional | withdrawn | revoked | ended | unknown
    acts: tuple[tuple[ActHistory, str], ...]  # every act dated on or before the day, standing
    first_observed: Mapping[str, datetime | None]  # per column, of the act shown

    @property
    def signatory(self) -> bool:
        return any(a.column is Column.SIGNATURE and s == COUNTS for a, s in self.acts)

    @property
    def party(self) -> bool:
        return any(a.column is Column.CONSENT and s == COUNTS for a, s in self.acts)


@dataclass(frozen=True)
class AsOf:
    """The treaty on a legal date, from the whole history."""

    on: date
    status: TreatyStatus  # to evaluate: the latest page's header, every act, ended ones bracketed
    participants: tuple[ParticipantStanding, ...]
    endings: Mapping[str, tuple[Ending, ...]]
    warnings: tuple[str, ...]

    @property
    def signatories(self) -> int:
        return sum(1 for p in self.participants if p.signatory)

    @property
    def parties(self) -> int:
        return sum(1 for p in self.participants if p.party)

    @property
    def not_known(self) -> int:
        return sum(1 for p in self.participants if p.standing == NOT_KNOWN)


@dataclass(frozen=True)
class TreatyHistory:
    pages: tuple[Printed, ...]  # in print order
    acts: tuple[ActHistory, ...]
    _order: tuple[str, ...] = field(default=(), repr=False)  # participant keys, for answers

    @property
    def latest(self) -> Printed:
        return self.pages[-1]

    def act(self, key: ActKey) -> ActHistory | None:
        return next((a for a in self.acts if a.key == key), None)

    def of(self, participant: str) -> tuple[ActHistory, ...]:
        return tuple(a for a in self.acts if a.participant == participant)

    def endings(self, *, instruments: bool = False) -> dict[str, tuple[Ending, ...]]:
        """Every known end of every participant's acts (rewritten misprints have none), each
        naming the column of the act it ended (`Ending.column`). `instruments`: only the ends
        of instruments (a consent, or a definitive signature), the ones an entry-into-force
        evaluation may attach to an instrument: a signature's end is not a ratification's."""
        found: dict[str, list[Ending]] = {}
        for a in self.acts:
            if a.ending is None or a.ended_by == REWRITTEN:
                continue
            if instruments and not (a.column is Column.CONSENT or a.kind == "definitive_signature"):
                continue
            found.setdefault(a.participant, []).append(a.ending)
        return {k: tuple(v) for k, v in found.items()}

    def as_of(self, on: date) -> AsOf:
        """The participants, their standing and the status to evaluate on the legal date `on`."""
        latest = {p.key: p for p in self.latest.status.participants}
        last_seen = last_printed_participants(self.pages)
        standings: list[ParticipantStanding] = []
        evaluated: list[Participant] = []
        warnings: list[str] = []
        for key in self._order:
            acts = [a for a in self.of(key) if a.ended_by != REWRITTEN]
            row = latest.get(key) or last_seen[key]
            if acts:
                evaluated.append(replace(row, actions=tuple(_as_action(a, on) for a in acts)))
            dated = [(a, a.standing(on)) for a in acts if a.date <= on]
            if not dated:
                continue
            for a, s in dated:
                if s == NOT_KNOWN:
                    warnings.append(a.unknown_warning(on))
            shown = _shown(dated)
            observed: dict[str, datetime | None] = {c.value: None for c in Column}
            for a, _ in shown:
                observed[a.column.value] = a.first_observed
            view = replace(row, actions=tuple(_as_action(a, on) for a, _ in shown))
            standings.append(ParticipantStanding(view, _standing(dated), tuple(dated), observed))
        status = replace(self.latest.status, participants=tuple(evaluated))
        return AsOf(on, status, tuple(standings), self.endings(), tuple(warnings))


def _as_action(a: ActHistory, on: date) -> Action:
    """The act as a table cell on `on`: bracketed unless it counts (or is still to come)."""
    state = a.standing(on)
    withdrawn = state in (ENDED, NOT_KNOWN) or (state == NOT_YET and a.ended_by is not None)
    return Action(a.column, a.kind, a.date, a.letter, withdrawn)


def _shown(dated: list[tuple[ActHistory, str]]) -> list[tuple[ActHistory, str]]:
    """Per column, the act that counts (the latest such), else the latest act."""
    shown = []
    for column in Column:
        acts = [(a, s) for a, s in dated if a.column is column]
        if not acts:
            continue
        counting = [(a, s) for a, s in acts if s == COUNTS]
        shown.append(max(counting or acts, key=lambda x: x[0].date))
    return shown


def _standing(dated: list[tuple[ActHistory, str]]) -> str:
    for column, bound in ((Column.CONSENT, "party"), (Column.SIGNATURE, "signatory")):
        acts = [(a, s) for a, s in dated if a.column is column]
        if any(s == COUNTS for _, s in acts):
            return bound
        if any(s == NOT_KNOWN for _, s in acts):
            return NOT_KNOWN
        ended = [a for a, s in acts if s == ENDED]
        if ended:
            last = max(ended, key=lambda a: a.date)
            return {WITHDRAWN: "withdrawn", REVOKED: "revoked"}.get(last.ended_by or "", "ended")
    if any(a.column is Column.PROVISIONAL and s == COUNTS for a, s in dated):
        return "provisional"
    return "ended"
