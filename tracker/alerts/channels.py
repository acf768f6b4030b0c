"""What a channel receives and how it fails; the registry of channels by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Recipient:
    """The subscription a message goes to."""

    id: int
    channel: str  # email | webhook | apprise
    target: str  # address, URL, Apprise URL
    secret: str | None = None  # webhook HMAC key


@dataclass(frozen=True)
class Message:
    """One alert, rendered for every channel."""

    subject: str
    text: str  # plain text (email text part, chat body)
    payload: dict[str, Any]  # JSON body of a webhook
    idempotency_key: str  # the same on every retry of one delivery
    unsubscribe_url: str | None = None  # one-click (RFC 8058) link, email only
    manage_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


# Called by a channel's `send_many` just before it hands the items at these indexes over (only
# as many as it can send at once): the dispatcher counts their tries there; returns the ones to
# send.
Begin = Callable[[list[int]], list[int]]


class DeliveryError(Exception):
    """A send that failed; `retryable` False gives up at once (bad address, 4xx)."""

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


def failure_of(call: Callable[..., object], *args: Any) -> Exception | None:
    """None if `call(*args)` returned, else the exception it raised (a DeliveryError, or a bug
    of the channel's: the caller tells them apart). A BaseException (a crash) goes up."""
    try:
        call(*args)
    except Exception as failed:  # noqa: BLE001 (returned: the caller tells them apart)
        return failed
    return None


class Channel(Protocol):
    def send(self, recipient: Recipient, message: Message) -> None:
        """Deliver or raise DeliveryError."""
