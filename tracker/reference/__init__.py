"""Reference lists the tracker compares treaties against: the UN Member States (193, with their
dates of admission) and the non-member observer States, from a versioned data file with its
citation (un_members.toml). Standard library only; read once per process."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@dataclass(frozen=True)
class State:
    """A State of a reference list: its ISO 3166 alpha-3 code and its name as the UN writes it.

    `admitted`: its date of admission to the UN (members); `observer_since`: since when it is a
    non-member observer State (observers); `untc`: the name the UN Treaty Collection prints when
    it differs; `note`: what the UN's list says of its membership (unions, successions)."""

    iso3: str
    name: str
    admitted: date | None = None
    observer_since: date | None = None
    untc: str | None = None
    note: str | None = None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> State:
        return cls(
            iso3=d["iso3"],
            name=d["name"],
            admitted=d.get("admitted"),
            observer_since=d.get("observer_since"),
            untc=d.get("untc"),
            note=d.get("note"),
        )


@dataclass(frozen=True)
class ReferenceList:
    """A versioned list of States with its citation."""

    id: str
    version: int
    as_at: date
    title: str
    citation: str
    url: str
    members: tuple[State, ...]
    observers: tuple[State, ...]
    former_original_members: tuple[State, ...] = ()

    def describe(self) -> dict[str, Any]:
        """What an answer says of the list it used."""
        return {
            "id": self.id,
            "version": self.version,
            "as_at": self.as_at.isoformat(),
            "title": self.title,
            "citation": self.citation,
            "url": self.url,
            "members": len(self.members),
            "observers": [s.iso3 for s in self.observers],
        }

    def member(self, iso3: str) -> State | None:
        return next((s for s in self.members if s.iso3 == iso3), None)


def load(path: Path) -> ReferenceList:
    """Read a reference list file (its schema: un_members.toml)."""
    with path.open("rb") as f:
        raw = tomllib.load(f)

    def states(key: str) -> tuple[State, ...]:
        return tuple(State.from_dict(d) for d in raw.get(key, ()))

    return ReferenceList(
        id=raw["id"],
        version=int(raw["version"]),
        as_at=raw["as_at"],
        title=raw["title"],
        citation=raw["citation"],
        url=raw["url"],
        members=states("members"),
        observers=states("observers"),
        former_original_members=states("former_original_members"),
    )


@cache
def un_members() -> ReferenceList:
    """The UN Member States and non-member observer States (un_members.toml)."""
    return load(HERE / "un_members.toml")
