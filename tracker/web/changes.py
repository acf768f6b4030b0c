"""The /changes page: recent events across every treaty, in words, grouped by day and treaty,
filtered by kind, source and country, paginated (the Atom feed stays for feed readers).

Parameters are read as text and checked here: bad input gets an HTML page saying what was wrong
(422), as on the other dashboard pages.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from db.vocabulary import TREATY_EVENT_KINDS
from tracker.services.read.changes import PAGE_SIZE, changes
from tracker.services.unit_of_work import Session
from tracker.web import dashboard_view as view
from tracker.web.dashboard import templates
from tracker.web.deps import get_session
from tracker.web.event_words import headline, kind_words, state_words

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_session)]
KINDS = {k.value: kind_words(k.value) for k in TREATY_EVENT_KINDS}
MAX_PAGE = 10_000


def parse_since(value: str | None) -> datetime | None:
    """`since`: empty, a date (from the start of that day, UTC) or a date-time (no zone: UTC)."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return datetime.combine(date.fromisoformat(text), time.min, UTC)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", text):
            raise ValueError(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise view.BadInput(
            "since must be a date (YYYY-MM-DD) or a date and time (e.g. 2026-02-03T15:00Z); "
            f"got {value!r}"
        ) from None


def parse_country(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"[A-Za-z]{3}", text):
        raise view.BadInput(f"country must be an ISO 3166 alpha-3 code (e.g. AUT); got {value!r}")
    return text.upper()


def parse_page(value: str | None) -> int:
    text = (value or "").strip()
    if not text:
        return 1
    if not re.fullmatch(r"\d{1,5}", text) or not 1 <= int(text) <= MAX_PAGE:
        raise view.BadInput(f"page must be a whole number from 1 to {MAX_PAGE}; got {value!r}")
    return int(text)


def link(**params: Any) -> str:
    """A link to /changes with the given parameters (empty ones and page 1 left out)."""
    kept = {k: v for k, v in params.items() if v not in (None, "", False) and (k, v) != ("page", 1)}
    return "/changes" + (f"?{urlencode(kept)}" if kept else "")


@router.get("/changes", response_class=HTMLResponse)
def changes_page(
    request: Request,
    session: DB,
    since: str | None = None,
    kind: str | None = None,
    source: str | None = None,
    country: str | None = None,
    baseline: str | None = None,
    page: str | None = None,
) -> HTMLResponse:
    """Events of every treaty, newest first, grouped by day and treaty."""
    try:
        after = parse_since(since)
        what = view.choice("kind", kind, {"": "every kind", **KINDS}) or None
        only = view.source_choice(source)
        who = parse_country(country)
        number = parse_page(page)
        with_baseline = view.choice("baseline", baseline, ("", "include")) == "include"
    except view.BadInput as error:
        return templates.TemplateResponse(
            request, "error.html", {"title": "Bad request", "message": str(error)}, 422
        )
    found = changes(
        session,
        since=after,
        kind=what,
        source=only,
        country=who,
        baseline=with_baseline,
        page=number,
        per_page=PAGE_SIZE,
    )
    current = {
        "since": (since or "").strip() or None,
        "kind": what,
        "source": only,
        "country": who,
        "baseline": "include" if with_baseline else None,
    }
    feed = "/feeds/events.atom" + (f"?source={only}" if only else "")
    return templates.TemplateResponse(
        request,
        "changes.html",
        {
            "found": found,
            "current": current,
            "kinds": KINDS,
            "sources": view.sources(),
            "link": lambda **changes: link(**(current | changes)),
            "headline": headline,
            "kind_words": kind_words,
            "state_words": state_words,
            "feed": feed,
        },
    )
