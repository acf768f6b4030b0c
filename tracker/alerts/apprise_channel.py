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

from collections.abc import Iterable
from typing import Any

import apprise

from tracker.alerts.apprise_guard import Guard, apprise_context, instantiate
from tracker.alerts.channels import DeliveryError, Message, Recipient
from tracker.alerts.redact import redact_text, secrets_of
from tracker.alerts.webhook import Network, networks, refusal, resolve_host

# Plugin modes that talk to the service's own public host, whatever the URL's host part holds.
PUBLIC_MODES = frozenset({"cloud", "official", "t2bot"})
# Plugins whose {host} token is an e-mail domain or an id, never connected to (their API host is
# fixed). The SMTP plugins are not here: their SMTP server is checked.
NOT_CONTACTED = frozenset(
    {"NotifyMailgun", "NotifySMTP2Go", "NotifySendPulse", "NotifySparkPost", "NotifyWeChat"}
)


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
    with apprise_context(frozenset(secrets_of(url))):
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
        secrets = frozenset(secrets_of(recipient.target)) if recipient.target else frozenset()
        with apprise_context(secrets, self.allowlist) as guard:
            self._send(recipient, message, guard)

    def _send(self, recipient: Recipient, message: Message, guard: Guard) -> None:
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
