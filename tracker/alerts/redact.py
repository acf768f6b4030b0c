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
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

MASK = "***"
# Query options whose values are never secrets (Apprise's common options, enumerations).
SAFE_QUERY_KEYS = frozenset(
    {
        "format",
        "overflow",
        "emojis",
        "verify",
        "rto",
        "cto",
        "method",
        "mode",
        "priority",
        "image",
        "avatar",
        "footer",
        "batch",
        "to",
        "cc",
        "bcc",
        "from",
        "name",
        "lang",
        "tz",
        "region",
        "version",
        "msgtype",
        "discovery",
        "redirect",
    }
)
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
_WORDS = re.compile(r"[^/:@?&=#+,;\s]+")


def _token_like(segment: str) -> bool:
    text = unquote(segment)
    if len(text) >= 20:
        return True
    has_digit = any(c.isdigit() for c in text)
    has_alpha = any(c.isalpha() for c in text)
    return len(text) >= 8 and has_digit and has_alpha


def _mask_query(query: str, keep: set[str] | None = None) -> str:
    pairs = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        if keep is not None and key not in keep:
            continue
        safe = key.lower() in SAFE_QUERY_KEYS and not _token_like(value)
        pairs.append((key, value if safe or not value else MASK))
    return urlencode(pairs, safe="*+@,")


def _mask_path(path: str) -> str:
    return "/".join(MASK if s and _token_like(s) else s for s in path.split("/"))


def _mask_url(url: str, keep: set[str] | None = None) -> str:
    """The generic rules on any URL (userinfo, token-like path segments, query, fragment)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return MASK
    netloc = quote(host, safe=".-_[]~!$&'()*+,;=") if host else ""
    if ":" in host:
        netloc = f"[{host}]"
    if port is not None:
        netloc += f":{port}"
    if parts.password is not None:
        netloc = f"{parts.username or ''}:{MASK}@{netloc}"
    elif parts.username:
        netloc = f"{MASK}@{netloc}"
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            _mask_path(parts.path),
            _mask_query(parts.query, keep),
            MASK if parts.fragment else "",
        )
    )


def _apprise_private(url: str) -> str | None:
    """Apprise's privacy-mode form of `url`, or None if Apprise cannot parse it."""
    try:
        from tracker.alerts.apprise_channel import instantiate, quiet_apprise

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
            return _mask_url(private, keep=written)
    return _mask_url(target.strip())


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


def mask_secrets(text: str, secrets: set[str] | frozenset[str]) -> str:
    """`text` with each of `secrets`, and any URL's credentials, masked."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return _URL_IN_TEXT.sub(lambda m: _mask_url(m.group(0)), text)
