"""Apprise under guard: its plugin for a URL (`instantiate`, redirects off), and while it works
for us, its log lines scrubbed of the target's secrets and every name it resolves through
`socket.getaddrinfo` checked against the webhook's address rules (the second check under every
plugin; tracker.alerts.apprise_channel says why). Also used, quiet, to parse a URL only to show
it redacted (tracker.alerts.redact).
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import apprise

from tracker.alerts.masking import mask_secrets
from tracker.alerts.webhook import IPAddress, Network, refusal


def instantiate(url: str) -> Any | None:
    """Apprise's plugin for `url` (None if Apprise cannot use it), redirects off, in-thread."""
    asset = apprise.AppriseAsset(async_mode=False)
    instance = apprise.Apprise.instantiate(url.strip(), asset=asset)
    if instance is not None:
        instance.redirects = False  # a URL's own redirect=yes included
    return instance


@dataclass
class Guard:
    allow: list[Network] | None  # None: log scrubbing only, resolution unchecked
    secrets: frozenset[str] = frozenset()  # what Apprise's log lines must not show
    quiet: bool = False  # drop Apprise's log lines altogether
    refused: list[str] = field(default_factory=list)


class _Scrub(logging.Filter):
    """On Apprise's logger: inside a call of ours, the target's secrets are masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        guard = _GUARD.get()
        if guard is None:
            return True
        if guard.quiet:
            return False
        record.msg, record.args = mask_secrets(record.getMessage(), guard.secrets), None
        return True


_GUARD: contextvars.ContextVar[Guard | None] = contextvars.ContextVar(
    "tracker_apprise_guard", default=None
)
_install_lock = threading.Lock()


def _guarded(real: Any) -> Any:
    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        results = real(host, port, *args, **kwargs)
        guard = _GUARD.get()
        if guard is None or guard.allow is None:  # not inside an Apprise send of ours
            return results
        name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
        addrs: list[IPAddress] = sorted(
            {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in results},
            key=lambda a: (a.version, int(a)),
        )
        reason = refusal(name, addrs, guard.allow, "Apprise")
        if reason:
            guard.refused.append(reason)
            raise socket.gaierror(socket.EAI_FAIL, reason)
        return results

    getaddrinfo.tracker_guard = True  # type: ignore[attr-defined]
    return getaddrinfo


def install_guard() -> None:
    """Wrap `socket.getaddrinfo` and filter Apprise's log once (both inert outside an Apprise
    send of this module)."""
    with _install_lock:
        if not getattr(socket.getaddrinfo, "tracker_guard", False):
            socket.getaddrinfo = _guarded(socket.getaddrinfo)
        logger = logging.getLogger("apprise")
        if not any(isinstance(f, _Scrub) for f in logger.filters):
            logger.addFilter(_Scrub())


@contextlib.contextmanager
def apprise_context(secrets: frozenset[str], allow: list[Network] | None = None) -> Iterator[Guard]:
    """While Apprise works for us: its log lines scrubbed of `secrets` (the target's, as
    tracker.alerts.redact.secrets_of finds them) and, with `allow`, every name it resolves
    checked against the guard."""
    install_guard()
    guard = Guard(allow, secrets)
    token = _GUARD.set(guard)
    try:
        yield guard
    finally:
        _GUARD.reset(token)


@contextlib.contextmanager
def quiet_apprise() -> Iterator[None]:
    """Apprise's log lines dropped (while parsing a URL only to show it redacted)."""
    install_guard()
    token = _GUARD.set(Guard(None, quiet=True))
    try:
        yield
    finally:
        _GUARD.reset(token)
