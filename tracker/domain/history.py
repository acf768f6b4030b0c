"""Each participant's action history, derived from every accepted page of one treaty.

Pure, stdlib only. A page is evidence of what the depositary printed when it printed it: its
"status as at" stamp, or, lacking one, when it was observed. The pages are ordered by that
print time (never by when they were ingested), so the derivation is the same whatever order
the pages were observed in. The pages themselves are kept as they are.

For every act (participant, column, kind, legal date) any page showed, the history keeps when
it was first printed and first observed, when it was last printed without brackets, when it
was first printed in brackets or first missing, and what ended it:

- `WITHDRAWN`: printed in [brackets] (its dates from the footnotes, read by
  `tracker.domain.withdrawals.read_withdrawals`, where they give them);
- `REVOKED`: gone from the later pages, not replaced (a de-ratification; the dates from the
  footnotes where they give them);
- `SUPERSEDED`: replaced by a new act of the same participant in the same column whose legal
  date is later than the day the old one was first printed (a re-accession: the old act was
  printed before the new one happened, so it cannot be its misprint; a page printed after the
  new act's date that still shows the old one may lag, and proves nothing about it);
- `REWRITTEN`: replaced by a row the later page prints instead, dated on or before the day the
  old one was first printed: the earlier pages misprinted it; the rewrite counts in its place,
  from its own date, and the misprint never counts.

An act counts on D if its legal date is on or before D and it had not ended on D. Where the end
has no known date, its `Ending` (basis HISTORY) carries the bounds the pages give: still shown
bound on `not_before` (the last page showing it), shown ended on `not_after` (the first page
showing it bracketed or gone, or the successor's own date). For a D inside that window the act's
standing is not known: it is not counted, and a warning says so. An end inferred from an absence
alone is not taken for an end until a second page (at least `confirm_after` later) or a confirmed
absence event shows it too: until then its standing after the last page showing it is unknown.

The act itself (`ActHistory`, its standing on a day, the bounds of an undated end) is
tracker.domain.act_history; the result, and the treaty on a legal date, is
tracker.domain.treaty_history.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import partial

from tracker.domain.act_history import (
    REVOKED,
    REWRITTEN,
    SUPERSEDED,
    WITHDRAWN,
    ActHistory,
    ActKey,
    Printed,
    day_of,
    last_printed_participants,
    order_pages,
    with_bounds,
)
from tracker.domain.delays import Delay
from tracker.domain.endings import Ending
from tracker.domain.footnotes import FootnoteGrammar
from tracker.domain.models import Action, Column, Participant, TreatyStatus
from tracker.domain.treaty_history import TreatyHistory
from tracker.domain.withdrawals import Withdrawals, read_withdrawals

Reader = Callable[[TreatyStatus], Withdrawals]


@dataclass
class _Trace:
    """What the pages showed of one act, while deriving."""

    participant: Participant
    action: Action
    shown: list[int] = field(default_factory=list)  # page indexes
    bracketed: dict[int, bool] = field(default_factory=dict)


def _matching_ending(
    act: ActHistory, endings: Sequence[Ending], used: set[int], later: date | None
) -> Ending | None:
    """The footnotes' ending of this act: the earliest unused one dated on or after it (and
    before the participant's next act in the column), whose dates the footnotes give."""
    for i, e in enumerate(endings):
        when = e.effective_on or e.notified_on
        if i in used or when is None:  # a notification alone (basis UNKNOWN) is kept
            continue
        if when >= act.date and (later is None or when <= later):
            used.add(i)
            return e
    return None


def derive(
    pages: Iterable[Printed],
    *,
    footnotes: FootnoteGrammar,
    read: Reader | None = None,
    withdrawal: Delay | None = None,
    confirmed_gone: Collection[ActKey] = (),
    confirm_after: timedelta,
) -> TreatyHistory:
    """Derive every participant's action history from the accepted pages of one treaty.

    `read` reads a page's withdrawals from its footnotes (default: `read_withdrawals` with the
    source's grammar `footnotes` and the treaty's `withdrawal` clause, the delay from a
    notification to its effect, as the latest answer reads them); `confirmed_gone`: acts whose absence a second observation confirmed (the
    absence events, which a page unchanged in content leaves without a snapshot of its own)."""
    if read is None:
        read = partial(read_withdrawals, footnotes=footnotes, clause=withdrawal)
    ordered = order_pages(pages)
    if not ordered:
        raise ValueError("no page to derive a history from")
    traces: dict[ActKey, _Trace] = {}
    order: dict[str, None] = {}
    for i, page in enumerate(ordered):
        for p in page.status.participants:
            order.setdefault(p.key, None)
            for a in p.actions:
                key = (p.key, a.column.value, a.kind, a.date)
                trace = traces.setdefault(key, _Trace(p, a))
                if not trace.shown or trace.shown[-1] != i:
                    trace.shown.append(i)
                trace.participant, trace.action = p, a
                trace.bracketed[i] = trace.bracketed.get(i, True) and a.withdrawn
    readings = [read(page.status) for page in ordered]
    last = len(ordered) - 1
    acts: dict[ActKey, ActHistory] = {}
    for key, t in traces.items():
        first, final = t.shown[0], t.shown[-1]
        plain = [i for i in t.shown if not t.bracketed[i]]
        last_plain = plain[-1] if plain else None
        brackets = [i for i in t.shown if t.bracketed[i] and (last_plain is None or i > last_plain)]
        acts[key] = ActHistory(
            participant=key[0],
            name=t.participant.name,
            iso3=t.participant.iso3,
            column=t.action.column,
            kind=t.action.kind,
            date=t.action.date,
            letter=t.action.letter,
            first_printed=ordered[first].printed_at,
            first_observed=min(ordered[i].observed_at for i in t.shown),
            last_printed=ordered[final].printed_at,
            last_unbracketed=ordered[last_plain].printed_at if last_plain is not None else None,
            first_bracketed=ordered[brackets[0]].printed_at if brackets else None,
            first_gone=ordered[final + 1].printed_at if final < last else None,
        )
    _add_rejoined(acts, ordered, readings)
    _settle_ends(acts, traces, ordered, readings, set(confirmed_gone), confirm_after)
    rank = {key: n for n, key in enumerate(order)}
    listed = sorted(acts.values(), key=lambda a: (rank[a.participant], a.date, a.column))
    return TreatyHistory(tuple(ordered), tuple(listed), tuple(order))


def _add_rejoined(
    acts: dict[ActKey, ActHistory],
    pages: Sequence[Printed],
    readings: Sequence[Withdrawals],
) -> None:
    """Add the re-accessions only a footnote gives (none of the table's rows prints them)."""
    names = last_printed_participants(pages)
    for i, reading in enumerate(readings):
        for key, rejoined in reading.rejoined.items():
            for r in rejoined:
                act_key = (key, Column.CONSENT.value, r.kind, r.on)
                if act_key in acts or key not in names:
                    continue
                p = names[key]
                at = pages[i].printed_at
                acts[act_key] = ActHistory(
                    key, p.name, p.iso3, Column.CONSENT, r.kind, r.on, "",
                    first_printed=at, first_observed=pages[i].observed_at, last_printed=at,
                    last_unbracketed=at, first_bracketed=None, first_gone=None, source="footnote",
                )  # fmt: skip


def _settle_ends(
    acts: dict[ActKey, ActHistory],
    traces: Mapping[ActKey, _Trace],
    pages: Sequence[Printed],
    readings: Sequence[Withdrawals],
    confirmed_gone: set[ActKey],
    confirm_after: timedelta,
) -> None:
    last = len(pages) - 1
    # 1. Acts gone at each transition, paired with the acts new on the next page (same
    # participant and column, in date order): a rewrite or a new act; unpaired: revoked.
    gone: dict[tuple[int, str, str], list[ActKey]] = {}
    came: dict[tuple[int, str, str], list[ActKey]] = {}
    for key, t in traces.items():
        if t.shown[-1] < last:
            gone.setdefault((t.shown[-1], key[0], key[1]), []).append(key)
        for i in t.shown:  # new on page i, or back on it after an absence
            if i > 0 and (i - 1) not in t.bracketed:
                came.setdefault((i - 1, key[0], key[1]), []).append(key)
    # An old act first printed before the new act's date cannot be its misprint (it was printed
    # before the new act happened): superseded, still bound only where a page printed before
    # that date shows it (a page printed later may lag). One first printed on or after it can.
    still_bound: dict[ActKey, date | None] = {}
    for (i, participant, column), keys in gone.items():
        olds = sorted(keys, key=lambda k: k[3])
        news = sorted(came.get((i, participant, column), []), key=lambda k: k[3])
        for old, new in zip(olds, news, strict=False):
            bracketed = traces[old].bracketed[i]
            if bracketed or day_of(acts[old].first_printed) < new[3]:
                acts[old] = replace(acts[old], ended_by=SUPERSEDED, successor=new)
                still_bound[old] = _last_shown_before(traces[old], pages, new[3])
            else:
                acts[old] = replace(acts[old], ended_by=REWRITTEN, successor=new)
        for old in olds[len(news) :]:
            acts[old] = replace(acts[old], ended_by=REVOKED)
    # 2. Brackets: withdrawn (a bracketed act later gone, or superseded, stays withdrawn).
    for key, a in acts.items():
        if a.ended_by == REWRITTEN or a.source == "footnote":
            continue
        t = traces[key]
        if t.bracketed[t.shown[-1]]:
            acts[key] = replace(a, ended_by=WITHDRAWN)
    # 3. Their endings: the footnotes' dates where the latest reading gives them, else bounds.
    latest_endings: dict[str, Sequence[Ending]] = {}
    for reading in readings:
        for participant, endings in reading.endings.items():
            if endings:
                latest_endings[participant] = endings
    by_participant: dict[str, list[ActKey]] = {}
    for key in sorted(acts, key=lambda k: k[3]):
        by_participant.setdefault(key[0], []).append(key)
    for participant, keys in by_participant.items():
        consent = [k for k in keys if k[1] == Column.CONSENT.value]
        primary = consent or [k for k in keys if k[1] == Column.SIGNATURE.value]
        used: set[int] = set()
        for key in keys:
            a = acts[key]
            if a.ended_by == REWRITTEN:
                continue
            later = [k[3] for k in keys if k[1] == key[1] and k[3] > key[3]]
            found = None
            if key in primary:
                footnoted = latest_endings.get(participant, ())
                if a.ended_by is None:  # still printed bound: a withdrawal notified, to come
                    footnoted = [e for e in footnoted if e.effective_on is not None]
                found = _matching_ending(a, footnoted, used, min(later) if later else None)
            if found is not None:
                ended_by = a.ended_by or WITHDRAWN
                ending = replace(found, participant=participant, column=a.column.value)
                if ending.effective_on is None:  # notified, effect not dated: the pages' bounds
                    bounded = with_bounds(a, pages, confirmed_gone, confirm_after, still_bound)
                    bounds = bounded.ending or ending
                    ending = replace(
                        ending,
                        not_before=_latest(ending.not_before, bounds.not_before),
                        not_after=_earliest(ending.not_after, bounds.not_after),
                    )
                acts[key] = replace(a, ended_by=ended_by, ending=ending)
            elif a.ended_by is not None:
                acts[key] = with_bounds(a, pages, confirmed_gone, confirm_after, still_bound)


def _latest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return max(known) if known else None


def _earliest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


def _last_shown_before(trace: _Trace, pages: Sequence[Printed], day: date) -> date | None:
    """The print day of the latest page showing the act without brackets before `day`."""
    found = [day_of(pages[i].printed_at) for i in trace.shown if not trace.bracketed[i]]
    return max((d for d in found if d < day), default=None)
