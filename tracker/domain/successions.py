"""Predecessor States' own instruments, read from the footnotes of their successors' rows.

A depositary may list today's States only; when one succeeded a predecessor (Czechoslovakia, the
former Yugoslavia, the German Democratic Republic ...), the predecessor's earlier instrument is
told in a footnote, in the source's own words: its `FootnoteGrammar` reads them (UNTC's:
tracker.sources.untc.footnotes); here they become instruments, shared by every successor whose
row carries them, or a succession the footnotes do not explain. Pure and standard library only:
a TreatyStatus and a grammar in, Successions out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from tracker.domain.footnotes import FootnoteGrammar
from tracker.domain.models import Column, Participant, TreatyStatus


@dataclass(frozen=True)
class PredecessorInstrument:
    """A predecessor State's own instrument, as a footnote on its successors' rows tells it."""

    predecessor: str  # normalized: "Czechoslovakia", "Yugoslavia", "German Democratic Republic"
    kind: str  # "ratification" | "accession" | "acceptance" | "approval" | "succession"
    date: date
    footnote: str  # the footnote ref it was read from (the first, when several say the same)
    successors: tuple[str, ...]  # Participant.key of every row carrying such a footnote (sorted)


@dataclass(frozen=True)
class UnreadableSuccession:
    """A succession whose predecessor's instrument the footnotes do not give (or give twice)."""

    participant: str  # Participant.key
    name: str  # printed name
    date: date  # the date of its succession action
    reason: str


@dataclass(frozen=True)
class Successions:
    instruments: tuple[PredecessorInstrument, ...]
    unreadable: tuple[UnreadableSuccession, ...]

    def covered(self, participant_key: str) -> bool:
        """True if some predecessor instrument lists the participant among its successors."""
        return any(participant_key in i.successors for i in self.instruments)


def _succession_date(p: Participant) -> date | None:
    dates = [a.date for a in p.actions if a.column is Column.CONSENT and a.kind == "succession"]
    return min(dates) if dates else None


def predecessor_instruments(status: TreatyStatus, footnotes: FootnoteGrammar) -> Successions:
    """Read every predecessor instrument told in footnotes attached to participant rows, with
    the source's grammar."""
    texts = {f.ref: f.text for f in status.footnotes}
    carriers: dict[str, list[Participant]] = defaultdict(list)
    for p in status.participants:
        for ref in dict.fromkeys(p.footnotes):
            carriers[ref].append(p)
    # predecessor -> {(kind, date): [refs]}, in page order of footnote refs.
    readings: dict[str, dict[tuple[str, date], list[str]]] = defaultdict(lambda: defaultdict(list))
    for ref, rows in carriers.items():
        if ref not in texts:
            continue
        own = frozenset(" ".join(p.name.casefold().split()) for p in rows)
        for predecessor, kind, when in footnotes.predecessors(texts[ref], own):
            readings[predecessor][(kind, when)].append(ref)

    instruments: list[PredecessorInstrument] = []
    disputed: dict[str, str] = {}  # participant key -> predecessor its footnotes disagree on
    for predecessor, by_value in sorted(readings.items()):
        refs = [r for rs in by_value.values() for r in rs]
        keys = sorted({p.key for r in refs for p in carriers[r]})
        if len(by_value) > 1:
            for key in keys:
                disputed.setdefault(key, predecessor)
            continue
        (kind, when), value_refs = next(iter(by_value.items()))
        found = PredecessorInstrument(predecessor, kind, when, value_refs[0], tuple(keys))
        instruments.append(found)

    result = Successions(tuple(instruments), ())
    unreadable: list[UnreadableSuccession] = []
    for p in status.participants:
        succeeded = _succession_date(p)
        if succeeded is None:
            continue
        if p.key in disputed:
            reason = f"footnotes disagree on {disputed[p.key]}'s instrument"
        elif result.covered(p.key):
            continue
        elif not p.footnotes:
            reason = "no footnote on its row"
        else:
            reason = "no footnote gives the predecessor's instrument"
        unreadable.append(UnreadableSuccession(p.key, p.name, succeeded, reason))
    return Successions(tuple(instruments), tuple(unreadable))
