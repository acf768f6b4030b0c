"""Subscribers' own pages, reached through signed links only (no account): confirm, unsubscribe,
manage.

A GET never changes anything (mail scanners and link previews fetch links): it shows a page with
a button, and the button POSTs. The unsubscribe POST is also RFC 8058's one-click unsubscribe
(`List-Unsubscribe=One-Click` in a form body, sent by mail clients): it ends the subscription
and answers 200, again on every later POST. The token is the only credential: a bad, tampered
or wrong-purpose token is a 400 page, an expired one says so, an unknown subscription is a 404,
and without TRACKER_SECRET_KEY the pages are a 503. HTML pages, not in the OpenAPI document.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from db.vocabulary import ALERT_KINDS, DigestMode, SubscriptionState, in_words
from tracker.alerts import subscriptions
from tracker.alerts.links import DAY, MAX_AGE, PATHS, BadLink, make_token, read_token
from tracker.alerts.redact import redact_target
from tracker.alerts.subscriptions import Subscription
from tracker.services import unit_of_work
from tracker.services.read.common import NotFound
from tracker.services.read.treaties import find_treaty
from tracker.services.unit_of_work import DatabaseError, Session
from tracker.sources import registry
from tracker.web.dashboard import templates

router = APIRouter(prefix="/subscriptions", include_in_schema=False)
log = logging.getLogger(__name__)

# The pages carry their token in the URL: never cached, never sent on as a Referer, not indexed.
PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}
MAX_BODY = 4096  # a form with at most two short fields
DIGESTS = {DigestMode.IMMEDIATE: "each event as it happens", DigestMode.DAILY: "one daily digest"}
KINDS = {k.value: in_words(k.value) for k in ALERT_KINDS}
STATES = {
    SubscriptionState.PENDING: "waiting for confirmation",
    SubscriptionState.ACTIVE: "active",
    SubscriptionState.UNSUBSCRIBED: "ended (unsubscribed)",
}


class _Refused(Exception):
    """An answer other than the page asked for: status, title and message."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def private_page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A subscriber page, never cached (it may name an address)."""
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers.update(PRIVATE)
    return response


def message_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return private_page(request, "subscription_message.html", status, title=title, message=message)


def _now(request: Request) -> datetime:
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock else datetime.now(UTC)


def _secret(request: Request) -> str:
    secret = request.app.state.settings.secret_key
    if not secret:
        raise _Refused(
            503,
            "Subscription links are unavailable",
            "This service has no TRACKER_SECRET_KEY, so it cannot check subscription links. "
            "Please try again later or contact the operator.",
        )
    return str(secret)


def _subscription_id(request: Request, purpose: str, token: str) -> int:
    """The id signed in `token` for `purpose`; _Refused (400, 503) otherwise."""
    secret = _secret(request)
    try:
        return read_token(secret, purpose, token)
    except BadLink as bad:
        if bad.expired:
            days = MAX_AGE[purpose] // DAY
            message = (
                f"This {purpose} link has expired (links of this kind work for {days} days). "
                + (
                    "Subscribe again to get a new confirmation email."
                    if purpose == "confirm"
                    else "Every alert email carries fresh links: use the one in the latest."
                )
            )
            raise _Refused(400, "Link expired", message) from None
        raise _Refused(
            400,
            "Invalid link",
            f"This is not a valid {purpose} link: it may have been cut or altered. "
            "Copy the whole link from the email.",
        ) from None


def _load(session: Session, sub_id: int, *, lock: bool) -> Subscription:
    sub = subscriptions.load(session, sub_id, lock=lock)
    if sub is None:
        raise _Refused(404, "Subscription not found", f"There is no subscription {sub_id}.")
    return sub


def _view(request: Request, sub: Subscription) -> dict[str, Any]:
    """What the pages show of a subscription, with fresh links."""
    secret = _secret(request)
    return {
        "id": sub.id,
        "channel": sub.channel,
        "target": redact_target(sub.channel, sub.target),
        "treaties": list(sub.treaties or ()),
        "countries": list(sub.countries or ()),
        "kinds": [in_words(k) for k in sub.kinds or ()],
        "kind_values": list(sub.kinds or ()),
        "digest": sub.digest,
        "digest_words": DIGESTS.get(sub.digest, sub.digest),
        "state": sub.state,
        "state_words": STATES.get(sub.state, sub.state),
        "covers": subscriptions.covers(sub),
        # forms post back to this server, whatever its public URL
        "unsubscribe_path": PATHS["unsubscribe"] + make_token(secret, "unsubscribe", sub.id),
        "manage_path": PATHS["manage"] + make_token(secret, "manage", sub.id),
    }


def _run(
    request: Request,
    purpose: str,
    token: str,
    act: Callable[[Session, Subscription], HTMLResponse],
    *,
    write: bool,
) -> HTMLResponse:
    """Check the token, load the subscription (in a transaction when `write`), act."""
    try:
        sub_id = _subscription_id(request, purpose, token)
        sessions = request.app.state.sessions
        with unit_of_work.write(sessions) if write else unit_of_work.read(sessions) as session:
            return act(session, _load(session, sub_id, lock=write))
    except _Refused as refused:
        return message_page(request, refused.status, refused.title, refused.message)
    except DatabaseError as error:
        log.warning("subscription page: database unavailable: %s", str(error).splitlines()[0])
        return message_page(
            request,
            503,
            "Temporarily unavailable",
            "The subscription database cannot be reached. Please try again in a few minutes.",
        )


async def form_lists(request: Request) -> dict[str, list[str]] | None:
    """The urlencoded form fields of a small POST body, every value of each (empty ones
    dropped); None when the body is over MAX_BODY bytes (the rest is never read)."""
    if "urlencoded" not in request.headers.get("content-type", ""):
        return {}
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return parse_qs(body.decode("utf-8", errors="replace"))


def _codes(text: str) -> list[str]:
    """Ids or codes typed in one field, separated by commas or spaces."""
    return [part for part in re.split(r"[\s,;]+", text) if part]


@router.get("/confirm/{token}", response_class=HTMLResponse)
def confirm_page(request: Request, token: str) -> HTMLResponse:
    """What the subscription covers and a Confirm button; changes nothing."""

    def show(session: Session, sub: Subscription) -> HTMLResponse:
        return private_page(
            request, "subscription_confirm.html", sub=_view(request, sub), done=False
        )

    return _run(request, "confirm", token, show, write=False)


@router.post("/confirm/{token}", response_class=HTMLResponse)
def confirm(request: Request, token: str) -> HTMLResponse:
    """Activate a pending subscription (again: 200, nothing changes)."""

    def activate(session: Session, sub: Subscription) -> HTMLResponse:
        if sub.state == "unsubscribed":
            raise _Refused(
                409,
                "Subscription ended",
                "This subscription was ended, so it cannot be confirmed. Subscribe again.",
            )
        if sub.channel == "email" and sub.state == "pending":
            try:  # a subscription made before addresses were validated
                subscriptions.email_address(sub.target)
            except subscriptions.BadSubscription:
                raise _Refused(
                    422,
                    "Not one email address",
                    "This subscription's address is not a single email address, so it cannot "
                    "be confirmed. Subscribe again with one address.",
                ) from None
        subscriptions.confirm(session, sub.id, _now(request))
        return private_page(
            request, "subscription_confirm.html", sub=_view(request, sub), done=True
        )

    return _run(request, "confirm", token, activate, write=True)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str) -> HTMLResponse:
    """An Unsubscribe button; changes nothing."""

    def show(session: Session, sub: Subscription) -> HTMLResponse:
        return private_page(
            request, "subscription_unsubscribe.html", sub=_view(request, sub), done=False
        )

    return _run(request, "unsubscribe", token, show, write=False)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(request: Request, token: str) -> HTMLResponse:
    """End the subscription: RFC 8058 one-click (body `List-Unsubscribe=One-Click`) or the
    page's button. The token is the credential, so any POST body is accepted; idempotent."""

    def end(session: Session, sub: Subscription) -> HTMLResponse:
        subscriptions.end(session, sub.id, _now(request))
        return private_page(
            request, "subscription_unsubscribe.html", sub=_view(request, sub), done=True
        )

    return _run(request, "unsubscribe", token, end, write=True)


@router.get("/manage/{token}", response_class=HTMLResponse)
def manage_page(request: Request, token: str) -> HTMLResponse:
    """The subscription (target, filters in words, state) with its buttons; changes nothing."""

    def show(session: Session, sub: Subscription) -> HTMLResponse:
        return private_page(
            request,
            "subscription_manage.html",
            sub=_view(request, sub),
            changed=None,
            digests=DIGESTS,
            kinds=KINDS,
        )

    return _run(request, "manage", token, show, write=False)


@router.post("/manage/{token}", response_class=HTMLResponse)
async def manage(request: Request, token: str) -> HTMLResponse:
    """Change the digest mode (`digest=immediate|daily`), or what the subscription follows
    (`filters=1` with `treaties` and `countries`, each a list typed in one field, and a
    `kind` per event kind; empty: all), of a subscription that has not ended."""
    fields = await form_lists(request)
    if fields is None:
        return message_page(
            request, 413, "Request too large", "This form takes a few short fields only."
        )
    digest = (fields.get("digest") or [""])[0]
    wants_filters = bool(fields.get("filters"))

    def change(session: Session, sub: Subscription) -> HTMLResponse:
        if sub.state == "unsubscribed":
            raise _Refused(
                409, "Subscription ended", "This subscription was ended: subscribe again."
            )
        if wants_filters:
            changed = _set_filters(session, sub, fields)
            saved = "filters"
        elif digest in DIGESTS:
            changed = subscriptions.set_digest(session, sub, digest)
            saved = "digest"
        else:
            raise _Refused(
                422, "Nothing to change", "Choose a delivery mode: immediate or daily digest."
            )
        return private_page(
            request,
            "subscription_manage.html",
            sub=_view(request, sub),
            changed=changed,
            saved=saved,
            digests=DIGESTS,
            kinds=KINDS,
        )

    # the database work is synchronous: off the event loop, like the sync routes
    return await run_in_threadpool(_run, request, "manage", token, change, write=True)


def _set_filters(session: Session, sub: Subscription, fields: dict[str, list[str]]) -> bool:
    """Set the treaties (each one tracked), countries and kinds the form names."""
    treaties = _codes(" ".join(fields.get("treaties", [])))
    countries = _codes(" ".join(fields.get("countries", [])))
    kinds = fields.get("kind", [])
    public = []
    for t in treaties:
        try:
            found, slug = find_treaty(session, t)
        except NotFound as error:
            raise _Refused(422, "Unknown treaty", f"Nothing saved: {error}.") from None
        public.append(registry.public_id(slug, found.external_id))
    try:
        return subscriptions.set_filters(session, sub, public, countries, kinds)
    except subscriptions.BadSubscription as bad:
        raise _Refused(422, "Cannot save", f"Nothing saved: {bad}.") from None
