"""Operator endpoints for alerts (bearer token, as in tracker.web.admin): subscriptions (create,
list, end) and the delivery outbox."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from db.vocabulary import (
    ALERT_KINDS,
    Channel,
    DeliveryState,
    DigestMode,
    SubscriptionState,
)
from tracker.alerts import subscriptions
from tracker.alerts.channels import DeliveryError
from tracker.alerts.outbox import delivery_rows
from tracker.alerts.subscriptions import Subscription
from tracker.services import unit_of_work
from tracker.services.unit_of_work import Session, Unreachable
from tracker.web.admin import FORBIDDEN, TOO_LARGE, OperatorRoute, require_admin
from tracker.web.deps import SourceFilter
from tracker.web.threads import run_mail

router = APIRouter(prefix="/api", tags=["operators"], route_class=OperatorRoute)
log = logging.getLogger(__name__)
AUTH: dict[int | str, dict[str, Any]] = {
    401: FORBIDDEN[401],
    403: FORBIDDEN[403],
    503: {"description": "The database cannot be reached"},
}
MAX_ID = 2**31 - 1  # the database's integer ids
AlertKind = Literal[tuple(k.value for k in ALERT_KINDS)]  # type: ignore[valid-type]


@contextmanager
def _database(request: Request, *, write: bool) -> Iterator[Session]:
    """A unit of work (a write one when `write`); a database that is down is a 503."""
    sessions = request.app.state.sessions
    try:
        with unit_of_work.write(sessions) if write else unit_of_work.read(sessions) as session:
            yield session
    except Unreachable as error:
        log.warning("database unavailable: %s", str(error).splitlines()[0])
        raise HTTPException(503, detail="database unavailable (see /healthz)") from None


class NewSubscription(BaseModel):
    """A channel and its filters; an empty filter list means everything."""

    model_config = ConfigDict(extra="forbid")

    channel: Literal[tuple(c.value for c in Channel)]  # type: ignore[valid-type]
    target: str = Field(
        min_length=1,
        max_length=2000,
        pattern=r"^[^\x00-\x1f\x7f]+$",  # no control characters (header injection, NUL)
        description="email address, webhook URL (http/https; public, or allow-listed in "
        "TRACKER_WEBHOOK_ALLOWLIST) or Apprise URL",
    )
    treaties: list[str] = Field(default=[], max_length=500, description="treaty ids; [] all")
    countries: list[str] = Field(default=[], max_length=500, description="ISO3 codes; [] all")
    kinds: list[AlertKind] = Field(default=[], max_length=20, description="event kinds; [] all")
    digest: Literal[tuple(d.value for d in DigestMode)] = DigestMode.IMMEDIATE.value  # type: ignore[valid-type]


class SubscriptionOut(BaseModel):
    """A subscription as operators see it (the webhook secret only when it is created)."""

    id: int
    channel: str
    target: str
    treaties: list[str]
    countries: list[str]
    kinds: list[str]
    digest: str
    state: Literal[tuple(s.value for s in SubscriptionState)]  # type: ignore[valid-type]
    created_at: datetime | None = None
    confirmed_at: datetime | None = None
    unsubscribed_at: datetime | None = None
    covers: str = Field(description="the filters in words")
    secret: str | None = Field(
        default=None,
        description="webhooks, on creation only: the HMAC-SHA256 key of X-Tracker-Signature",
    )


def _out(sub: Subscription, *, with_secret: bool = False) -> SubscriptionOut:
    """A subscription (as the subscriptions service gives it) as answered."""
    found = subscriptions.describe(sub, with_secret=with_secret, with_dates=True)
    return SubscriptionOut.model_validate(found)


@router.post(
    "/subscriptions",
    summary="Subscribe a channel to events (operators); email starts pending (double opt-in)",
    dependencies=[Depends(require_admin)],
    status_code=201,
    response_model=SubscriptionOut,
    response_model_exclude_none=True,
    responses=FORBIDDEN
    | AUTH
    | TOO_LARGE
    | {
        422: {"description": "Bad input: unknown channel or kind, bad address, refused URL"},
        502: {"description": "The confirmation email could not be sent; nothing was created"},
        503: {
            "description": "The database cannot be reached, or email is not configured "
            "(TRACKER_SECRET_KEY, TRACKER_SMTP_URL)"
        },
    },
)
async def create_subscription(body: NewSubscription, request: Request) -> SubscriptionOut:
    """Webhooks and Apprise are active at once (a webhook's `secret` is in the answer, once);
    an email subscription is pending until its address confirms the link sent to it now."""
    # On a mail thread (tracker.web.threads): an email subscription's opt-in is sent inside
    # its transaction, and a slow mail server must not hold the web's threads.
    return await run_mail(_create_subscription, body, request)


def _create_subscription(body: NewSubscription, request: Request) -> SubscriptionOut:
    settings = request.app.state.settings
    if body.channel == "email":
        missing = [
            name
            for name, value in (
                ("TRACKER_SECRET_KEY", settings.secret_key),
                ("TRACKER_SMTP_URL", settings.smtp_url),
            )
            if not value
        ]
        if missing:
            raise HTTPException(
                503, detail=f"email subscriptions are unavailable: set {' and '.join(missing)}"
            )
    try:
        with _database(request, write=True) as session:
            sub = subscriptions.create(
                session,
                settings,
                channel=body.channel,
                target=body.target.strip(),
                treaties=body.treaties,
                countries=body.countries,
                kinds=body.kinds,
                digest=body.digest,
                now=datetime.now(UTC),
            )
            if sub.channel == "email":
                subscriptions.send_opt_in(settings, sub)  # failure rolls the subscription back
            return _out(sub, with_secret=True)
    except subscriptions.BadSubscription as bad:
        raise HTTPException(422, detail=str(bad)) from None
    except DeliveryError as failed:
        raise HTTPException(
            502,
            detail=f"the confirmation email could not be sent ({failed.reason}); "
            "no subscription was made",
        ) from None


@router.get(
    "/subscriptions",
    summary="Every subscription (operators)",
    dependencies=[Depends(require_admin)],
    response_model=list[SubscriptionOut],
    response_model_exclude_none=True,
    responses=AUTH,
)
def list_subscriptions(request: Request) -> list[SubscriptionOut]:
    with _database(request, write=False) as session:
        return [_out(sub) for sub in subscriptions.every(session)]


@router.delete(
    "/subscriptions/{subscription_id}",
    summary="End a subscription (operators); ending an ended one changes nothing",
    dependencies=[Depends(require_admin)],
    response_model=SubscriptionOut,
    response_model_exclude_none=True,
    responses=AUTH | {404: {"description": "No such subscription"}, 422: {"description": "Bad id"}},
)
def delete_subscription(
    subscription_id: Annotated[int, Path(ge=1, le=MAX_ID)], request: Request
) -> SubscriptionOut:
    """The subscription is kept, ended (`unsubscribed`): its deliveries stay visible."""
    with _database(request, write=True) as session:
        sub = subscriptions.end(session, subscription_id, datetime.now(UTC))
        if sub is None:
            raise HTTPException(404, detail=f"no subscription {subscription_id}")
        return _out(sub)


class EventRef(BaseModel):
    id: int
    kind: str
    treaty: str | None  # None: an event about a source (source_unhealthy, source_recovered)
    source: str | None = (
        None  # the source's slug (the treaty's, or the one a source event is about)
    )
    participant: str | None
    legal_date: date | None


class SubscriptionRef(BaseModel):
    id: int
    channel: str
    target: str = Field(description="credentials in URLs masked (the stored target is whole)")


class DeliveryOut(BaseModel):
    """One row of the outbox: an event for a subscription, and how sending it went."""

    id: int
    state: Literal[tuple(s.value for s in DeliveryState)]  # type: ignore[valid-type]
    event: EventRef
    subscription: SubscriptionRef
    idempotency_key: str
    attempts: int
    last_error: str | None
    due_at: datetime
    sent_at: datetime | None
    created_at: datetime | None = None


@router.get(
    "/deliveries",
    summary="The delivery outbox, newest first (operators): e.g. the dead ones",
    dependencies=[Depends(require_admin)],
    response_model=list[DeliveryOut],
    responses=AUTH | {422: {"description": "Bad state or limit"}},
)
def list_deliveries(
    request: Request,
    state: Annotated[
        Literal[tuple(s.value for s in DeliveryState)] | None,  # type: ignore[valid-type]
        Query(description="only deliveries in this state (default: all)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many")] = 100,
    source: SourceFilter = None,
) -> list[DeliveryOut]:
    with _database(request, write=False) as session:
        rows = delivery_rows(session, state, limit, source)
    return [
        DeliveryOut(
            **(row | {"event": EventRef(**row["event"])})
            | {"subscription": SubscriptionRef(**row["subscription"])}
        )
        for row in rows
    ]
