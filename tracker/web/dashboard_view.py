"""Pure helpers for the dashboard pages: parameter checks, display filters, participant views."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode

import pycountry

from db.vocabulary import in_words
from tracker.catalogue import catalogue
from tracker.services.read import treaties
from tracker.services.read.treaties import STAGES, stage
from tracker.sources import registry

FILTERS = {
    "all": "All",
    "signed_not_ratified": "Signed, not ratified",
    "parties": "Parties",
    "withdrawn": "Withdrawn",
}
PARTICIPANT_SORTS = (
    "name",
    "iso3",
    "signature",
    "consent",
    "provisional",
    "in_force_from",
    "published_in_force_from",
)
# The overview's sorts, its default first: closest to entering into force.
OVERVIEW_SORTS = ("closest", *(s for s in treaties.OVERVIEW_SORTS if s != "closest"))
PAGE_SIZE = 50  # treaties per overview page


class BadInput(ValueError):
    """A query parameter that cannot be used (answered with 422 and the message)."""


def sources() -> dict[str, str]:
    """The registered sources, slug -> title, in registration order (the pages' source filter)."""
    return {s.slug: s.title for s in registry.all_sources()}


def source_choice(value: str | None) -> str | None:
    """The `source` parameter: empty (every source) or a registered slug, else BadInput."""
    if value is None or value == "":
        return None
    if value not in sources():
        raise BadInput(f"source must be one of {', '.join(sources())}; got {value!r}")
    return value


def overview_link(**params: str | int | None) -> str:
    """A link to the overview keeping the given parameters (defaults left out)."""
    defaults: dict[str, str | int] = {"sort": OVERVIEW_SORTS[0], "page": 1}
    kept = {k: v for k, v in params.items() if v and v != defaults.get(k)}
    return "/" + (f"?{urlencode(kept)}" if kept else "")


def overview_linker(current: dict[str, str | None]) -> Callable[..., str]:
    """Overview links that keep the current filters and sort, with changes (a filter changed
    goes back to the first page: `page` is kept only when given)."""

    def link(**changes: str | int | None) -> str:
        return overview_link(**(current | changes))

    return link


def stage_choice(value: str | None) -> str | None:
    """The `stage` parameter: empty (every stage) or a stage, spaces or hyphens
    ("not-in-force"), else BadInput."""
    text = (value or "").strip().replace("-", " ").replace("_", " ").casefold()
    if not text:
        return None
    if text not in STAGES:
        raise BadInput(f"stage must be one of {', '.join(STAGES)}; got {value!r}")
    return text


def chapter_choice(value: str | None) -> str | None:
    """The `chapter` parameter: empty (every chapter) or a chapter as printed (XXVI, IV)."""
    text = (value or "").strip().upper()
    if not text:
        return None
    if not re.fullmatch(r"[A-Z0-9]{1,12}", text):
        raise BadInput(f"chapter must be a chapter number as printed (e.g. XXVI); got {value!r}")
    return text


def page_choice(value: str | None) -> int:
    """The `page` parameter: empty (the first) or a whole number from 1."""
    text = (value or "").strip()
    if not text:
        return 1
    if not re.fullmatch(r"[1-9][0-9]{0,5}", text):
        raise BadInput(f"page must be a whole number from 1; got {value!r}")
    return int(text)


def roman_order(chapter: str) -> tuple[int, str]:
    """Chapters in their order (IV before XXVI), anything not a Roman numeral last."""
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
    if not chapter or any(c not in values for c in chapter):
        return (10**6, chapter)
    total = 0
    for here, after in zip(chapter, [*chapter[1:], ""], strict=True):
        n = values[here]
        total += -n if after and values[after] > n else n
    return (total, chapter)


words = in_words  # a stored word as people read it (db.vocabulary)


def eif_of(row: dict[str, Any]) -> dict[str, Any]:
    """An overview row's entry into force: the computed and the printed date, and whether they
    differ (both known and not equal)."""
    computed, printed = row.get("entry_into_force"), row.get("published_entry_into_force")
    return {
        "computed": computed,
        "printed": printed,
        "differ": bool(computed and printed and computed != printed),
    }


def choice(name: str, value: str | None, allowed: tuple[str, ...] | dict[str, str]) -> str:
    """One of `allowed` (the first when empty), else BadInput naming the choices."""
    if value is None or value == "":
        return next(iter(allowed))
    if value not in allowed:
        raise BadInput(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def parse_as_of(value: str | None) -> date | None:
    """The as_of parameter: empty or a real calendar date written YYYY-MM-DD."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(
            f"as_of must be a calendar date written YYYY-MM-DD (e.g. 2020-10-24); got {value!r}"
        ) from None


def when(value: str | None) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM UTC' (a date stays a date; None is a dash)."""
    if not value:
        return "—"
    if "T" not in value:
        return value
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")


def sentence(text: str) -> str:
    """Capitalize the first letter only (Jinja's `capitalize` lowers the rest)."""
    return text[:1].upper() + text[1:]


def country_name(iso3: str) -> str:
    """An ISO code's English name (the code itself if pycountry does not know it)."""
    found = pycountry.countries.get(alpha_3=iso3)
    return getattr(found, "common_name", None) or getattr(found, "name", None) or iso3


def named_progress(row: dict[str, Any]) -> tuple[int, int] | None:
    """(have, needed) towards the rule: instruments, or for a rule of named States, theirs."""
    needed, remaining = row.get("threshold"), row.get("remaining")
    if not needed or remaining is None:
        return None
    curated = catalogue(row["source"]).rules.get(row["treaty"])
    if curated is not None and curated.threshold is None:  # all_of / at_least named States
        return needed - remaining, needed
    return row.get("qualifying_instruments") or 0, needed


def needed(found: dict[str, Any]) -> int | None:
    """The threshold of a status answer, or for a rule of named States how many are needed."""
    value: int | None = (found["rule"] or {}).get("threshold")
    if value is None and found["groups"]:
        value = sum(g["needed"] for g in found["groups"])
    return value


def treaty_stage(found: dict[str, Any], on: date) -> str:
    """The overview's stage (not in force / threshold met / in force) of a status answer."""
    eif = found["entry_into_force"]
    row = {
        "entry_into_force": eif["computed"],
        "published_entry_into_force": eif["published"],
        "in_force": found["in_force"],
        "threshold": needed(found),
        "threshold_met_on": found["threshold_met_on"],
    }
    return stage(row, on)


def categories(p: dict[str, Any]) -> list[str]:
    """The participant filters a participant passes (besides 'all'), as the API's filter."""
    if p["withdrawn"]:
        return ["withdrawn"]
    if p["consent"]:
        return ["parties"]
    if p["signature"]:
        return ["signed_not_ratified"]
    return []


def participant_key(column: str) -> Callable[[dict[str, Any]], tuple[bool, str]]:
    """Sort key for a participants column: blanks last, text folded, ISO dates as text."""

    def key(p: dict[str, Any]) -> tuple[bool, str]:
        value = {
            "name": p["name"],
            "iso3": p["iso3"],
            "signature": p["signature"],
            "consent": (p["consent"] or {}).get("date"),
            "provisional": (p["provisional_application"] or {}).get("date"),
            "in_force_from": p["in_force_from"],
            "published_in_force_from": p.get("published_in_force_from"),
        }[column]
        return (value is None, (value or "").casefold())

    return key


def linker(treaty: str, **current: str | None) -> Callable[..., str]:
    """Build treaty-page links that keep the current parameters (defaults left out)."""
    defaults = {"filter": "all", "sort": "name"}

    def link(**changes: str | None) -> str:
        params = {k: v for k, v in (current | changes).items() if v and v != defaults.get(k)}
        query = urlencode(params)
        return f"/treaties/{quote(treaty)}" + (f"?{query}" if query else "")

    return link
