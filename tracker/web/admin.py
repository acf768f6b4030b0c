"""Operator endpoints of the API (bearer token `TRACKER_ADMIN_TOKEN`; disabled when unset)."""

from __future__ import annotations

import hmac
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Request
from pydantic import BaseModel, Field

from tracker.services.detection import DEFAULT_APPROACHING
from tracker.services.queries import NotFound
from tracker.services.rules_service import BadCondition, confirm_condition
from tracker.web.api import TreatyId

router = APIRouter(prefix="/api", tags=["operators"])
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    400: {"description": "A body that is not JSON"},
    401: {"description": "Missing or wrong bearer token"},
    403: {"description": "Operator endpoints are disabled (TRACKER_ADMIN_TOKEN unset)"},
}


def require_admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """Accept `Authorization: Bearer <TRACKER_ADMIN_TOKEN>`; refuse everything else."""
    settings = request.app.state.settings
    token = settings.admin_token if settings is not None else None
    if not token:
        raise HTTPException(403, detail="operator endpoints are disabled: set TRACKER_ADMIN_TOKEN")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        raise HTTPException(
            401, detail="a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )


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
    | {404: {"description": "Unknown treaty"}, 422: {"description": "Bad input"}},
)
def confirm(
    treaty_id: TreatyId,
    key: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
    body: Confirmation,
    request: Request,
) -> dict[str, Any]:
    settings = request.app.state.settings
    approaching = settings.approaching_remaining if settings is not None else DEFAULT_APPROACHING
    try:
        with request.app.state.sessions.begin() as session:
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
