"""Following a treaty or a country by e-mail without an operator: the "Follow" form of the
treaty and country pages posts here (`POST /follow`).

The form names an address, the treaty or the country, and the event kinds (none: every kind).
It is double opt-in, as every email subscription: nothing is sent but one confirmation message
until the address confirms it (tracker.web.subscribers). The answer never tells whether the
address already follows it: every accepted request gets the same page, and everything that
depends on the address's subscriptions (the lookup, the new pending subscription, the one email:
a confirmation, again the confirmation of a pending one, or for an active one a notice with its
manage link) is done after the answer is sent, so its time does not depend on them either.

Rate-limited per client IP (every POST counts) and per address (every well-formed request
counts), in this process's memory (tracker.web.ratelimit): past a limit the answer is a 429 with
Retry-After, the same for every address.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from db.vocabulary import ALERT_KINDS, EventKind, in_words
from tracker.alerts import subscriptions
from tracker.alerts.channels import DeliveryError
from tracker.services import unit_of_work
from tracker.services.read.common import NotFound
from tracker.services.read.treaties import find_treaty
from tracker.services.unit_of_work import DatabaseError
from tracker.settings import Settings
from tracker.sources import registry
from tracker.web.dashboard import templates
from tracker.web.ratelimit import RateLimit
from tracker.web.subscribers import form_lists, message_page, private_page
from tracker.web.threads import run_mail

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

# What a follower of a treaty or a country may choose (operators' source events are not theirs).
FOLLOW_KINDS: tuple[str, ...] = tuple(
    k.value
    for k in ALERT_KINDS
    if k not in (EventKind.SOURCE_UNHEALTHY, EventKind.SOURCE_RECOVERED)
)
PER_ADDRESS = (3, 3600.0)  # requests per address per hour
PER_CLIENT = (10, 3600.0)  # requests per client IP per hour


@dataclass
class Limits:
    """The form's rate limits (app.state.follow_limits; tests put their own)."""

    address: RateLimit
    client: RateLimit


def follow_available(request: Request) -> bool:
    """Whether this service can send confirmation emails (the form is shown only then)."""
    settings = request.app.state.settings
    return bool(settings.secret_key and settings.smtp_url)


templates.env.globals.update(
    follow_kinds={k: in_words(k) for k in FOLLOW_KINDS},
    follow_available=follow_available,
)


def _limits(request: Request) -> Limits:
    limits = getattr(request.app.state, "follow_limits", None)
    if limits is None:
        limits = request.app.state.follow_limits = Limits(
            RateLimit(*PER_ADDRESS), RateLimit(*PER_CLIENT)
        )
    return limits


def _too_many(request: Request, wait: float) -> HTMLResponse:
    minutes = max(1, math.ceil(wait / 60))
    response = message_page(
        request,
        429,
        "Too many requests",
        f"Too many follow requests came from here or for this address. Please try again in "
        f"{minutes} minute{'s' if minutes > 1 else ''}.",
    )
    response.headers["Retry-After"] = str(math.ceil(wait))
    return response


@dataclass(frozen=True)
class FollowRequest:
    address: str
    treaties: list[str]
    countries: list[str]
    kinds: list[str]


def _now(request: Request) -> datetime:
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock else datetime.now(UTC)


def _check_treaties(request: Request, treaties: list[str]) -> list[str]:
    """The treaties as public ids; NotFound for one that is not tracked."""
    out = []
    with unit_of_work.read(request.app.state.sessions) as session:
        for t in treaties:
            found, slug = find_treaty(session, t)
            out.append(registry.public_id(slug, found.external_id))
    return out


def follow_by_email(sessions: Any, settings: Settings, wanted: FollowRequest, now: datetime) -> str:
    """After the answer: make or find the subscription and send its one email; what was done
    (logged, never answered). A failed send rolls a new subscription back."""
    try:
        with unit_of_work.write(sessions) as session:
            same = subscriptions.same_email_subscription(
                session, wanted.address, wanted.treaties, wanted.countries, wanted.kinds
            )
            if same is not None and same.state == "active":
                subscriptions.send_already_following(settings, same, now)
                done = "already following"
            elif same is not None:
                subscriptions.send_opt_in(settings, same)
                done = "confirmation sent again"
            else:
                sub = subscriptions.create(
                    session,
                    settings,
                    channel="email",
                    target=wanted.address,
                    treaties=wanted.treaties,
                    countries=wanted.countries,
                    kinds=wanted.kinds,
                    now=now,
                )
                subscriptions.send_opt_in(settings, sub)
                done = "confirmation sent"
    except DeliveryError as failed:
        done = f"not sent ({failed.reason})"
    except (DatabaseError, subscriptions.BadSubscription) as error:
        done = f"failed ({str(error).splitlines()[0]})"
    log.info("follow request: %s", done)
    return done


@router.post("/follow", response_class=HTMLResponse)
async def follow(request: Request, background: BackgroundTasks) -> HTMLResponse:
    """Ask to follow a treaty or a country by email: the same answer for every address."""
    limits = _limits(request)
    client = request.client.host if request.client else "unknown"
    wait = limits.client.hit(client)
    if wait is not None:
        return _too_many(request, wait)
    if not follow_available(request):
        return message_page(
            request,
            503,
            "Following by email is unavailable",
            "This service is not set up to send email (TRACKER_SECRET_KEY and TRACKER_SMTP_URL).",
        )
    fields = await form_lists(request)
    if fields is None:
        return message_page(
            request, 413, "Request too large", "This form takes a few short fields."
        )
    try:
        address = subscriptions.email_address((fields.get("email") or [""])[0].strip())
        kinds = fields.get("kind", [])
        unknown = sorted(set(kinds) - set(FOLLOW_KINDS))
        if unknown:
            raise subscriptions.BadSubscription(f"unknown event kind {unknown[0]!r}")
        treaties, countries, kinds = subscriptions.filters(
            fields.get("treaty", []), fields.get("country", []), kinds
        )
        if not treaties and not countries:
            raise subscriptions.BadSubscription("name a treaty or a country to follow")
        treaties = await run_in_threadpool(_check_treaties, request, treaties)
    except subscriptions.BadSubscription as bad:
        message = str(bad)
        if message.startswith("not an email address"):
            message = "That is not one email address: write it as name@example.org."
        return message_page(request, 422, "Cannot follow", message[:1].upper() + message[1:] + ".")
    except NotFound as error:
        return message_page(request, 422, "Cannot follow", f"There is no tracked treaty: {error}.")
    except DatabaseError:
        return message_page(
            request, 503, "Temporarily unavailable", "Please try again in a few minutes."
        )
    wait = limits.address.hit(address.casefold())
    if wait is not None:
        return _too_many(request, wait)
    wanted = FollowRequest(address, treaties, countries, kinds)
    background.add_task(  # on a mail thread: a slow mail server holds no request up
        run_mail,
        follow_by_email,
        request.app.state.sessions,
        request.app.state.settings,
        wanted,
        _now(request),
    )
    return private_page(
        request,
        "follow_sent.html",
        address=address,
        covers=_covers(treaties, countries, kinds),
    )


def _covers(treaties: list[str], countries: list[str], kinds: list[str]) -> str:
    """What a follow request asks for, in words."""
    parts = [
        *(["treaty " + ", ".join(treaties)] if treaties else []),
        *(["country " + ", ".join(countries)] if countries else []),
        "events: " + ", ".join(in_words(k) for k in kinds) if kinds else "every event",
    ]
    return "; ".join(parts)
