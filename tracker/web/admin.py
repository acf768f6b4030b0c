"""Operator endpoints of the API (bearer token `TRACKER_ADMIN_TOKEN`; disabled when unset):
outside-data conditions and disputed rule events here; subscriptions and the delivery outbox in
tracker.web.admin_alerts.

The token is checked before anything else of the request (`OperatorRoute`): an unauthenticated
request gets its 401 (403 when disabled) whatever its body, parameters or size, and its body is
never read or parsed."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from db.vocabulary import (
    RULE_EVENT_KINDS,
)
from tracker.services import unit_of_work
from tracker.services.disputed_events import NothingDisputed, confirm_disputed
from tracker.services.read.common import NotFound
from tracker.services.read.treaties import find_treaty
from tracker.services.rules_service import BadCondition, confirm_condition
from tracker.sources import registry
from tracker.web.api import TreatyId

FORBIDDEN: dict[int | str, dict[str, Any]] = {
    400: {"description": "A body that is not JSON"},
    401: {"description": "Missing or wrong bearer token (checked before the body is read)"},
    403: {"description": "Operator endpoints are disabled (TRACKER_ADMIN_TOKEN unset)"},
}
TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"description": "Request body over TRACKER_MAX_REQUEST_BODY bytes (refused unread)"}
}


def require_admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """Accept `Authorization: Bearer <TRACKER_ADMIN_TOKEN>`; refuse everything else."""
    token = request.app.state.settings.admin_token
    if not token:
        raise HTTPException(403, detail="operator endpoints are disabled: set TRACKER_ADMIN_TOKEN")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        raise HTTPException(
            401, detail="a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )


class OperatorRoute(APIRoute):
    """An operator route: the bearer token is checked first, before FastAPI reads and parses
    the body or validates parameters (it solves dependencies only after the body)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def authenticated(request: Request) -> Response:
            require_admin(request, request.headers.get("authorization"))
            return await handler(request)

        return authenticated


router = APIRouter(prefix="/api", tags=["operators"], route_class=OperatorRoute)


class Confirmation(BaseModel):
    """An operator's word that an outside-data condition was met on a legal date."""

    met_on: date = Field(description="the legal date the condition was met (YYYY-MM-DD)")
    note: str | None = Field(
        default=None, max_length=2000, description="where the figure comes from"
    )


@router.post(
    "/treaties/{treaty_id}/conditions/{key}",
    summary="Confirm that a rule's outside-data condition was met (operators)",
    dependencies=[Depends(require_admin)],
    responses=FORBIDDEN
    | TOO_LARGE
    | {404: {"description": "Unknown treaty"}, 422: {"description": "Bad input"}},
)
def confirm(
    treaty_id: TreatyId,
    key: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
    body: Confirmation,
    request: Request,
) -> dict[str, Any]:
    approaching = request.app.state.settings.approaching_remaining
    try:
        with unit_of_work.write(request.app.state.sessions) as session:
            done = confirm_condition(
                session,
                treaty_id,
                key,
                body.met_on,
                note=body.note,
                now=datetime.now(UTC),
                approaching=approaching,
            )
    except NotFound as error:
        raise HTTPException(404, detail=str(error)) from None
    except BadCondition as error:
        raise HTTPException(422, detail=str(error)) from None
    return done  # cached answers key on confirmations: the next GET sees this one


class DisputeConfirmation(BaseModel):
    """An operator's word that rule events held as disputed are right."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1, max_length=2000, pattern=r"\S", description="why they are right (kept)"
    )
    kind: Literal[tuple(k.value for k in RULE_EVENT_KINDS)] | None = Field(  # type: ignore[valid-type]
        default=None, description="only the disputed event of this kind (default: all)"
    )
    by: str | None = Field(default=None, max_length=200, description="who confirms")


@router.post(
    "/treaties/{treaty_id}/disputed/confirm",
    summary="Confirm rule events held as disputed (operators): final, deliveries enqueued",
    dependencies=[Depends(require_admin)],
    responses=FORBIDDEN
    | TOO_LARGE
    | {
        404: {"description": "Unknown treaty"},
        409: {"description": "No disputed rule event (of that kind) to confirm"},
        422: {"description": "Bad input"},
    },
)
def confirm_disputed_events(
    treaty_id: TreatyId, body: DisputeConfirmation, request: Request
) -> dict[str, Any]:
    """A rule event is held (`disputed`, nothing sent) while the evaluation it follows from
    disagrees with what the depositary prints; this makes it final, with who and why kept in its
    details (`settled`), and enqueues its deliveries, once."""
    by = body.by or "operator API (bearer token)"
    try:
        with unit_of_work.write(request.app.state.sessions) as session:
            treaty, slug = find_treaty(session, treaty_id)
            done = confirm_disputed(
                session, treaty, body.kind, reason=body.reason, by=by, now=datetime.now(UTC)
            )
            return {"treaty": registry.public_id(slug, treaty.external_id), "confirmed": done}
    except NotFound as error:
        raise HTTPException(404, detail=str(error)) from None
    except NothingDisputed as error:
        raise HTTPException(409, detail=str(error)) from None


# --- subscriptions and deliveries -------------------------------------------------------------
