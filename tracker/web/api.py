"""The JSON API under /api: treaties, participants, events, countries, rules, sources."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Source
from tracker.services import overview
from tracker.services.queries import NotFound, find_treaty, treaty_status
from tracker.services.rules_service import show_rule
from tracker.web.deps import get_session, today
from tracker.web.export import Format, respond

router = APIRouter(prefix="/api", tags=["api"])

DB = Annotated[Session, Depends(get_session)]
Today = Annotated[date, Depends(today)]
TreatyId = Annotated[
    str, Path(min_length=1, max_length=64, description="depositary id, e.g. XXVI-9")
]
AsOf = Annotated[date | None, Query(description="answer as of this legal date (YYYY-MM-DD)")]
Fmt = Annotated[Format, Query(alias="format", description="json (default) or csv")]
EventKind = Literal[overview.EVENT_KINDS]  # type: ignore[valid-type]

TREATY_COLUMNS = (
    "treaty",
    "title",
    "source",
    "signatories",
    "parties",
    "threshold",
    "qualifying_instruments",
    "remaining",
    "threshold_met_on",
    "entry_into_force",
    "published_entry_into_force",
    "stage",
    "in_force",
    "rule_origin",
    "observed_at",
    "last_checked_at",
    "source_healthy",
    "source_url",
)
PARTICIPANT_COLUMNS = (
    "name",
    "iso3",
    "reio",
    "signature",
    "consent",
    "provisional_application",
    "withdrawn",
    "in_force_from",
    "footnotes",
)
EVENT_COLUMNS = (
    "id",
    "treaty",
    "kind",
    "participant",
    "iso3",
    "legal_date",
    "observed_at",
    "state",
    "snapshot_id",
    "details",
)
COUNTRY_COLUMNS = ("treaty", "title", "column", "kind", "date", "withdrawn", "printed_name")


def _not_found(error: NotFound) -> HTTPException:
    return HTTPException(status_code=404, detail=str(error))


@router.get("/treaties", summary="Tracked treaties with counts, rule progress and stage")
def treaties(
    session: DB,
    day: Today,
    fmt: Fmt = "json",
    q: Annotated[str | None, Query(max_length=200, description="text in id or title")] = None,
    source: Annotated[str | None, Query(max_length=40, description="depositary, e.g. untc")] = None,
    in_force: bool | None = None,
    sort: Literal["treaty", "remaining"] = "treaty",
) -> Response:
    rows = overview.treaties_overview(
        session, today=day, q=q, source=source, in_force=in_force, sort=sort
    )
    return respond(rows, fmt, TREATY_COLUMNS, "treaties")


@router.get(
    "/treaties/{treaty_id}", summary="A treaty's status: the object of `tracker status --json`"
)
def treaty(treaty_id: TreatyId, session: DB, day: Today, as_of: AsOf = None) -> dict[str, Any]:
    try:
        return treaty_status(session, treaty_id, as_of=as_of, today=day)
    except NotFound as error:
        raise _not_found(error) from None


ParticipantFilter = Literal["all", "signed_not_ratified", "parties", "withdrawn"]


def _keep(p: dict[str, Any], which: ParticipantFilter) -> bool:
    if which == "signed_not_ratified":
        return bool(p["signature"]) and not p["consent"] and not p["withdrawn"]
    if which == "parties":
        return bool(p["consent"]) and not p["withdrawn"]
    if which == "withdrawn":
        return bool(p["withdrawn"])
    return True


@router.get("/treaties/{treaty_id}/participants", summary="A treaty's participants")
def participants(
    treaty_id: TreatyId,
    session: DB,
    day: Today,
    as_of: AsOf = None,
    which: Annotated[ParticipantFilter, Query(alias="filter")] = "all",
    fmt: Fmt = "json",
) -> Response:
    try:
        found = treaty_status(session, treaty_id, as_of=as_of, today=day)
    except NotFound as error:
        raise _not_found(error) from None
    rows = [p for p in found["participants"] if _keep(p, which)]
    return respond(rows, fmt, PARTICIPANT_COLUMNS, f"{found['treaty']}-participants")


@router.get("/treaties/{treaty_id}/events", summary="A treaty's change and rule events")
def treaty_events(treaty_id: TreatyId, session: DB, fmt: Fmt = "json") -> Response:
    try:
        found, _ = find_treaty(session, treaty_id)
    except NotFound as error:
        raise _not_found(error) from None
    rows = overview.events(session, treaty_id=found.id, limit=100_000)
    return respond(rows, fmt, EVENT_COLUMNS, f"{found.external_id}-events")


@router.get("/treaties/{treaty_id}/rule", summary="A treaty's entry-into-force rule")
def treaty_rule(treaty_id: TreatyId, session: DB) -> dict[str, Any]:
    try:
        return show_rule(session, treaty_id)
    except NotFound as error:
        raise _not_found(error) from None


@router.get("/events", summary="Events across treaties, newest first")
def all_events(
    session: DB,
    since: Annotated[datetime | None, Query(description="observed at or after (ISO 8601)")] = None,
    kind: EventKind | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    fmt: Fmt = "json",
) -> Response:
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    rows = overview.events(session, since=since, kind=kind, limit=limit)
    return respond(rows, fmt, EVENT_COLUMNS, "events")


@router.get("/countries/{iso3}", summary="A State's actions across every tracked treaty")
def country(
    iso3: Annotated[str, Path(pattern="^[A-Za-z]{3}$", description="ISO 3166 alpha-3")],
    session: DB,
    fmt: Fmt = "json",
) -> Response:
    found = overview.country(session, iso3)
    if found is None:
        raise HTTPException(
            404, detail=f"no participant with ISO code {iso3.upper()!r} in any tracked treaty"
        )
    if fmt == "csv":
        rows = [
            {"treaty": t["treaty"], "title": t["title"], **a}
            for t in found["treaties"]
            for a in t["actions"]
        ]
        return respond(rows, "csv", COUNTRY_COLUMNS, f"{found['iso3']}-actions")
    from fastapi.responses import JSONResponse

    return JSONResponse(found)


@router.get("/sources", summary="Each depositary source and its health")
def sources(session: DB) -> list[dict[str, Any]]:
    return [
        {
            "source": s.slug,
            "healthy": s.healthy,
            "base_url": s.base_url,
            "last_checked_at": s.last_checked_at.isoformat() if s.last_checked_at else None,
            "last_success_at": s.last_success_at.isoformat() if s.last_success_at else None,
            "consecutive_failures": s.consecutive_failures,
            "last_error": s.last_error,
            "last_crawl": s.last_crawl,
        }
        for s in session.scalars(select(Source).order_by(Source.slug))
    ]
