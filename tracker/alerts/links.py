"""Subscribers' signed, expiring links (confirm, unsubscribe, manage): no account needed.

A token is the subscription id signed with `TRACKER_SECRET_KEY` (itsdangerous), salted per
purpose so that a token for one purpose never works for another. Without a key there are no
links, so email subscriptions (double opt-in, one-click unsubscribe) must be refused.
"""

from __future__ import annotations

import functools

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

PURPOSES: tuple[str, ...] = ("confirm", "unsubscribe", "manage")
DAY = 24 * 3600
# How long a link works, in seconds. Every message carries fresh unsubscribe and manage links.
MAX_AGE: dict[str, int] = {"confirm": 7 * DAY, "unsubscribe": 365 * DAY, "manage": 90 * DAY}
PATHS: dict[str, str] = {purpose: f"/subscriptions/{purpose}/" for purpose in PURPOSES}


class NoSecretKey(ValueError):
    """TRACKER_SECRET_KEY is unset: signed links, hence email subscriptions, are unavailable."""

    def __init__(self) -> None:
        super().__init__(
            "TRACKER_SECRET_KEY is not set: email subscriptions need signed links "
            "(confirmation, unsubscribe); set it to a long random string"
        )


class BadLink(ValueError):
    """A link that is tampered with, for another purpose, or expired."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired = expired


def require_secret(secret: str | None) -> str:
    """The key, or NoSecretKey: what the service calls before creating an email subscription."""
    if not secret:
        raise NoSecretKey()
    return secret


def _serializer(secret: str | None, purpose: str) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}; expected one of {PURPOSES}")
    return _made(require_secret(secret), purpose)


@functools.lru_cache(maxsize=16)
def _made(secret: str, purpose: str) -> URLSafeTimedSerializer:
    """One serializer per key and purpose (a dispatch signs two links per message): it holds
    no state between calls, and each token still carries the time it was made."""
    return URLSafeTimedSerializer(secret, salt=f"tracker.alerts.{purpose}")


def make_token(secret: str | None, purpose: str, sub_id: int) -> str:
    """A URL-safe token carrying `sub_id`, signed for `purpose`, timestamped now."""
    return str(_serializer(secret, purpose).dumps(int(sub_id)))


def read_token(secret: str | None, purpose: str, token: str, max_age: int | None = None) -> int:
    """The subscription id in `token`; BadLink if tampered, for another purpose, or older than
    `max_age` seconds (default: MAX_AGE[purpose])."""
    serializer = _serializer(secret, purpose)
    age = MAX_AGE[purpose] if max_age is None else max_age
    try:
        value = serializer.loads(token, max_age=age)
    except SignatureExpired:
        raise BadLink(f"this {purpose} link has expired", expired=True) from None
    except BadData:
        raise BadLink(f"this is not a valid {purpose} link") from None
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadLink(f"this is not a valid {purpose} link")
    return value


def link(base_url: str, secret: str | None, purpose: str, sub_id: int) -> str:
    """The full URL of one signed link."""
    token = make_token(secret, purpose, sub_id)
    return base_url.rstrip("/") + PATHS[purpose] + token


# The links an alert carries: no confirmation, the subscription is active.
IN_ALERTS: tuple[str, ...] = ("unsubscribe", "manage")


def links_for(
    base_url: str, secret: str | None, sub_id: int, purposes: tuple[str, ...] = PURPOSES
) -> dict[str, str]:
    """The `{purpose}_url` of a subscription for each of `purposes` (by default all:
    `confirm_url`, `unsubscribe_url` and `manage_url`)."""
    return {f"{purpose}_url": link(base_url, secret, purpose, sub_id) for purpose in purposes}
