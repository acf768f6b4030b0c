"""Per-request database sessions and the clock, from the app's state (set by create_app)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BeforeValidator

from tracker.services import unit_of_work
from tracker.services.unit_of_work import Session
from tracker.sources.registry import slugs


def get_session(request: Request) -> Iterator[Session]:
    """A read unit of work per request (closed after the response)."""
    with unit_of_work.read(request.app.state.sessions) as session:
        yield session


def today(request: Request) -> date:
    """Today's UTC date (tests may pin it through app.state.clock)."""
    clock = getattr(request.app.state, "clock", None)
    return (clock() if clock else datetime.now(UTC)).date()


def confirm_after(request: Request) -> timedelta:
    """How long after a page without an act a second page confirms it gone (the settings'
    TRACKER_DISAPPEARANCE_CONFIRM_HOURS), for answers from the history."""
    return timedelta(hours=request.app.state.settings.disappearance_confirm_hours)


def public_url(request: Request) -> str:
    """The service's base URL as its users reach it (TRACKER_PUBLIC_URL), without a trailing
    slash. Absolute URLs are built on it, never on the request's Host header."""
    return request.app.state.settings.public_url.rstrip("/")


def registered_source(value: Any) -> Any:
    """Refuse a slug no registered source has, naming the known ones (a typo is not "none")."""
    if isinstance(value, str) and value not in slugs():
        raise ValueError(f"unknown source {value!r}; known: {', '.join(slugs())}")
    return value


# `?source=`: every list of treaties or events takes it (the registry's slugs, e.g. untc, wipo).
SourceFilter = Annotated[
    str | None,
    BeforeValidator(registered_source),
    Query(
        description="only this source's treaties (a registered slug: " + ", ".join(slugs()) + ")",
        json_schema_extra={"enum": list(slugs())},
    ),
]
