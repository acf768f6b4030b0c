"""When a participant stopped being bound: withdrawals and denunciations, with their dates.

Pure, stdlib only. A depositary prints a withdrawn instrument marked as such (UNTC: in
[brackets], `Action.withdrawn`) with its original date; the withdrawal's own dates are told in
the participant's footnotes, in the source's own words (its `FootnoteGrammar`, e.g.
tracker.sources.untc.footnotes), or follow from the treaty's withdrawal clause ("six months after
receipt"), or are not known at all: then an `Ending` says so (effective_on None) and carries the
bounds the history can give (still bound on `not_before`, no longer on `not_after`).

Here: which of what the grammar reads concerns the printed instruments (`read_withdrawals`, with
the re-accessions a footnote gives). The `Ending` itself, and which act it ended, is
tracker.domain.endings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from tracker.domain.delays import Delay
from tracker.domain.endings import CLAUSE, UNKNOWN, Ending, Rejoined
from tracker.domain.footnotes import FootnoteGrammar
from tracker.domain.models import Column, Participant, TreatyStatus


@dataclass(frozen=True)
class Withdrawals:
    """What the footnotes of one status say about withdrawals, per participant key."""

    endings: Mapping[str, Sequence[Ending]]
    rejoined: Mapping[str, Sequence[Rejoined]]


def read_withdrawals(
    status: TreatyStatus, footnotes: FootnoteGrammar, clause: Delay | None = None
) -> Withdrawals:
    """Read every participant's withdrawals from its footnotes with the source's grammar
    (`clause`: the treaty's delay from notification to effect, for a footnote that gives the
    notification date only).

    A participant with a withdrawn (bracketed) consent and no readable footnote gets an Ending
    with basis UNKNOWN. Withdrawals of reservations or declarations are not endings."""
    notes = {f.ref: f.text for f in status.footnotes}
    endings: dict[str, tuple[Ending, ...]] = {}
    rejoined: dict[str, tuple[Rejoined, ...]] = {}
    for p in status.participants:
        texts = [notes[r] for r in p.footnotes if r in notes]
        read, again = footnotes.endings(p, texts)
        found = _applicable(p, [_dated_by(e, clause) for e in read])
        if found:
            endings[p.key] = tuple(found)
        if again:
            rejoined[p.key] = tuple(again)
    return Withdrawals(endings, rejoined)


def _dated_by(e: Ending, clause: Delay | None) -> Ending:
    """An ending the words do not date, dated from its notification by the treaty's clause."""
    if e.effective_on is None and e.notified_on is not None and clause is not None:
        return replace(e, effective_on=clause.apply(e.notified_on), basis=CLAUSE)
    return e


def _applicable(p: Participant, read: list[Ending]) -> list[Ending]:
    """The endings that concern the participant's printed instruments, oldest first.

    Repeats are dropped; an announcement without any date counts only when nothing dated is
    known. On a row printed without brackets the depositary still lists the instrument as in
    force, so only a dated ending after its latest consent counts there (a withdrawal not yet in
    effect, or one the page has not caught up with); an earlier one ended an instrument the row
    no longer shows (a re-accession is printed instead). A bracketed row always has an ending,
    of unknown date if nothing better can be read."""
    unique: list[Ending] = []
    for e in read:
        if not any((e.kind, e.notified_on, e.effective_on) == (u.kind, u.notified_on,
                   u.effective_on) for u in unique):  # fmt: skip
            unique.append(e)
    dated = [e for e in unique if e.notified_on or e.effective_on]
    undated = [e for e in unique if not (e.notified_on or e.effective_on)]
    if not _bracketed(p):
        latest = max((a.date for a in p.actions if a.column is Column.CONSENT), default=None)
        return [
            e
            for e in dated
            if e.effective_on and (latest is None or (e.notified_on or e.effective_on) > latest)
        ]
    if dated:
        return sorted(dated, key=lambda e: e.notified_on or e.effective_on or date.min)
    words = " ".join(e.words for e in undated)
    kind = undated[0].kind if undated else "withdrawal"
    return [Ending(p.key, kind, None, None, UNKNOWN, words[:600])]


def _bracketed(p: Participant) -> bool:
    """True when the participant's consent (or, lacking one, its signature) is bracketed."""
    consent = [a for a in p.actions if a.column is Column.CONSENT]
    return any(a.withdrawn for a in consent or p.actions)
