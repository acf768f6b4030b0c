"""The JSON API under /api: treaties, participants, events, countries, rules, sources.

Every answer comes from the read side (tracker.services.read), through a read unit of work per
request. Over 300 lines on purpose: one idea, the public routes with the parameter types and
column lists that make their OpenAPI document (the operators' routes are tracker.web.admin and
tracker.web.admin_alerts)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, BeforeValidator, TypeAdapter

from db.vocabulary import TREATY_EVENT_KINDS
from tracker.services import unit_of_work
from tracker.services.read.changes import event_by_id
from tracker.services.read.common import NotFound
from tracker.services.read.countries import country as country_actions
from tracker.services.read.events import events as list_events
from tracker.services.read.missing import treaty_missing
from tracker.services.read.sources import source_rows
from tracker.services.read.status import current_encoded, current_status
from tracker.services.read.treaties import find_treaty, treaties_overview
from tracker.services.rules_service import show_rule
from tracker.services.unit_of_work import Session, Unreachable
from tracker.sources import registry
from tracker.web.deps import SourceFilter, confirm_after, get_session, today
from tracker.web.export import XLSX_MEDIA, Column, Format, field, respond, words

router = APIRouter(prefix="/api", tags=["api"])
log = logging.getLogger(__name__)


def _session(session: Annotated[Session, Depends(get_session)]) -> Iterator[Session]:
    """The request's session; a database that cannot be reached is a 503, not a 500."""
    try:
        yield session
    except Unreachable as error:
        log.warning("database unavailable: %s", str(error).splitlines()[0])
        raise HTTPException(503, detail="database unavailable (see /healthz)") from None


DB = Annotated[Session, Depends(_session)]


@contextmanager
def _reading(request: Request) -> Iterator[Session]:
    """`_session` for a route that opens its unit of work itself (in its own thread)."""
    try:
        with unit_of_work.read(request.app.state.sessions) as session:
            yield session
    except Unreachable as error:
        log.warning("database unavailable: %s", str(error).splitlines()[0])
        raise HTTPException(503, detail="database unavailable (see /healthz)") from None


# The bytes FastAPI makes of a `dict[str, Any]` answer (its response model's JSON serializer).
encode_json = TypeAdapter(dict[str, Any]).dump_json
Today = Annotated[date, Depends(today)]
ConfirmAfter = Annotated[timedelta, Depends(confirm_after)]
TreatyId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        # no control characters: PostgreSQL text cannot hold NUL, and no treaty id has one
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="public treaty id (unique across sources), e.g. UNTC's XXVI-9 "
        "(printable characters only)",
        openapi_examples={"TPNW": {"value": "XXVI-9"}, "CTBT": {"value": "XXVI-4"}},
    ),
]


def iso_text(pattern: str, expected: str) -> BeforeValidator:
    """Refuse what is not ISO 8601 text (pydantic would read `0` or `20200101` as Unix time)."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and not re.fullmatch(pattern, value):
            raise ValueError(f"expected {expected}")
        return value

    return BeforeValidator(check)


AsOf = Annotated[
    date | None,
    iso_text(r"\d{4}-\d{2}-\d{2}", "a date as YYYY-MM-DD"),
    Query(description="answer as of this legal date (YYYY-MM-DD)"),
]


def _known_at_text(value: Any) -> Any:
    """Read `known_at`: a date (the end of that day, UTC) or a date-time with its zone."""
    if isinstance(value, str):
        from tracker.domain.moments import known_at_moment

        return known_at_moment(value)  # ValueError: a 422 naming known_at
    return value


KnownAt = Annotated[
    datetime | date | None,
    BeforeValidator(_known_at_text),
    Query(
        description="answer from the snapshots observed by then only: a date (YYYY-MM-DD, the "
        "end of that day UTC) or a date-time with its zone (e.g. 2026-02-03T15:00Z)",
    ),
]
Since = Annotated[
    datetime | None,
    iso_text(r"\d{4}-\d{2}-\d{2}([T ].*)?", "an ISO 8601 date or time, e.g. 2026-02-03T15:00Z"),
    Query(description="observed at or after (ISO 8601; without a zone: UTC)"),
]
Fmt = Annotated[
    Format,
    Query(
        alias="format",
        description="json (default), csv (UTF-8 with a byte order mark) or xlsx: flat columns",
    ),
]
EventKind = Literal[tuple(k.value for k in TREATY_EVENT_KINDS)]  # type: ignore[valid-type]

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
# The exports' flat columns (CSV, XLSX): one value per cell, kinds in words (tracker.web.export).
PARTICIPANT_COLUMNS = (
    "name",
    "iso3",
    "reio",
    Column("signature_date", field("signature")),
    Column("consent_date", field("consent", "date")),
    Column("consent_kind", lambda p: words(field("consent", "kind")(p))),
    Column("provisional_application_date", field("provisional_application", "date")),
    Column(
        "provisional_application_kind",
        lambda p: words(field("provisional_application", "kind")(p)),
    ),
    "withdrawn",
    "in_force_from",
    "published_in_force_from",
    "footnotes",
)


def _deciding(event: dict[str, Any]) -> str | None:
    deposits = field("details", "deciding_deposits")(event) or []
    named = [f"{d.get('participant')} ({d.get('date')})" for d in deposits if d.get("deciding")]
    return "; ".join(named) or None


EVENT_COLUMNS = (
    "id",
    "treaty",
    "source",
    Column("kind", lambda e: words(e.get("kind"))),
    "participant",
    "iso3",
    "legal_date",
    "observed_at",
    Column("state", lambda e: words(e.get("state"))),
    Column(
        "instrument_kind",
        lambda e: words(field("details", "action_kind")(e) or field("details", "after", "kind")(e)),
    ),
    Column("previous_kind", lambda e: words(field("details", "before", "kind")(e))),
    Column("previous_date", field("details", "before", "date"), "date"),
    Column("baseline", lambda e: bool(field("details", "baseline")(e))),
    Column("threshold", field("details", "threshold")),
    Column("qualifying_instruments", field("details", "qualifying_instruments")),
    Column("remaining", field("details", "remaining")),
    Column("entry_into_force", field("details", "entry_into_force", "computed")),
    Column("published_entry_into_force", field("details", "entry_into_force", "published")),
    Column("deciding_deposits", _deciding),
)
COUNTRY_COLUMNS = (
    "treaty",
    "source",
    "title",
    Column("column", lambda a: words(a.get("column"))),
    Column("kind", lambda a: words(a.get("kind"))),
    "date",
    "withdrawn",
    "printed_name",
)


class Problem(BaseModel):
    """A 4xx answer: what was wrong with the request."""

    detail: str


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "Not found"}}
CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The rows as JSON, or as CSV or XLSX with a header row and flat columns "
        "(`format=csv`, `format=xlsx`)",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX_MEDIA: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _not_found(error: NotFound) -> HTTPException:
    return HTTPException(status_code=404, detail=str(error))


def _status(
    session: Session,
    treaty_id: str,
    as_of: date | None,
    day: date,
    known_at: datetime | date | None,
    window: timedelta,
) -> dict[str, Any]:
    """treaty_status, with its errors as 4xx: unknown treaty (or no snapshot observed by
    known_at), or an as_of too late to compute (`window`: the settings' absence window)."""
    if isinstance(known_at, date) and not isinstance(known_at, datetime):
        known_at = datetime.combine(known_at, time.max, UTC)
    try:
        return current_status(session, treaty_id, as_of, day, known_at, confirm_after=window)
    except NotFound as error:
        raise _not_found(error) from None
    except OverflowError:  # a delay added to a date near 9999-12-31 leaves the calendar
        if as_of is None:
            raise
        message = (
            f"as_of {as_of.isoformat()} is too late: dates computed from it (such as entry "
            "into force after the rule's delay) would fall after 9999-12-31"
        )
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", "as_of"),
                    "msg": message,
                    "input": str(as_of),
                }
            ]
        ) from None


@router.get(
    "/treaties", summary="Tracked treaties with counts, rule progress and stage", responses=CSV
)
def treaties(
    session: DB,
    day: Today,
    fmt: Fmt = "json",
    q: Annotated[str | None, Query(max_length=200, description="text in id or title")] = None,
    source: SourceFilter = None,
    in_force: bool | None = None,
    sort: Literal["treaty", "remaining", "closest"] = "treaty",
) -> Response:
    rows = treaties_overview(session, today=day, q=q, source=source, in_force=in_force, sort=sort)
    return respond(rows, fmt, TREATY_COLUMNS, "treaties")


@router.get(
    "/treaties/{treaty_id}",
    summary="A treaty's status: the object of `tracker status --json`",
    response_model=dict[str, Any],  # the document's schema; the answer is its encoded bytes
    responses=NOT_FOUND,
)
def treaty(
    request: Request,
    treaty_id: TreatyId,
    as_of: AsOf = None,
    known_at: KnownAt = None,
) -> Response:
    # The current answer is served as the bytes kept beside it (`current_encoded`: one key
    # query and a look-up when nothing changed); as_of and known_at answers are computed. One
    # unit of work and one worker thread per request (no dependencies to run). No docstring:
    # it would become the operation's description in the OpenAPI document.
    day = today(request)
    with _reading(request) as session:
        if as_of is None and known_at is None:
            try:
                body = current_encoded(session, treaty_id, day, encode_json)
            except NotFound as error:
                raise _not_found(error) from None
        else:
            found = _status(session, treaty_id, as_of, day, known_at, confirm_after(request))
            body = encode_json(found)
    return Response(body, media_type="application/json")


ParticipantFilter = Literal["all", "signed_not_ratified", "parties", "withdrawn"]


def _keep(p: dict[str, Any], which: ParticipantFilter) -> bool:
    if which == "signed_not_ratified":
        return bool(p["signature"]) and not p["consent"] and not p["withdrawn"]
    if which == "parties":
        return bool(p["consent"]) and not p["withdrawn"]
    if which == "withdrawn":
        return bool(p["withdrawn"])
    return True


@router.get(
    "/treaties/{treaty_id}/participants",
    summary="A treaty's participants",
    responses=CSV | NOT_FOUND,
)
def participants(
    treaty_id: TreatyId,
    session: DB,
    day: Today,
    window: ConfirmAfter,
    as_of: AsOf = None,
    which: Annotated[ParticipantFilter, Query(alias="filter")] = "all",
    fmt: Fmt = "json",
    known_at: KnownAt = None,
) -> Response:
    found = _status(session, treaty_id, as_of, day, known_at, window)
    rows = [p for p in found["participants"] if _keep(p, which)]
    return respond(rows, fmt, PARTICIPANT_COLUMNS, f"{found['treaty']}-participants")


@router.get(
    "/treaties/{treaty_id}/events",
    summary="A treaty's change and rule events",
    responses=CSV | NOT_FOUND,
)
def treaty_events(treaty_id: TreatyId, session: DB, fmt: Fmt = "json") -> Response:
    try:
        found, slug = find_treaty(session, treaty_id)
    except NotFound as error:
        raise _not_found(error) from None
    rows = list_events(session, treaty_id=found.id, limit=100_000)
    return respond(
        rows, fmt, EVENT_COLUMNS, f"{registry.public_id(slug, found.external_id)}-events"
    )


@router.get(
    "/treaties/{treaty_id}/rule", summary="A treaty's entry-into-force rule", responses=NOT_FOUND
)
def treaty_rule(treaty_id: TreatyId, session: DB) -> dict[str, Any]:
    try:
        return show_rule(session, treaty_id)
    except NotFound as error:
        raise _not_found(error) from None


@router.get(
    "/treaties/{treaty_id}/missing",
    summary="Who has not joined: the UN Member States (and the observer States the page lists) "
    "with no consent to be bound, signed or not, and those that withdrew",
    description="From the treaty's latest status. Each State has `iso3`, `name` (as the UN "
    "writes it) and `signed` (the date, or null). `reference` names the list and its version, "
    "`observed_at` when the status was observed; `observers` says which observer States were "
    "counted and why; participants that are not UN Members or observer States (the EU, the "
    "Cook Islands, Niue) are in `not_in_reference`, never missing; a participant with no ISO "
    "code is named in `warnings`. The object of `tracker status ID --missing --json`.",
    responses=NOT_FOUND,
)
def treaty_not_joined(treaty_id: TreatyId, session: DB) -> dict[str, Any]:
    try:
        return treaty_missing(session, treaty_id)
    except NotFound as error:
        raise _not_found(error) from None


def _utc(moment: datetime) -> datetime:
    """`moment` in UTC (naive: already UTC); beyond the calendar's ends: its first or last instant."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+05:00 is before year 1 in UTC
        return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)


@router.get("/events", summary="Events across treaties, newest first", responses=CSV)
def all_events(
    session: DB,
    since: Since = None,
    kind: EventKind | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    fmt: Fmt = "json",
    source: SourceFilter = None,
) -> Response:
    if since is not None:
        since = _utc(since)
    rows = list_events(session, since=since, kind=kind, source=source, limit=limit)
    return respond(rows, fmt, EVENT_COLUMNS, "events")


@router.get(
    "/events/{event_id}",
    summary="One event by its id (what each Atom feed entry's id names)",
    description="The event with its treaty's public id, title and source; `baseline` is true "
    "for a rule event the tracker's first look at the treaty already showed. 404: no event "
    "about a treaty has that id.",
    responses=NOT_FOUND,
)
def one_event(
    event_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="the event's id")],
    session: DB,
) -> dict[str, Any]:
    found = event_by_id(session, event_id)
    if found is None:
        raise HTTPException(404, detail=f"no event {event_id}")
    return found


@router.get(
    "/countries/{iso3}",
    summary="A State's actions across every tracked treaty",
    responses=CSV | NOT_FOUND,
)
def country(
    iso3: Annotated[
        str,
        Path(
            pattern="^[A-Za-z]{3}$",
            description="ISO 3166 alpha-3",
            openapi_examples={"Austria": {"value": "AUT"}},
        ),
    ],
    session: DB,
    fmt: Fmt = "json",
    source: SourceFilter = None,
) -> Response:
    found = country_actions(session, iso3, source)
    if found is None:
        raise HTTPException(
            404, detail=f"no participant with ISO code {iso3.upper()!r} in any tracked treaty"
        )
    if fmt != "json":
        rows = [
            {"treaty": t["treaty"], "source": t["source"], "title": t["title"], **a}
            for t in found["treaties"]
            for a in t["actions"]
        ]
        return respond(rows, fmt, COUNTRY_COLUMNS, f"{found['iso3']}-actions")
    return JSONResponse(found)


@router.get("/sources", summary="Each depositary source and its health")
def sources(session: DB) -> list[dict[str, Any]]:
    return source_rows(session)
