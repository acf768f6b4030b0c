"""What changed between two consecutive accepted statuses of one treaty. Pure, stdlib only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from tracker.domain.endings import UNKNOWN, Ending, ends_of
from tracker.domain.models import Action, Column, Declaration, Participant, TreatyStatus


class ChangeKind(StrEnum):
    SIGNATURE = "signature"
    CONSENT = "consent"
    PROVISIONAL_APPLICATION = "provisional_application"
    WITHDRAWAL = "withdrawal"
    CORRECTION = "correction"
    PARTICIPANT_DISAPPEARED = "participant_disappeared"
    # A dated cell gone from a later page, not bracketed as withdrawn: suspicious like a
    # participant's disappearance (the later page may be the wrong one) until confirmed.
    ACTION_DISAPPEARED = "action_disappeared"
    # A consent cell gone with a footnote saying the instrument was withdrawn or revoked, that
    # ending in effect on the page's day. Dated by the ending (its notification), not the deposit.
    REVOCATION = "revocation"
    # A new consent act after an earlier one ended: a consent cell replaced by one dated after
    # the old one was first seen or the previous page was printed (it cannot be a misprint of
    # an act that did not yet exist), or a new consent cell after a bracketed (withdrawn) one.
    REACCESSION = "reaccession"
    # A declaration, reservation, objection or notification printed for the first time, or
    # with other words (only between two statuses whose parser read them both).
    DECLARATION = "declaration"


# Absences: suspicious until a fresh page observed long enough later confirms them. A revocation
# too: it is read from a cell gone, and one faulty page drops cells while the footnote stays.
ABSENCES: frozenset[ChangeKind] = frozenset(
    {ChangeKind.PARTICIPANT_DISAPPEARED, ChangeKind.ACTION_DISAPPEARED, ChangeKind.REVOCATION}
)


_ADDED = {
    Column.SIGNATURE: ChangeKind.SIGNATURE,
    Column.CONSENT: ChangeKind.CONSENT,
    Column.PROVISIONAL: ChangeKind.PROVISIONAL_APPLICATION,
}


@dataclass(frozen=True)
class Change:
    """One event between two statuses: who, what, and the legal date it concerns."""

    kind: ChangeKind
    participant_key: str
    participant_name: str
    iso3: str | None
    legal_date: date | None
    action_kind: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None

    ended: dict[str, Any] | None = None  # a re-accession: the act that ended before it
    ending: dict[str, Any] | None = None  # a revocation: its end as the footnotes give it

    def details(self) -> dict[str, Any]:
        found = {"action_kind": self.action_kind, "before": self.before, "after": self.after}
        if self.ended is not None:
            found["ended"] = self.ended
        if self.ending is not None:
            found["ending"] = self.ending
        return found


def _change(kind: ChangeKind, p: Participant, action: Action | None, **kw: Any) -> Change:
    return Change(
        kind=kind,
        participant_key=p.key,
        participant_name=p.name,
        iso3=p.iso3,
        legal_date=action.date if action else None,
        action_kind=action.kind if action else None,
        **kw,
    )


def _ended(kind: ChangeKind, p: Participant, act: Action, end: Ending, **kw: Any) -> Change:
    """A change that ends an act (a withdrawal, a revocation): dated by the ending's notification
    (its effective date in `ending`), never by the act's own deposit (in `before`)."""
    return Change(
        kind=kind,
        participant_key=p.key,
        participant_name=p.name,
        iso3=p.iso3,
        legal_date=end.notified_on or end.effective_on,
        action_kind=act.kind,
        ending=end.to_dict(),
        **kw,
    )


def _withdrawal(p: Participant, a: Action, b: Action, endings: Sequence[Ending]) -> Change:
    """Brackets added: a withdrawal. Undated: legal date None and an unknown ending."""
    acts = sorted((c for c in p.actions if c.column is a.column), key=lambda c: c.date)
    own = [e for e in endings if e.column in (None, a.column.value)]
    end = ends_of(p.key, acts, own)[acts.index(a)]
    assert end is not None  # a bracketed act always has one, of unknown date at worst
    return _ended(ChangeKind.WITHDRAWAL, p, a, end, before=b.to_dict(), after=a.to_dict())


def _revoked(action: Action, endings: Sequence[Ending], on: date | None) -> Ending | None:
    """The footnotes' end of a consent act gone from a page printed on `on`: dated on or after
    the act, and in effect by `on` (its effective date, else its notification). An ending still
    to take effect cannot explain a cell gone, nor can any on a page of unknown day (None)."""
    if on is None:
        return None
    for e in endings:
        if e.basis == UNKNOWN or e.column not in (None, Column.CONSENT.value):
            continue
        when = e.effective_on or e.notified_on
        if when is not None and action.date <= when <= on:
            return e
    return None


def _revocation(p: Participant, gone: Action, end: Ending) -> Change:
    """A consent gone with its ending."""
    return _ended(ChangeKind.REVOCATION, p, gone, end, before=gone.to_dict())


def _column_changes(
    column: Column,
    old: Participant,
    new: Participant,
    printed: date | None = None,
    endings: Sequence[Ending] = (),
    today: date | None = None,
    first_seen: Mapping[tuple[str, str, date], date] | None = None,
) -> list[Change]:
    """The changes of one column of one participant. `printed`: the day the previous page was
    printed (a replacement dated after it is a new act); `endings`: the participant's ends as
    the current page's footnotes give them; `today`: the day the current page was printed (an
    ending explains a cell gone only once in effect on it); `first_seen`: the day each old act
    (column, kind, legal date) was first observed (a replacement dated after it is a new act
    too)."""
    before = sorted((a for a in old.actions if a.column is column), key=lambda a: a.date)
    after = sorted((a for a in new.actions if a.column is column), key=lambda a: a.date)
    if before == after:
        return []
    if not before:
        return [_change(_ADDED[column], new, a, after=a.to_dict()) for a in after]
    # 1. Cells printed alike on both pages are no change.
    gone = list(before)
    came: list[Action] = []
    for a in after:
        if a in gone:
            gone.remove(a)
        else:
            came.append(a)
    changes: list[Change] = []
    # 2. The same act (date and kind) printed differently: a withdrawal adds brackets; anything
    # else (brackets removed, another letter of the same kind) is a correction.
    for a in list(came):
        b = next((b for b in gone if (b.date, b.kind) == (a.date, a.kind)), None)
        if b is None:
            continue
        gone.remove(b)
        came.remove(a)
        if a.withdrawn and not b.withdrawn:
            changes.append(_withdrawal(new, a, b, endings))
            continue
        changes.append(
            _change(ChangeKind.CORRECTION, new, a, before=b.to_dict(), after=a.to_dict())
        )
    # 3. What is left pairs by position in date order: the depositary corrected a date or kind,
    # unless the new consent is dated after the old one was first seen, or after the previous
    # page was printed (the old one was printed before the new act happened: no misprint of
    # it), or follows a withdrawn one: then it is a new act, and the old one ended.
    consent = column is Column.CONSENT
    for b, a in zip(gone, came, strict=False):
        seen = (first_seen or {}).get((b.column.value, b.kind, b.date))
        later = (
            (printed is not None and a.date > printed)
            or (seen is not None and a.date > seen)
            or (b.withdrawn and not a.withdrawn and a.date > b.date)
        )
        kind = ChangeKind.REACCESSION if consent and later else ChangeKind.CORRECTION
        details: dict[str, Any] = {"before": b.to_dict(), "after": a.to_dict()}
        if kind is ChangeKind.REACCESSION:
            details["ended"] = b.to_dict()
        changes.append(_change(kind, new, a, **details))
    # 4. Then new cells are added acts (a new consent after a withdrawn one: a re-accession),
    # and cells gone without a replacement vanished (a consent the footnotes say was
    # withdrawn or revoked: a revocation).
    withdrawn = [b for b in before if b.withdrawn]
    for a in came[len(gone) :]:
        ended = [b for b in withdrawn if b.date < a.date and not a.withdrawn]
        if consent and ended:
            changes.append(
                _change(
                    ChangeKind.REACCESSION,
                    new,
                    a,
                    before=ended[-1].to_dict(),
                    after=a.to_dict(),
                    ended=ended[-1].to_dict(),
                )
            )
        else:
            changes.append(_change(_ADDED[column], new, a, after=a.to_dict()))
    for b in gone[len(came) :]:
        end = _revoked(b, endings, today) if consent and not b.withdrawn else None
        if end is not None:
            changes.append(_revocation(new, b, end))
        else:
            changes.append(_change(ChangeKind.ACTION_DISAPPEARED, new, b, before=b.to_dict()))
    return changes


def _statements(status: TreatyStatus) -> dict[tuple[str, str], list[Declaration]]:
    found: dict[tuple[str, str], list[Declaration]] = {}
    for d in status.declarations or ():
        found.setdefault((d.key, d.section), []).append(d)
    return found


def declaration_changes(previous: TreatyStatus, current: TreatyStatus) -> list[Change]:
    """A `declaration` change per participant and section whose printed words are new or
    changed. None when either status was read without its declarations (a status stored before
    the parser read them, or a source that prints none): that is no news. A statement gone is
    not an event (one faulty page could drop them all)."""
    if previous.declarations is None or current.declarations is None:
        return []
    before = _statements(previous)
    names = {p.key: p for p in current.participants}
    changes = []
    for (key, section), found in _statements(current).items():
        text = "\n\n".join(d.text for d in found)
        old = before.get((key, section))
        old_text = "\n\n".join(d.text for d in old) if old else None
        if old_text == text:
            continue
        p = names.get(key)
        changes.append(
            Change(
                kind=ChangeKind.DECLARATION,
                participant_key=key,
                participant_name=p.name if p else found[0].participant,
                iso3=found[0].iso3,
                legal_date=None,  # the page dates some statements in their words only
                action_kind=section,
                before={"section": section, "text": old_text} if old_text else None,
                after={"section": section, "text": text},
            )
        )
    return changes


def _day(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date()


def diff(
    previous: TreatyStatus,
    current: TreatyStatus,
    *,
    previous_printed: datetime | None = None,
    endings: Mapping[str, Sequence[Ending]],
    current_printed: datetime | None = None,
    first_seen: Mapping[tuple[str, str, str, date], datetime] | None = None,
) -> list[Change]:
    """List the changes from `previous` to `current`, participants matched by identity key.

    `previous_printed`: when the previous page was printed (default: its "status as at"
    stamp); `endings`: the ends the current page's footnotes give (as
    tracker.domain.withdrawals.read_withdrawals reads them with the source's grammar); `current_printed`: when the current page was
    printed (default: its stamp; unknown: no ending can be shown in effect, so a consent cell
    gone stays an `action_disappeared`); `first_seen`: when each act of `previous`
    (participant key, column, kind, legal date) was first observed: a consent replaced by one
    dated after that day is a `reaccession` even when the previous page, printed later, lagged
    (without it, or for an act it lacks, the previous page's print day decides)."""
    old = {p.key: p for p in previous.participants}
    new = {p.key: p for p in current.participants}
    printed = _day(previous_printed or previous.status_as_at)
    today = _day(current_printed or current.status_as_at)
    seen: dict[str, dict[tuple[str, str, date], date]] = {}
    for (key, column_value, kind, legal), moment in (first_seen or {}).items():
        day = _day(moment)
        if day is not None:
            seen.setdefault(key, {})[(column_value, kind, legal)] = day
    changes: list[Change] = []
    for key, p in new.items():
        before = old.get(key, Participant(name=p.name, iso3=p.iso3, reio=p.reio))
        for column in Column:
            found = endings.get(key, ())
            changes.extend(_column_changes(column, before, p, printed, found, today, seen.get(key)))
    for key, p in old.items():
        if key not in new:
            last = max(p.actions, key=lambda a: a.date) if p.actions else None
            changes.append(
                _change(
                    ChangeKind.PARTICIPANT_DISAPPEARED,
                    p,
                    last,
                    before=p.to_dict(),
                )
            )
    return changes + declaration_changes(previous, current)
