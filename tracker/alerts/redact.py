"""Targets as listings and logs show them: credentials inside webhook and Apprise URLs masked.

The stored target stays whole (it is needed to send); everything shown goes through here:
`tracker subscriptions`, `tracker deliveries`, GET /api/subscriptions, GET /api/deliveries,
the subscriber pages, `last_error` and log lines.

- A webhook URL keeps its scheme, host, port and the path segments that are words; it loses
  a password (`user:***@`), a bare user part (`***@`, commonly a token), every query value
  except a few known harmless options (`?token=***`), the fragment, and any path segment that
  looks like a token (8+ characters mixing letters and digits, or 20+ characters: the secret of
  Slack-, Discord- or Zapier-style hook URLs is a path segment).
- An Apprise URL is shown in Apprise's own privacy mode (each plugin masks its own secrets:
  `tgram://1...p/`, `json://user:****@host/`), then the same rules for query values and
  token-like path segments, with only the options the operator wrote kept.
- An email address is shown as is.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit

from tracker.alerts.apprise_guard import instantiate, quiet_apprise
from tracker.alerts.masking import MASK, mask_secrets, mask_url

__all__ = ["MASK", "mask_secrets", "redact_target", "redact_text", "secrets_of"]

_WORDS = re.compile(r"[^/:@?&=#+,;\s]+")


def _apprise_private(url: str) -> str | None:
    """Apprise's privacy-mode form of `url`, or None if Apprise cannot parse it."""
    try:
        with quiet_apprise():  # Apprise would log the URL it parses
            instance = instantiate(url)
            return None if instance is None else str(instance.url(privacy=True))
    except Exception:  # noqa: BLE001 (an unparsable URL is shown masked, never raises)
        return None


def redact_target(channel: str, target: str) -> str:
    """`target` as listings show it (see the module's rules)."""
    if channel == "email":
        return target
    if channel == "apprise":
        private = _apprise_private(target)
        if private is not None:
            try:
                written = {k for k, _ in parse_qsl(urlsplit(target.strip()).query, True)}
            except ValueError:
                written = set()
            return mask_url(private, keep=written)
    return mask_url(target.strip())


def secrets_of(target: str, channel: str | None = None) -> set[str]:
    """The pieces of `target` that its shown form hides (for scrubbing free text)."""
    shown = redact_target(channel or _channel_of(target), target)
    words = set(_WORDS.findall(target)) | set(_WORDS.findall(unquote(target)))
    try:
        keys = {k.strip() for k, _ in parse_qsl(urlsplit(target).query, keep_blank_values=True)}
    except ValueError:
        keys = set()
    return {w for w in words - keys if len(w) >= 3 and w not in shown}


def _channel_of(target: str) -> str:
    if "://" not in target:
        return "email"
    return "webhook" if target.lower().startswith(("http://", "https://")) else "apprise"


def redact_text(text: str, target: str | None = None, channel: str | None = None) -> str:
    """`text` (an error, a log line) with the secrets of `target` and any URL's credentials
    masked."""
    return mask_secrets(text, secrets_of(target, channel) if target else set())
