"""Atom feeds of events: all treaties, or one (feedgen writes the XML).

Ids and links are absolute URLs under TRACKER_PUBLIC_URL, never under the request's Host header
(a forged Host would otherwise be copied into every reader's feed, or a shared cache's copy).
Stored text is stripped of characters XML 1.0 cannot carry (`export.printable`), so no row from
older data can make a feed fail.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from feedgen.feed import FeedGenerator

from tracker.services.read.changes import last_checked
from tracker.services.read.common import NotFound
from tracker.services.read.events import feed_events
from tracker.services.read.treaties import find_treaty
from tracker.sources import registry
from tracker.web.api import DB, TreatyId
from tracker.web.deps import SourceFilter, public_url
from tracker.web.errors import UNKNOWN_TREATY
from tracker.web.event_words import headline, kind_words, state_words
from tracker.web.export import printable

router = APIRouter(prefix="/feeds", tags=["feeds"])
ATOM = "application/atom+xml; charset=utf-8"
FEED_SIZE = 100


def now(request: Request) -> datetime:
    """The app's clock (tests pin it through app.state.clock), aware."""
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock else datetime.now(UTC)


class AtomResponse(Response):
    """An Atom 1.0 document (so the OpenAPI document names the media type)."""

    media_type = ATOM


def _title(e: dict[str, Any]) -> str:
    """ "XXVI-9 (Treaty on the Prohibition of Nuclear Weapons): Austria became a party
    (ratification) on 2020-01-30", a baseline marked as such."""
    when = f" on {e['legal_date']}" if e["legal_date"] else ""
    named = f"{e['treaty']} ({e['title']})" if e.get("title") else e["treaty"]
    mark = " [baseline: already so at the tracker's first look]" if e.get("baseline") else ""
    return f"{named}: {headline(e)}{when}{mark}"


def _summary(e: dict[str, Any]) -> str:
    d = e["details"] or {}
    parts = [state_words(e["state"]) or "settled"]
    if e.get("baseline"):
        parts.append("baseline: the tracker's first look at the treaty already showed it")
    if "remaining" in d:
        parts.append(f"remaining instruments: {d['remaining']}")
    eif = (d.get("entry_into_force") or {}).get("computed")
    if eif:
        parts.append(f"entry into force: {eif}")
    return "; ".join(parts)


def _feed(
    request: Request,
    title: str,
    path: str,
    events: list[dict[str, Any]],
    checked: datetime | None,
) -> Response:
    """The feed; its `updated` is its newest entry's time, or with no entry the last check of
    what it covers (`checked`), or with nothing ever checked the time it is served (never the
    epoch)."""
    base = public_url(request)
    title, events = printable(title), printable(events)
    fg = FeedGenerator()
    fg.id(f"{base}{path}")
    fg.title(title)
    fg.link(href=f"{base}{path}", rel="self")
    fg.author({"name": "treaty tracker"})
    # feed_at: when the event became a settled fact (a released held event: its release)
    updated = max((datetime.fromisoformat(e["feed_at"]) for e in events), default=None)
    fg.updated(updated or checked or now(request))
    for e in reversed(events):  # feedgen prepends: add oldest first
        entry = fg.add_entry()
        entry.id(f"{base}/api/events/{e['id']}")
        entry.title(_title(e))
        entry.updated(datetime.fromisoformat(e["feed_at"]))
        entry.link(href=f"{base}/treaties/{quote(e['treaty'], safe='')}")
        entry.summary(_summary(e))
        entry.category(term=e["kind"], label=kind_words(e["kind"]))
        if e.get("baseline"):
            entry.category(term="baseline", label="already so at the tracker's first look")
    return AtomResponse(fg.atom_str(pretty=True))


Baseline = Annotated[
    bool,
    Query(
        description="also the events the tracker's first look at a treaty already showed "
        "(baseline: e.g. a threshold met long before it was first observed), marked as such",
    ),
]


@router.get("/events.atom", summary="Atom feed of the latest events", response_class=AtomResponse)
def events_feed(
    request: Request, session: DB, source: SourceFilter = None, baseline: Baseline = False
) -> Response:
    rows = feed_events(session, source=source, limit=FEED_SIZE, baseline=baseline)
    checked = last_checked(session, source=source)
    query = "&".join(
        p for p in (f"source={source}" if source else "", "baseline=true" if baseline else "") if p
    )
    path = "/feeds/events.atom" + (f"?{query}" if query else "")
    if source is None:
        return _feed(request, "Treaty tracker: events", path, rows, checked)
    title = f"Treaty tracker: events of {registry.get(source).title}"
    return _feed(request, title, path, rows, checked)


@router.get(
    "/treaties/{treaty_id}.atom",
    summary="Atom feed of one treaty's events",
    response_class=AtomResponse,
    responses=UNKNOWN_TREATY,
)
def treaty_feed(
    treaty_id: TreatyId, request: Request, session: DB, baseline: Baseline = False
) -> Response:
    try:
        treaty, slug = find_treaty(session, treaty_id)
    except NotFound as error:
        raise HTTPException(404, detail=str(error)) from None
    rows = feed_events(session, treaty_id=treaty.id, limit=FEED_SIZE, baseline=baseline)
    public = registry.public_id(slug, treaty.external_id)  # the id its URL takes
    path = f"/feeds/treaties/{public}.atom" + ("?baseline=true" if baseline else "")
    checked = last_checked(session, treaty_id=treaty.id)
    return _feed(request, f"Treaty tracker: {public} {treaty.title}", path, rows, checked)
