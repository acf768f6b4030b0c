"""Upcoming entry-into-force dates as an iCalendar feed (RFC 5545) and as CSV.

`/calendar.ics` (every treaty, `?source=`), `/treaties/{id}/calendar.ics` (one treaty) and
`/calendar.csv`: one all-day event per date (DTSTART;VALUE=DATE, DTEND the next day), a UID
stable across runs (the public id and the party, at the service's host), DTSTAMP the time the
page it is read from was observed (stable too: the same data gives the same bytes). Lines end
in CRLF and are folded at 75 octets (never inside a UTF-8 character); text values escape
backslashes, semicolons, commas and newlines. UIDs and URLs are built on TRACKER_PUBLIC_URL,
never on the request's Host header.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from tracker.services.read.calendar import upcoming
from tracker.services.read.common import NotFound
from tracker.services.read.treaties import find_treaty
from tracker.sources import registry
from tracker.web.api import DB, TreatyId
from tracker.web.deps import SourceFilter, public_url, today
from tracker.web.errors import UNKNOWN_TREATY
from tracker.web.export import printable, to_csv

router = APIRouter(tags=["calendar"])
ICS = "text/calendar; charset=utf-8"
PRODID = "-//treaty ratification tracker//upcoming entry into force//EN"
CSV_COLUMNS = (
    "date",
    "treaty",
    "title",
    "source",
    "participant",
    "iso3",
    "basis",
    "computed",
    "printed",
    "status_as_at",
    "observed_at",
    "url",
)


class CalendarResponse(Response):
    """An iCalendar document (so the OpenAPI document names the media type)."""

    media_type = ICS


def escape_text(value: str) -> str:
    """An RFC 5545 TEXT value (3.3.11): backslash, semicolon, comma and newline escaped."""
    text = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """One content line folded at 75 octets (RFC 5545 3.1): CRLF and a space before each
    continuation, never inside a UTF-8 character; ends with CRLF."""
    out: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size, limit = "", 0, 74  # the leading space takes one octet
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out) + "\r\n"


def _stamp(moment: str | None) -> str:
    value = datetime.fromisoformat(moment) if moment else datetime(2000, 1, 1, tzinfo=UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _day(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%Y%m%d")


def _summary(e: dict[str, Any]) -> str:
    if e["participant"]:
        return f"{e['treaty']} in force for {e['participant']}"
    return f"{e['treaty']} enters into force: {e['title']}"


def _description(e: dict[str, Any]) -> str:
    lines = [e["title"]]
    if e["basis"] == "printed":
        lines.append(f"Date as printed by the depositary ({e['source']}).")
    elif e["basis"] == "computed, differs":
        lines.append(f"Computed from the rule; the depositary prints {e['printed']}.")
    else:
        lines.append("Computed from the entry-into-force rule.")
    if e.get("status_as_at"):
        lines.append(f"Status as at {e['status_as_at'][:10]}, observed {e['observed_at'][:10]}.")
    else:
        lines.append(f"Observed {(e['observed_at'] or '')[:10]}.")
    return "\n".join(lines)


def _url(base: str, treaty: str) -> str:
    return f"{base}/treaties/{quote(treaty, safe='')}"


def ics(events: Sequence[dict[str, Any]], *, name: str, base: str) -> str:
    """The calendar of `events` (upcoming entries into force) as RFC 5545 text."""
    host = urlsplit(base).hostname or "localhost"
    lines: list[str] = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for e in printable(list(events)):
        end = date.fromisoformat(e["date"]) + timedelta(days=1)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e['key']}@{host}",
            f"DTSTAMP:{_stamp(e['observed_at'])}",
            f"DTSTART;VALUE=DATE:{_day(e['date'])}",
            f"DTEND;VALUE=DATE:{end.strftime('%Y%m%d')}",
            f"SUMMARY:{escape_text(_summary(e))}",
            f"DESCRIPTION:{escape_text(_description(e))}",
            f"URL:{_url(base, e['treaty'])}",
            f"CATEGORIES:{escape_text('entry into force')}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) for line in lines)


def _events(request: Request, session: DB, **kw: Any) -> list[dict[str, Any]]:
    try:
        return upcoming(session, today=today(request), **kw)
    except NotFound as error:
        raise HTTPException(404, detail=str(error)) from None


def _calendar(text: str, filename: str) -> Response:
    return CalendarResponse(
        text, headers={"Content-Disposition": f'inline; filename="{filename}.ics"'}
    )


@router.get(
    "/calendar.ics",
    summary="iCalendar feed of upcoming entry-into-force dates (treaties and later parties)",
    response_class=CalendarResponse,
)
def all_calendar(request: Request, session: DB, source: SourceFilter = None) -> Response:
    events = _events(request, session, source=source)
    name = "Treaty tracker: upcoming entry into force"
    if source is not None:
        name += f" ({registry.get(source).title})"
    return _calendar(ics(events, name=name, base=public_url(request)), "entry-into-force")


@router.get(
    "/treaties/{treaty_id}/calendar.ics",
    summary="iCalendar feed of one treaty's upcoming entry-into-force dates",
    response_class=CalendarResponse,
    responses=UNKNOWN_TREATY,
)
def treaty_calendar(treaty_id: TreatyId, request: Request, session: DB) -> Response:
    events = _events(request, session, treaty_id=treaty_id)
    public = _public(session, treaty_id)
    text = ics(events, name=f"Treaty tracker: {public}", base=public_url(request))
    return _calendar(text, public)


def _public(session: DB, treaty_id: str) -> str:
    treaty, slug = find_treaty(session, treaty_id)
    return registry.public_id(slug, treaty.external_id)


@router.get(
    "/calendar.csv",
    summary="Upcoming entry-into-force dates as CSV (the calendar's rows)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def calendar_csv(request: Request, session: DB, source: SourceFilter = None) -> Response:
    base = public_url(request)
    rows = [e | {"url": _url(base, e["treaty"])} for e in _events(request, session, source=source)]
    return Response(
        to_csv(rows, CSV_COLUMNS),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="entry-into-force.csv"'},
    )
