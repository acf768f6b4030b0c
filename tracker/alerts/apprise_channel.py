"""Chat and push services through Apprise URLs (slack://, tgram://, ntfy://, json://, ...), with
the webhook's address guard: loopback, private, link-local, reserved (and every other non-public)
address refused unless inside TRACKER_WEBHOOK_ALLOWLIST.

Which hosts an Apprise URL names is read from Apprise's own parsing (the plugin instance, never
a regular expression over the URL):

- e-mail plugins (`mailto://`, `mailtos://`, `deltachat://`): the SMTP server they will
  connect to (`smtp_host`: the `smtp=` option, the provider's known server, or the host);
- every plugin whose URL template has a `{host}` token (json, xml, form, gotify, ntfy,
  matrix, mattermost, rocket.chat, nextcloud, apprise API, home assistant, mqtt, rsyslog, ...):
  that host, unless the plugin is in its public-service mode (`ntfy://topic` goes to ntfy.sh,
  `matrix://token` to t2bot.io, `notica://token` to notica.us) or the host is an e-mail domain
  or an id that the plugin never connects to (`NOT_CONTACTED`);
- plugins without a `{host}` token (slack, telegram, discord, ...) only reach their fixed public
  service.

It is checked when the subscription is made and again on each send. On each send, a second
check sits under every plugin: while Apprise works for us, every name it resolves through
Python's `socket.getaddrinfo` (requests, smtplib, paho-mqtt ...) is checked the same way, and a
refused one fails the connection. That catches what the URL does not show: a redirect (also
switched off: `redirect=no` forced), a plugin mode this module misjudges, a DNS answer that
changed since the first check. A plugin resolving names in C (`sendto` of UDP syslog) only has
the first check.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import logging
import socket
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import apprise

from tracker.alerts.channels import DeliveryError, Message, Recipient
from tracker.alerts.redact import mask_secrets, redact_text, secrets_of
from tracker.alerts.webhook import IPAddress, Network, networks, refusal, resolve_host

# Plugin modes that talk to the service's own public host, whatever the URL's host part holds.
PUBLIC_MODES = frozenset({"cloud", "official", "t2bot"})
# Plugins whose {host} token is an e-mail domain or an id, never connected to (their API host is
# fixed). The SMTP plugins are not here: their SMTP server is checked.
NOT_CONTACTED = frozenset(
    {"NotifyMailgun", "NotifySMTP2Go", "NotifySendPulse", "NotifySparkPost", "NotifyWeChat"}
)


def instantiate(url: str) -> Any | None:
    """Apprise's plugin for `url` (None if Apprise cannot use it), redirects off, in-thread."""
    asset = apprise.AppriseAsset(async_mode=False)
    instance = apprise.Apprise.instantiate(url.strip(), asset=asset)
    if instance is not None:
        instance.redirects = False  # a URL's own redirect=yes included
    return instance


def destinations(instance: Any) -> list[tuple[str, int]]:
    """The (host, port) pairs that the user chose and this plugin will connect to."""
    smtp_host = getattr(instance, "smtp_host", None)
    if smtp_host:
        return [(str(smtp_host), int(getattr(instance, "port", None) or 25))]
    if "host" not in getattr(type(instance), "template_tokens", {}):
        return []  # a fixed public service
    if type(instance).__name__ in NOT_CONTACTED:
        return []
    if str(getattr(instance, "mode", "") or "").lower() in PUBLIC_MODES:
        return []
    host = str(getattr(instance, "host", "") or "")
    if not host:
        return []  # the plugin's public default host (e.g. pushdeer://key)
    port = getattr(instance, "port", None) or (443 if getattr(instance, "secure", False) else 80)
    return [(host, int(port))]


def _check(instance: Any, allow: list[Network]) -> None:
    """ValueError (refused) or OSError (does not resolve) unless every destination is allowed."""
    for host, port in destinations(instance):
        addrs = resolve_host(host, port)
        reason = refusal(host, addrs, allow, "Apprise")
        if reason:
            raise ValueError(reason)


def check_apprise_url(url: str, allowlist: Iterable[str | Network] = ()) -> None:
    """Subscribe-time check: ValueError unless Apprise can use this URL and every host it
    names is public or allow-listed."""
    if not url or not url.strip():
        raise ValueError("Apprise URL is empty")
    with apprise_context(url):
        instance = instantiate(url)
    if instance is None:
        raise ValueError(
            "not an Apprise URL that Apprise can use (unknown service or malformed); "
            "see https://github.com/caronc/apprise/wiki for the URL forms"
        )
    try:
        _check(instance, networks(allowlist))
    except OSError as exc:
        hosts = ", ".join(h for h, _ in destinations(instance))
        raise ValueError(f"Apprise host {hosts} does not resolve: {exc}") from None


# --- the second check, under the plugins ----------------------------------------------------


@dataclass
class _Guard:
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


_GUARD: contextvars.ContextVar[_Guard | None] = contextvars.ContextVar(
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
def apprise_context(target: str, allow: list[Network] | None = None) -> Iterator[_Guard]:
    """While Apprise works on `target`: its log lines scrubbed of the target's secrets and,
    with `allow`, every name it resolves checked against the guard."""
    install_guard()
    guard = _Guard(allow, frozenset(secrets_of(target)) if target else frozenset())
    token = _GUARD.set(guard)
    try:
        yield guard
    finally:
        _GUARD.reset(token)


@contextlib.contextmanager
def quiet_apprise() -> Iterator[None]:
    """Apprise's log lines dropped (while parsing a URL only to show it redacted)."""
    install_guard()
    token = _GUARD.set(_Guard(None, quiet=True))
    try:
        yield
    finally:
        _GUARD.reset(token)


def _reason(result: object, target: str) -> str:
    """Apprise's own warnings about a failed notify, secrets of the target masked."""
    logs = getattr(result, "logs", None)
    if not callable(logs):
        return ""
    messages = [str(entry.message) for entry in logs() if entry.level in ("WARNING", "ERROR")]
    return ": " + redact_text("; ".join(messages[-3:]), target) if messages else ""


class AppriseChannel:
    """Sends the subject as title and the plain text as body to the recipient's Apprise URL."""

    def __init__(self, allowlist: Iterable[str | Network] = ()) -> None:
        self.allowlist = networks(allowlist)

    def send(self, recipient: Recipient, message: Message) -> None:
        with apprise_context(recipient.target, self.allowlist) as guard:
            self._send(recipient, message, guard)

    def _send(self, recipient: Recipient, message: Message, guard: _Guard) -> None:
        instance = instantiate(recipient.target) if recipient.target.strip() else None
        if instance is None:
            raise DeliveryError("not a usable Apprise URL", retryable=False)
        try:
            _check(instance, self.allowlist)
        except ValueError as refused:
            raise DeliveryError(str(refused), retryable=False) from None
        except OSError as exc:
            raise DeliveryError(f"cannot resolve the Apprise host: {exc}") from None
        notifier = apprise.Apprise()
        notifier.add(instance)
        try:
            result = notifier.notify(
                title=message.subject, body=message.text, body_format=apprise.NotifyFormat.TEXT
            )
        except Exception as exc:  # noqa: BLE001 (a plugin's bug or network error: retry later)
            reason = redact_text(f"{type(exc).__name__}: {exc}", recipient.target)
            raise DeliveryError(f"Apprise failed: {reason}") from None
        if guard.refused:
            raise DeliveryError(guard.refused[0], retryable=False)
        if not result:
            raise DeliveryError("Apprise could not deliver" + _reason(result, recipient.target))
