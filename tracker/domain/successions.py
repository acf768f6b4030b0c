"""Predecessor States' own instruments, read from the footnotes of their successors' rows.

UNTC lists today's States; when one succeeded a predecessor (Czechoslovakia, the former
Yugoslavia, the German Democratic Republic, Democratic Yemen, the Yemen Arab Republic), the
predecessor's earlier ratification or accession is only told in a footnote such as "Czechoslovakia
had signed and ratified the Convention on 7 October 1968 and 23 December 1975, respectively".
Pure and standard library only: a TreatyStatus in, Successions out.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from tracker.domain.dates import make_date
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


_DATE = r"\d{1,2}\s*[A-Za-z]+\s+\d{4}"
_KINDS = {
    "ratified": "ratification",
    "acceded to": "accession",
    "acceeded to": "accession",
    "accepted": "acceptance",
    "approved": "approval",
    "succeeded to": "succession",
}
# Typos seen on UNTC pages are kept: "Convenant" (IV-3, IV-4), "acceeded" (MTDSG XML).
_TREATY = r"(?:Convention|Convenant|Covenant|Protocol|Treaty|Agreement|[Aa]mendment)s?"
_INSTRUMENT = re.compile(
    r"(?:^|(?<=[.;:!?\"”)\]] ))"  # the subject opens a sentence, not a clause
    r"(?:The |the )?(?:former )?"
    r"(?P<subject>[A-Z][\w'’-]*(?: (?:[A-Z][\w'’-]*|of|and|the))*?)"
    r" (?:had )?(?P<signed>signed and )?(?P<verb>" + "|".join(_KINDS) + r") "
    r"(?:the (?:[\w'’-]+ ){0,6}?" + _TREATY + r"\b[^.]{0,160}?\b)?"  # "signed and ratified on D"
    r"on (?P<d1>" + _DATE + r")(?:,? and (?P<d2>" + _DATE + r")(?:,? respectively)?)?"
    r"(?!,? " + _DATE + r")"  # "on D1, D2 and D3, respectively": not one instrument's date
)
# Subjects that are no predecessor State: a Government (objections, the State's own acts), an
# organ, the treaty itself, or a sentence opener ("Although Democratic Kampuchea had signed").
_NOT_A_STATE = re.compile(
    r"^(?:Governments?|Secretary|Permanent|General|Convention|Covenant|Protocol|Treaty|Agreement|"
    r"It|This|An?|Its|Although|When|While|Since|After|Before|Upon|On|In|By|Further|Subsequently|"
    r"Moreover|However)\b"
)
_ALIASES = {
    "Socialist Federal Republic of Yugoslavia": "Yugoslavia",
    "Czech and Slovak Federal Republic": "Czechoslovakia",
}

_Read = tuple[str, str, date]  # (predecessor, kind, date)


def _date(text: str) -> date | None:
    m = re.fullmatch(r"(\d{1,2})\s*([A-Za-z]+)\s+(\d{4})", text)
    return make_date(*m.groups()) if m else None


def read_footnote(text: str, own_names: frozenset[str] = frozenset()) -> list[_Read]:
    """The predecessor instruments one footnote tells (signatures alone and objections are not)."""
    flat = " ".join(text.split())  # also folds non-breaking spaces
    found: list[_Read] = []
    for m in _INSTRUMENT.finditer(flat):
        subject = m.group("subject")
        if _NOT_A_STATE.match(subject) or subject.casefold() in own_names:
            continue
        # "signed and ratified ... on D1 and D2, respectively": the second date is the instrument.
        when = _date(m.group("d2") if m.group("signed") and m.group("d2") else m.group("d1"))
        if when is not None:
            found.append((_ALIASES.get(subject, subject), _KINDS[m.group("verb")], when))
    return list(dict.fromkeys(found))


def _succession_date(p: Participant) -> date | None:
    dates = [a.date for a in p.actions if a.column is Column.CONSENT and a.kind == "succession"]
    return min(dates) if dates else None


def predecessor_instruments(status: TreatyStatus) -> Successions:
    """Read every predecessor instrument told in footnotes attached to participant rows."""
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
        for predecessor, kind, when in read_footnote(texts[ref], own):
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
