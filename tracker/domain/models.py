"""Normalized treaty status: plain frozen dataclasses, standard library only, no I/O, no clock."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class Column(StrEnum):
    """The role of the table column an action was printed in."""

    SIGNATURE = "signature"
    CONSENT = "consent"
    PROVISIONAL = "provisional_application"


# The members as module constants for the per-action tests below: a member read from its class
# (`Column.SIGNATURE`) is a descriptor call on Python 3.11, for every action of every row.
_SIGNATURE, _CONSENT = Column.SIGNATURE, Column.CONSENT


# The kinds of action, whatever the depositary: each source's parser maps what its pages print
# (UNTC: a letter after the date, tracker.sources.untc.letters) to these.
KINDS: frozenset[str] = frozenset(
    {
        "signature",
        "succession_to_signature",
        "definitive_signature",
        "ratification",
        "accession",
        "acceptance",
        "approval",
        "succession",
        "formal_confirmation",
        "consent_to_be_bound",
        "participation",
        "provisional_application",
    }
)


@dataclass(frozen=True, slots=True)
class Action:
    """One dated cell of the participants table."""

    column: Column
    kind: str
    date: date
    letter: str = ""
    withdrawn: bool = False  # printed in [brackets]: deposited, later withdrawn or denounced

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column.value,
            "kind": self.kind,
            "date": self.date.isoformat(),
            "letter": self.letter,
            "withdrawn": self.withdrawn,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Action:
        return cls(
            column=Column(d["column"]),
            kind=d["kind"],
            date=date.fromisoformat(d["date"]),
            letter=d.get("letter", ""),
            withdrawn=bool(d.get("withdrawn", False)),
        )


def _holds(actions: tuple[Action, ...], column: Column) -> bool:
    """Whether an action of `column` is printed without brackets."""
    for a in actions:  # noqa: SIM110 - a loop, a third of any()'s cost with its generator
        if a.column is column and not a.withdrawn:
            return True
    return False


@dataclass(frozen=True, slots=True)
class Participant:
    """A row of the participants table: printed name, identity, footnote refs and actions."""

    name: str
    iso3: str | None = None
    reio: bool = False  # regional economic integration organization (e.g. the European Union)
    footnotes: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    # The depositary's own printed entry into force for this participant (WIPO Lex's "In Force"
    # column; it may lie after the observation), beside what the rules compute. None when the
    # page prints none (UNTC never does): then it is left out of to_dict, so every status hashed
    # before the field existed hashes the same.
    published_in_force_from: date | None = None

    @property
    def key(self) -> str:
        """Identity across snapshots and renames: ISO3 where one exists, else the folded name
        (NFC first: a name written with combining accents is the same participant)."""
        if self.iso3:
            return self.iso3
        return "name:" + " ".join(unicodedata.normalize("NFC", self.name).casefold().split())

    def _first(self, column: Column) -> Action | None:
        """The column's earliest action (the first printed of the earliest date)."""
        first: Action | None = None
        for a in self.actions:
            if a.column is column and (first is None or a.date < first.date):
                first = a
        return first

    @property
    def signature(self) -> Action | None:
        return self._first(Column.SIGNATURE)

    @property
    def consent(self) -> Action | None:
        return self._first(Column.CONSENT)

    @property
    def provisional(self) -> Action | None:
        return self._first(Column.PROVISIONAL)

    @property
    def withdrawn(self) -> bool:
        """True when the participant's consent (or, lacking one, its signature) is bracketed."""
        main = self.consent or self.signature
        return bool(main and main.withdrawn)

    @property
    def is_signatory(self) -> bool:
        return _holds(self.actions, _SIGNATURE)

    @property
    def is_party(self) -> bool:
        return _holds(self.actions, _CONSENT)

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "name": self.name,
            "iso3": self.iso3,
            "reio": self.reio,
            "footnotes": list(self.footnotes),
            "actions": [a.to_dict() for a in self.actions],
        }
        if self.published_in_force_from is not None:
            found["published_in_force_from"] = self.published_in_force_from.isoformat()
        return found

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Participant:
        return cls(
            name=d["name"],
            iso3=d.get("iso3"),
            reio=bool(d.get("reio", False)),
            footnotes=tuple(d.get("footnotes", ())),
            actions=tuple(Action.from_dict(a) for a in d.get("actions", ())),
            published_in_force_from=date.fromisoformat(d["published_in_force_from"])
            if d.get("published_in_force_from")
            else None,
        )


@dataclass(frozen=True, slots=True)
class Footnote:
    ref: str
    text: str


# The kinds of statements a depositary prints about its participants after the table (UNTC:
# after <a name="EndDec">), in the order its pages print them.
DECLARATION_SECTIONS: dict[str, str] = {
    "declarations": "declarations and reservations",
    "declarations_under_article": "declarations under articles of the treaty",
    "objections": "objections",
    "notifications": "notifications",
}


@dataclass(frozen=True, slots=True)
class Declaration:
    """A participant's declaration, reservation, objection or notification as printed
    (`section`: a key of DECLARATION_SECTIONS; `text`: the printed words, one entry per
    participant and section, as the page groups them)."""

    participant: str  # the name as printed above the text
    section: str
    text: str
    iso3: str | None = None
    footnotes: tuple[str, ...] = ()  # the footnote refs printed after the name

    @property
    def key(self) -> str:
        """The participant key it belongs to (Participant.key's rule)."""
        return Participant(self.participant, self.iso3).key

    def to_dict(self) -> dict[str, Any]:
        return {
            "participant": self.participant,
            "iso3": self.iso3,
            "section": self.section,
            "text": self.text,
            "footnotes": list(self.footnotes),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Declaration:
        refs = tuple(d.get("footnotes", ()))
        return cls(d["participant"], d["section"], d["text"], d.get("iso3"), refs)


@dataclass(frozen=True, slots=True)
class TreatyStatus:
    """The normalized status of one treaty as printed by its depositary at one observation."""

    treaty_id: str  # the depositary's own id, e.g. MTDSG number "XXVI-9"
    title: str
    chapter: str | None = None
    adoption_place: str | None = None
    adoption_date: date | None = None
    eif_label: str | None = None  # "Entry into force" / "Not yet in force" as printed
    # What the depositary prints about the treaty as a whole: in force (True), not yet in force
    # (False), or nothing readable (None). Each source's parser reads it from its own words (UNTC:
    # the label above; WIPO Lex: its facet header), so no one here guesses from a label.
    in_force: bool | None = None
    eif_text: str | None = None
    eif_date: date | None = None  # the entry-into-force date printed, if any
    published_signatories: int | None = None
    published_parties: int | None = None
    status_as_at: datetime | None = None  # the page's own "status as at" stamp (aware, UTC)
    columns: tuple[str, ...] = ()
    participants: tuple[Participant, ...] = ()
    footnotes: tuple[Footnote, ...] = field(default=())
    # The declarations and reservations printed after the table; None when the parser does not
    # read them (then left out of to_dict: a status of such a parser hashes as before).
    declarations: tuple[Declaration, ...] | None = None

    @property
    def signatories(self) -> int:
        """Signatories derived from the table (bracketed cells excluded)."""
        return sum(1 for p in self.participants if p.is_signatory)

    @property
    def parties(self) -> int:
        """Parties derived from the table (bracketed cells excluded)."""
        return sum(1 for p in self.participants if p.is_party)

    def to_dict(self) -> dict[str, Any]:
        return {
            "treaty_id": self.treaty_id,
            "title": self.title,
            "chapter": self.chapter,
            "adoption_place": self.adoption_place,
            "adoption_date": self.adoption_date.isoformat() if self.adoption_date else None,
            "eif_label": self.eif_label,
            "in_force": self.in_force,
            "eif_text": self.eif_text,
            "eif_date": self.eif_date.isoformat() if self.eif_date else None,
            "published_signatories": self.published_signatories,
            "published_parties": self.published_parties,
            "status_as_at": self.status_as_at.isoformat() if self.status_as_at else None,
            "columns": list(self.columns),
            "participants": [p.to_dict() for p in self.participants],
            "footnotes": [{"ref": f.ref, "text": f.text} for f in self.footnotes],
        } | (
            {"declarations": [d.to_dict() for d in self.declarations]}
            if self.declarations is not None
            else {}
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TreatyStatus:
        def _date(v: str | None) -> date | None:
            return date.fromisoformat(v) if v else None

        return cls(
            treaty_id=d["treaty_id"],
            title=d["title"],
            chapter=d.get("chapter"),
            adoption_place=d.get("adoption_place"),
            adoption_date=_date(d.get("adoption_date")),
            eif_label=d.get("eif_label"),
            in_force=d.get("in_force"),
            eif_text=d.get("eif_text"),
            eif_date=_date(d.get("eif_date")),
            published_signatories=d.get("published_signatories"),
            published_parties=d.get("published_parties"),
            status_as_at=datetime.fromisoformat(d["status_as_at"])
            if d.get("status_as_at")
            else None,
            columns=tuple(d.get("columns", ())),
            participants=tuple(Participant.from_dict(p) for p in d.get("participants", ())),
            footnotes=tuple(Footnote(f["ref"], f["text"]) for f in d.get("footnotes", ())),
            declarations=tuple(Declaration.from_dict(x) for x in d["declarations"])
            if d.get("declarations") is not None
            else None,
        )

    def content_hash(self, data: dict[str, Any] | None = None) -> str:
        """Hash of what the status says, not of when it was printed (`data`: this status's
        `to_dict()` when the caller already made it; it is not changed).

        The "status as at" stamp changes on every fetch and is left out, so a poll of an
        unchanged page hashes the same. `in_force` is left out too: it is the parser's reading of
        printed words that are hashed themselves (the label), so a page hashes as it did before the
        field existed. Participants are sorted so row order does not matter.
        """
        body = dict(data if data is not None else self.to_dict())
        body.pop("status_as_at")
        body.pop("in_force")
        body["participants"] = sorted(
            body["participants"], key=lambda p: (p["name"], p["iso3"] or "")
        )
        raw = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()
