"""Do two pages of one treaty, printed in two formats, say the same? Each difference in words.

Standard library only. A depositary may print one treaty's status in two forms (UNTC: the
ViewDetails HTML page and the MTDSG XML file). The tracker keeps one history per treaty, from
its primary format; a page of the other format is a cross-check: `compare_formats` compares
its normalized status with the one the history holds, and an empty answer means they agree.

What is compared, and why (what a change of the treaty's status would change):

- the participants, by key (ISO 3166 code, else the folded name): one listed in one format only;
- each participant's dated cells: column (signature, consent, provisional application), kind
  (the letter's meaning: ratification, acceptance (A) ...), legal date, and whether the cell is
  bracketed (withdrawn). Cells are matched as a multiset per column, so the order of rows or of
  cells does not count; cells left unmatched are paired by date order to say what differs;
- the printed counts of signatories and parties;
- what is printed about entry into force: the date, and in force or not yet in force.

Not compared, because the formats print them differently without any change of status: the
titles and every other text's whitespace and punctuation, the printed names of participants
(the key matches them: "Côte d'Ivoire" and "Cote d'Ivoire" are one State), footnote markers and
footnote texts (different markup, links, line breaks), the column headers' wording and order
(the cells' columns are compared instead), the entry-into-force text (the XML quotes the
article), the adoption place and date (not status), and the "status as at" stamp (the XML
prints none, and the stamp is not content anyway).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from tracker.domain.models import Action, Column, Participant, TreatyStatus

_COLUMN_WORDS = {
    Column.SIGNATURE: "signature",
    Column.CONSENT: "consent",
    Column.PROVISIONAL: "provisional application",
}


@dataclass(frozen=True)
class Difference:
    """One thing the two pages say differently, in words (`words` names both formats)."""

    what: str  # "treaty", "participant", "action", "count", "entry_into_force"
    words: str
    participant: str | None = None  # the participant's key, when it is about one


def _day(d: date | None) -> str:
    return f"{d.day} {d.strftime('%b %Y')}" if d is not None else "none"


def _kind(action: Action) -> str:
    words = action.kind.replace("_", " ")
    return f"{words} ({action.letter})" if action.letter else words


def _cell(action: Action) -> str:
    bracket = ", bracketed (withdrawn)" if action.withdrawn else ""
    return f"{_kind(action)} of {_day(action.date)}{bracket}"


def _label(rows: Sequence[Participant]) -> str:
    first = rows[0]
    return f"{first.name} ({first.iso3})" if first.iso3 else first.name


def _identity(action: Action) -> tuple[str, str, date, bool]:
    return (action.column.value, action.kind, action.date, action.withdrawn)


def _by_key(status: TreatyStatus) -> dict[str, list[Participant]]:
    found: dict[str, list[Participant]] = defaultdict(list)
    for participant in status.participants:
        found[participant.key].append(participant)
    return found


def _unmatched(
    ours: Iterable[Action], theirs: Iterable[Action]
) -> tuple[list[Action], list[Action]]:
    """The cells of each side that the other lacks (a multiset difference), by date."""
    left, right = list(ours), list(theirs)
    common = Counter(map(_identity, left)) & Counter(map(_identity, right))
    rest: list[list[Action]] = []
    for side in (left, right):
        budget = Counter(common)
        kept = []
        for action in side:
            ident = _identity(action)
            if budget[ident] > 0:
                budget[ident] -= 1
            else:
                kept.append(action)
        rest.append(sorted(kept, key=lambda a: (a.date, a.kind)))
    return rest[0], rest[1]


def _pair_words(a: Action, b: Action, held: str, other: str) -> str:
    parts = []
    if a.date != b.date:
        parts.append(f"dated {_day(a.date)} in the {held}, {_day(b.date)} in the {other}")
    if a.kind != b.kind:
        parts.append(f"{_kind(a)} in the {held}, {_kind(b)} in the {other}")
    if a.withdrawn != b.withdrawn:
        yes, no = (held, other) if a.withdrawn else (other, held)
        parts.append(f"bracketed (withdrawn) in the {yes}, not in the {no}")
    return "; ".join(parts)


def _cells(
    label: str, key: str, ours: list[Action], theirs: list[Action], held: str, other: str
) -> list[Difference]:
    found: list[Difference] = []
    for column in Column:
        left, right = _unmatched(
            (a for a in ours if a.column is column), (a for a in theirs if a.column is column)
        )
        name = _COLUMN_WORDS[column]
        if len(left) == len(right):
            for a, b in zip(left, right, strict=True):
                words = f"{label}, {name}: {_pair_words(a, b, held, other)}"
                found.append(Difference("action", words, key))
            continue
        for side, actions, lacking in ((held, left, other), (other, right, held)):
            for action in actions:
                words = f"{label}, {name}: the {side} has {_cell(action)}, the {lacking} has no such cell"
                found.append(Difference("action", words, key))
    return found


def _printed(
    held_status: TreatyStatus, other_status: TreatyStatus, held: str, other: str
) -> list[Difference]:
    found: list[Difference] = []
    for label, a, b in (
        ("signatories", held_status.published_signatories, other_status.published_signatories),
        ("parties", held_status.published_parties, other_status.published_parties),
    ):
        if a != b:
            words = (
                f"printed count of {label}: {'none' if a is None else a} in the {held}, "
                f"{'none' if b is None else b} in the {other}"
            )
            found.append(Difference("count", words))
    if held_status.eif_date != other_status.eif_date:
        words = (
            f"printed entry into force: {_day(held_status.eif_date)} in the {held}, "
            f"{_day(other_status.eif_date)} in the {other}"
        )
        found.append(Difference("entry_into_force", words))
    if held_status.in_force != other_status.in_force:

        def says(value: bool | None) -> str:
            return {True: "in force", False: "not yet in force", None: "neither"}[value]

        words = (
            f"printed {says(held_status.in_force)} in the {held}, "
            f"{says(other_status.in_force)} in the {other}"
        )
        found.append(Difference("entry_into_force", words))
    return found


def compare_formats(
    held: TreatyStatus,
    other: TreatyStatus,
    *,
    held_format: str = "html",
    other_format: str = "xml",
) -> tuple[Difference, ...]:
    """What `other` (a page of `other_format`) says differently from `held` (the status the
    history holds, from `held_format`): empty when they agree. Pure; never raises on any two
    statuses. The differences come in a stable order: the treaty, the participants (by the
    held page's order, then the other page's), the printed counts, entry into force."""
    h, o = held_format, other_format
    found: list[Difference] = []
    if held.treaty_id != other.treaty_id:
        words = f"treaty: {held.treaty_id} in the {h}, {other.treaty_id} in the {o}"
        found.append(Difference("treaty", words))
    ours, theirs = _by_key(held), _by_key(other)
    for key, rows in ours.items():
        label = _label(rows)
        if key not in theirs:
            words = f"{label} is listed in the {h} but not in the {o}"
            found.append(Difference("participant", words, key))
            continue
        mine = [a for p in rows for a in p.actions]
        yours = [a for p in theirs[key] for a in p.actions]
        found += _cells(label, key, mine, yours, h, o)
    for key, rows in theirs.items():
        if key not in ours:
            words = f"{_label(rows)} is listed in the {o} but not in the {h}"
            found.append(Difference("participant", words, key))
    found += _printed(held, other, h, o)
    return tuple(found)


def describe(differences: Sequence[Difference]) -> str:
    """The differences as one reason: counted, then each in words, separated by semicolons."""
    if not differences:
        return "the two formats agree"
    n = len(differences)
    return f"{n} difference{'' if n == 1 else 's'}: " + "; ".join(d.words for d in differences)
