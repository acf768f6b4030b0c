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
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from tracker.domain.models import Action, Column, Participant, TreatyStatus
from tracker.domain.rules import Delay
from tracker.domain.withdrawals import HISTORY, Ending, Withdrawals, read_withdrawals

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

DEFAULT_CONFIRM_AFTER = timedelta(hours=24)
Reader = Callable[[TreatyStatus], Withdrawals]


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

    def standing(self, on: date) -> str:
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

    def unknown_warning(self, on: date) -> str:
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
        last_seen = _last_printed_participants(self.pages)
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


def order_pages(pages: Iterable[Printed]) -> list[Printed]:
    """Pages by print time; pages printed at the same time in a fixed order (their content)."""
    return sorted(pages, key=lambda p: (p.printed_at, p.content, p.observed_at))


def _last_printed_participants(pages: Sequence[Printed]) -> dict[str, Participant]:
    found: dict[str, Participant] = {}
    for page in pages:
        for p in page.status.participants:
            found[p.key] = p
    return found


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
    read: Reader | None = None,
    withdrawal: Delay | None = None,
    confirmed_gone: Collection[ActKey] = (),
    confirm_after: timedelta = DEFAULT_CONFIRM_AFTER,
) -> TreatyHistory:
    """Derive every participant's action history from the accepted pages of one treaty.

    `read` reads a page's withdrawals from its footnotes (default: `read_withdrawals` with the
    treaty's `withdrawal` clause, the delay from a notification to its effect, as the latest
    answer reads them); `confirmed_gone`: acts whose absence a second observation confirmed (the
    absence events, which a page unchanged in content leaves without a snapshot of its own)."""
    if read is None:
        read = partial(read_withdrawals, clause=withdrawal)
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
    names = _last_printed_participants(pages)
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


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date() if moment.tzinfo else moment.date()


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
            if bracketed or _day(acts[old].first_printed) < new[3]:
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
                    bounded = _bounded(a, pages, confirmed_gone, confirm_after, still_bound)
                    bounds = bounded.ending or ending
                    ending = replace(
                        ending,
                        not_before=_latest(ending.not_before, bounds.not_before),
                        not_after=_earliest(ending.not_after, bounds.not_after),
                    )
                acts[key] = replace(a, ended_by=ended_by, ending=ending)
            elif a.ended_by is not None:
                acts[key] = _bounded(a, pages, confirmed_gone, confirm_after, still_bound)


def _latest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return max(known) if known else None


def _earliest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


def _last_shown_before(trace: _Trace, pages: Sequence[Printed], day: date) -> date | None:
    """The print day of the latest page showing the act without brackets before `day`."""
    found = [_day(pages[i].printed_at) for i in trace.shown if not trace.bracketed[i]]
    return max((d for d in found if d < day), default=None)


def _bounded(
    a: ActHistory,
    pages: Sequence[Printed],
    confirmed_gone: set[ActKey],
    confirm_after: timedelta,
    still_bound: Mapping[ActKey, date | None] | None = None,
) -> ActHistory:
    """The act with an Ending of basis HISTORY: the bounds the pages give (`still_bound`: for a
    superseded act, the last day a page printed before its successor's date showed it)."""
    if a.ended_by == WITHDRAWN:
        not_before = _day(a.last_unbracketed) if a.last_unbracketed else None
        high = a.first_bracketed or a.first_gone
        not_after = _day(high) if high else None
        kind, confirmed = "withdrawal", True
    elif a.ended_by == SUPERSEDED:
        successor = a.successor
        not_before = _day(a.last_printed)
        if still_bound is not None and a.key in still_bound:
            not_before = still_bound[a.key]
        not_after = successor[3] if successor else (_day(a.first_gone) if a.first_gone else None)
        kind, confirmed = "superseded", True
    else:  # REVOKED: gone, not replaced
        not_before = _day(a.last_printed)
        not_after = _day(a.first_gone) if a.first_gone else None
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


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT = re.compile(r"(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2})(?::(\d{2})(?:\.(\d+))?)?")
_ZONE = re.compile(r"([Zz]|[+-]\d{2}:?\d{2})")


def known_at_moment(text: str) -> datetime:
    """Read "what we knew on T": an ISO date (the end of that day, UTC) or an ISO date-time
    with its zone (Z or an offset), returned in UTC (beyond the calendar's ends: its first or
    last instant). ValueError for anything else, a date-time without a zone included (which
    moment it means would be a guess)."""
    value = text.strip()
    if _DATE.fullmatch(value):
        return datetime.combine(date.fromisoformat(value), time.max, UTC)
    moment = _MOMENT.match(value)
    if moment is None:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or a date-time (YYYY-MM-DDTHH:MM)")
    zone = value[moment.end() :]
    if not zone:
        raise ValueError(f"{text!r} has no time zone (write e.g. {value}Z, or a date alone)")
    if not _ZONE.fullmatch(zone):
        raise ValueError(f"{text!r}: {zone!r} is not a time zone (Z or +HH:MM)")
    head, seconds, fraction = moment.groups()
    seconds = min(seconds or "00", "59")  # a leap second is the last second of its minute
    stamp = f"{head}:{seconds}.{(fraction or '0')[:6].ljust(6, '0')}"
    parsed = datetime.fromisoformat(stamp + ("+00:00" if zone in "Zz" else zone))
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+05:00 is before year 1 in UTC
        return (datetime.min if parsed.year == 1 else datetime.max).replace(tzinfo=UTC)
