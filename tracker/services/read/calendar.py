"""Upcoming entry-into-force dates: of each treaty (its rule's computed date, else the one its
depositary prints) and of each State that joins later (its own date, computed or printed), from
today on. The iCalendar feed and its CSV are written from these (tracker.web.calendar).

A date is upcoming when it is today or later. A party's date equal to its treaty's own is left
out (the original parties come into force with the treaty: that is the treaty's entry). Each
entry carries `key`, stable across runs (the public id, and the party's ISO code or folded
name), and `observed_at`, when the page it is read from was observed.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from tracker.services.read.status import treaty_status
from tracker.services.read.treaties import find_treaty, treaties_overview
from tracker.sources import registry

__all__ = ["upcoming"]


def _key(public: str, party: dict[str, Any] | None = None) -> str:
    if party is None:
        return f"{public}/entry-into-force"
    who = party.get("iso3") or re.sub(r"[^a-z0-9]+", "-", (party.get("name") or "").casefold())
    return f"{public}/{who.strip('-')}/entry-into-force"


def _dates(computed: str | None, printed: str | None) -> tuple[str | None, str]:
    """The date to show (computed, else printed) and what it rests on."""
    if computed:
        return computed, "computed" if not printed or printed == computed else "computed, differs"
    return printed, "printed"


def upcoming(
    session: Session,
    *,
    today: date,
    treaty_id: str | None = None,
    source: str | None = None,
) -> list[dict[str, Any]]:
    """Upcoming entries into force, soonest first (then by treaty and party): of every treaty
    (of `source`), or of the treaty `treaty_id` names (NotFound when none)."""
    rows = treaties_overview(session, today=today, source=source)
    if treaty_id is not None:
        treaty, slug = find_treaty(session, treaty_id)
        public = registry.public_id(slug, treaty.external_id)
        rows = [r for r in rows if r["treaty"] == public]
    found: list[dict[str, Any]] = []
    for row in rows:
        when, basis = _dates(row.get("entry_into_force"), row.get("published_entry_into_force"))
        base = {
            "treaty": row["treaty"],
            "title": row["title"],
            "source": row["source"],
            "observed_at": row["observed_at"],
            "status_as_at": row.get("status_as_at"),
        }
        if when and when >= today.isoformat():
            found.append(
                base
                | {
                    "key": _key(row["treaty"]),
                    "date": when,
                    "basis": basis,
                    "computed": row.get("entry_into_force"),
                    "printed": row.get("published_entry_into_force"),
                    "participant": None,
                    "iso3": None,
                }
            )
        found += _parties(session, row, base, when, today)
    return sorted(found, key=lambda e: (e["date"], registry.sort_key(e["treaty"]), e["key"]))


def _parties(
    session: Session,
    row: dict[str, Any],
    base: dict[str, Any],
    treaty_date: str | None,
    today: date,
) -> list[dict[str, Any]]:
    """The treaty's parties bound from a date of their own, upcoming."""
    if row.get("stage") == "not in force" and not row.get("published_entry_into_force"):
        # No party is bound before the treaty is; a printed per-party date (WIPO Lex) would
        # show as the treaty's printed date too.
        return []
    status = treaty_status(session, row["treaty"], today=today)
    out = []
    for p in status["participants"]:
        when, basis = _dates(p.get("in_force_from"), p.get("published_in_force_from"))
        if not when or when < today.isoformat() or when == treaty_date:
            continue
        out.append(
            base
            | {
                "key": _key(row["treaty"], p),
                "date": when,
                "basis": basis,
                "computed": p.get("in_force_from"),
                "printed": p.get("published_in_force_from"),
                "participant": p["name"],
                "iso3": p.get("iso3"),
            }
        )
    return out
