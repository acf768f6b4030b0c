"""A State's standing in every tracked treaty (party since, signed only, not joined, withdrawn),
for one State (the country page), a few side by side (the comparison) or all (the index), and
the lookup of a country by ISO code or by name.

The standing of a State of the reference list (tracker.reference: the UN Member States, and the
observer States a treaty's page lists) is read from the treaty's "not yet joined" answer
(tracker.services.read.missing.not_joined), so the country pages and the treaty page never
disagree: signed not ratified, not signed ("not joined"), withdrawn (with the dates its
footnotes give), else a party. A participant outside the list (the European Union, the Cook
Islands, a dissolved State) is read from its rows; an observer State the page does not list is
"not listed" (whether the treaty is open to it is not known). Every answer is from each
treaty's latest accepted snapshot; dates are legal dates (of deposit) as printed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Participant as ParticipantRow
from db.models import Snapshot, Source, Treaty
from db.vocabulary import in_words
from tracker.domain.models import Column, Participant, TreatyStatus
from tracker.reference import ReferenceList, un_members
from tracker.services.read.missing import snapshot_not_joined
from tracker.services.repository import latest_snapshot
from tracker.sources import registry
from tracker.sources.countries import iso3 as iso3_of_name
from tracker.sources.registry import sort_key

# The standings, in the order a legend lists them, with their words.
STANDINGS: dict[str, str] = {
    "party": "party",
    "signed": "signed, not ratified",
    "not_joined": "not joined",
    "withdrawn": "withdrawn",
    "not_listed": "not listed",
}
MIN_COMPARED, MAX_COMPARED = 2, 5
_CODE = re.compile(r"[A-Za-z]{3}")


class BadCountries(ValueError):
    """A comparison asked of too few or too many countries, or of one not known."""


@dataclass(frozen=True)
class Country:
    """A country the tracker knows: from the reference list or from a treaty's page."""

    iso3: str
    name: str
    # member / observer (of the reference list), or other (only on treaties' pages)
    group: str
    admitted: str | None = None
    names: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Lookup:
    """What a country asked by code or name finds: one, several candidates, or none."""

    found: Country | None
    candidates: tuple[Country, ...] = ()


def _fold(text: str) -> str:
    """Comparable words: accents off, case folded, punctuation and hyphens as spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+|_", " ", plain.casefold()).split())


def known_countries(session: Session, reference: ReferenceList | None = None) -> list[Country]:
    """The reference list's States, then the participants with an ISO code it lacks (names as
    printed), by name."""
    reference = reference or un_members()
    found: dict[str, Country] = {}
    for s in reference.members:
        names = (s.name, s.untc) if s.untc else (s.name,)
        admitted = s.admitted.isoformat() if s.admitted else None
        found[s.iso3] = Country(s.iso3, s.name, "member", admitted, names)
    for s in reference.observers:
        names = (s.name, s.untc) if s.untc else (s.name,)
        found[s.iso3] = Country(s.iso3, s.name, "observer", None, names)
    query = select(ParticipantRow.iso3, ParticipantRow.name).where(ParticipantRow.iso3.is_not(None))
    printed: dict[str, list[str]] = {}
    for code, name in session.execute(query.order_by(ParticipantRow.id)):
        if code is not None:
            printed.setdefault(code, []).append(name)
    for code, spellings in printed.items():
        if code in found:
            known = found[code]
            extra = tuple(n for n in spellings if n not in known.names)
            found[code] = Country(
                known.iso3, known.name, known.group, known.admitted, known.names + extra
            )
        else:
            found[code] = Country(
                code, spellings[0], "other", None, tuple(dict.fromkeys(spellings))
            )
    return sorted(found.values(), key=lambda c: _fold(c.name))


def search(countries: Iterable[Country], q: str) -> list[Country]:
    """The countries whose ISO code is `q` or whose names hold every word of `q` (as words or
    their beginnings: "korea" finds both Koreas, "united" the United Kingdom and the rest)."""
    words = _fold(q).split()
    if not words:
        return list(countries)
    found = []
    for c in countries:
        if len(words) == 1 and words[0].upper() == c.iso3:
            found.append(c)
            continue
        for name in c.names:
            have = _fold(name).split()
            if all(any(h.startswith(w) for h in have) for w in words):
                found.append(c)
                break
    return found


def find_country(session: Session, text: str, reference: ReferenceList | None = None) -> Lookup:
    """A country by ISO 3166 alpha-3 code (any case) or by name (`france`, `united-kingdom`,
    `cote-d-ivoire`): the name's exact forms first (the UN's and the depositaries' spellings),
    then every known country whose names hold its words; several: the candidates."""
    countries = known_countries(session, reference)
    by_code = {c.iso3: c for c in countries}
    wanted = text.strip()
    if _CODE.fullmatch(wanted) and wanted.upper() in by_code:
        return Lookup(by_code[wanted.upper()])
    spaced = " ".join(re.sub(r"[-_+]+", " ", wanted).split())
    exact = [c for c in countries if _fold(spaced) in {_fold(n) for n in c.names}]
    if len(exact) == 1:
        return Lookup(exact[0])
    code = iso3_of_name(spaced)
    if code is not None and code in by_code:
        return Lookup(by_code[code])
    matches = search(countries, spaced) if _fold(spaced) else []
    if len(matches) == 1:
        return Lookup(matches[0])
    return Lookup(None, tuple(matches))


def _latest(session: Session, source: str | None) -> list[tuple[Treaty, str, Snapshot]]:
    query = select(Treaty, Source.slug).join(Source, Source.id == Treaty.source_id)
    if source is not None:
        query = query.where(Source.slug == source)
    found = []
    for treaty, slug in session.execute(query):
        snapshot = latest_snapshot(session, treaty.id)
        if snapshot is not None:
            found.append((treaty, slug, snapshot))
    return sorted(found, key=lambda t: sort_key(registry.public_id(t[1], t[0].external_id)))


def _from_rows(rows: Sequence[Participant]) -> dict[str, Any]:
    """The standing of a participant outside the reference list, from its rows."""
    if any(p.is_party for p in rows):
        return _party(rows)
    if any(p.withdrawn for p in rows):
        acts = sorted((a for p in rows for a in p.actions), key=lambda a: a.date)
        consents = [
            {"kind": a.kind, "date": a.date.isoformat(), "withdrawn": a.withdrawn}
            for a in acts
            if a.column is Column.CONSENT
        ]
        return _cell("withdrawn", None, consents=consents, withdrawals=[])
    signed = sorted(a.date for p in rows for a in p.actions if a.column is Column.SIGNATURE)
    if signed:
        return _cell("signed", signed[0].isoformat(), signed=signed[0].isoformat())
    return _cell("not_listed", None)


def _party(rows: Sequence[Participant]) -> dict[str, Any]:
    live = sorted((a for p in rows for a in p.actions if not a.withdrawn), key=lambda a: a.date)
    consents = [a for a in live if a.column is Column.CONSENT]
    first = consents[0] if consents else None
    signed = [a.date for a in live if a.column is Column.SIGNATURE]
    return _cell(
        "party",
        first.date.isoformat() if first else None,
        kind=first.kind if first else None,
        signed=signed[0].isoformat() if signed else None,
    )


def _cell(standing: str, on: str | None, **more: Any) -> dict[str, Any]:
    return {"standing": standing, "words": STANDINGS[standing], "date": on, **more}


def _words(cell: dict[str, Any]) -> str:
    """One line for a cell: "party since 2021-01-22 (ratification)"."""
    kind = in_words(cell.get("kind") or "")
    match cell["standing"]:
        case "party":
            since = f" since {cell['date']}" if cell["date"] else ""
            return f"party{since}" + (f" ({kind})" if kind else "")
        case "signed":
            return f"signed {cell['date']}, not ratified"
        case "withdrawn":
            parts = [f"{c['kind'].replace('_', ' ')} {c['date']}" for c in cell["consents"]]
            for w in cell["withdrawals"]:
                if w.get("effective_on"):
                    parts.append(f"withdrawal effective {w['effective_on']}")
                elif w.get("notified_on"):
                    parts.append(f"withdrawal notified {w['notified_on']}")
            return "withdrawn" + (f" ({'; '.join(parts)})" if parts else "")
        case "not_joined":
            return "not joined (no signature, no instrument)"
        case _:
            return "not listed on the treaty's page (whether it is open to it is not known)"


def _cells(
    session: Session,
    treaty: Treaty,
    slug: str,
    snapshot: Snapshot,
    codes: Sequence[str],
    reference: ReferenceList,
) -> dict[str, dict[str, Any]]:
    answer = snapshot_not_joined(session, treaty, slug, snapshot, reference)
    listed: dict[str, tuple[str, dict[str, Any]]] = {}
    for group, standing in (
        ("signed_not_ratified", "signed"),
        ("not_signed", "not_joined"),
        ("withdrawn", "withdrawn"),
    ):
        for entry in answer[group]:
            listed[entry["iso3"]] = (standing, entry)
    counted = {s.iso3 for s in reference.members} | {
        o["iso3"] for o in answer["observers"] if o["counted"]
    }
    in_reference = counted | {s.iso3 for s in reference.observers}
    by_code: dict[str, list[Participant]] | None = None
    cells = {}
    for code in codes:
        if code in listed:
            standing, entry = listed[code]
            if standing == "withdrawn":
                cell = _cell(
                    "withdrawn",
                    next(
                        (w["effective_on"] for w in entry["withdrawals"] if w["effective_on"]),
                        None,
                    ),
                    consents=entry["consents"],
                    withdrawals=entry["withdrawals"],
                    signed=entry["signed"],
                )
            else:
                cell = _cell(standing, entry["signed"], signed=entry["signed"])
        else:
            if by_code is None:
                by_code = {}
                for p in TreatyStatus.from_dict(snapshot.data).participants:
                    by_code.setdefault(p.iso3 or "", []).append(p)
            if code in counted:
                cell = _party(by_code.get(code, []))
            elif code in in_reference:  # an observer State the page does not list
                cell = _cell("not_listed", None)
            else:
                cell = _from_rows(by_code.get(code, []))
        cell["line"] = _words(cell)
        cells[code] = cell
    return cells


def standings(
    session: Session,
    codes: Sequence[str],
    source: str | None = None,
    reference: ReferenceList | None = None,
) -> list[dict[str, Any]]:
    """Per tracked treaty (its source's order; `source`: that source's only), the standing of
    each of `codes` (ISO alpha-3): {treaty, source, title, cells: {code: cell}}."""
    reference = reference or un_members()
    rows = []
    for treaty, slug, snapshot in _latest(session, source):
        rows.append(
            {
                "treaty": registry.public_id(slug, treaty.external_id),
                "source": slug,
                "title": snapshot.data.get("title") or treaty.title,
                "status_as_at": snapshot.status_as_at.isoformat()
                if snapshot.status_as_at
                else None,
                "cells": _cells(session, treaty, slug, snapshot, codes, reference),
            }
        )
    return rows


def _describe(c: Country) -> dict[str, Any]:
    return {"iso3": c.iso3, "name": c.name, "group": c.group, "admitted": c.admitted}


def country_standing(
    session: Session, country: Country, source: str | None = None
) -> dict[str, Any]:
    """A country's standing in every tracked treaty, with the count of each standing."""
    rows = standings(session, [country.iso3], source)
    treaties = [
        {k: v for k, v in r.items() if k != "cells"} | r["cells"][country.iso3] for r in rows
    ]
    counts = {k: sum(1 for t in treaties if t["standing"] == k) for k in STANDINGS}
    return _describe(country) | {"treaties": treaties, "counts": counts}


def compare(session: Session, asked: Sequence[str], source: str | None = None) -> dict[str, Any]:
    """The matrix of 2 to 5 countries (ISO codes or names, each found as `find_country` finds
    it) across the tracked treaties; BadCountries names what is wrong with the asking."""
    wanted = [a.strip() for a in asked if a.strip()]
    if not MIN_COMPARED <= len(wanted) <= MAX_COMPARED:
        raise BadCountries(
            f"compare {MIN_COMPARED} to {MAX_COMPARED} countries (ISO 3166 alpha-3 codes or "
            f"names, comma-separated: ?c=FRA,DEU,USA); got {len(wanted)}"
        )
    found: list[Country] = []
    for text in wanted:
        lookup = find_country(session, text)
        if lookup.found is None:
            hint = (
                "; it could be " + ", ".join(f"{c.name} ({c.iso3})" for c in lookup.candidates[:8])
                if lookup.candidates
                else ""
            )
            raise BadCountries(f"no single country is {text!r}{hint}")
        if lookup.found in found:
            raise BadCountries(f"{lookup.found.name} ({lookup.found.iso3}) is asked twice")
        found.append(lookup.found)
    codes = [c.iso3 for c in found]
    return {
        "countries": [_describe(c) for c in found],
        "treaties": standings(session, codes, source),
        "standings": STANDINGS,
    }


def countries_index(
    session: Session, q: str | None = None, source: str | None = None
) -> dict[str, Any]:
    """Every known country (`q`: those it finds, see `search`) with how many tracked treaties
    it is a party to and has signed only."""
    countries = known_countries(session)
    shown = search(countries, q) if q else countries
    rows = standings(session, [c.iso3 for c in shown], source) if shown else []
    listed = []
    for c in shown:
        counts = dict.fromkeys(STANDINGS, 0)
        for r in rows:
            counts[r["cells"][c.iso3]["standing"]] += 1
        listed.append(_describe(c) | {"counts": counts})
    return {"countries": listed, "treaties": len(rows), "q": q or ""}
