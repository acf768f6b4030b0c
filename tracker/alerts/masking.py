"""Secrets masked in URLs and free text: the generic rules every shown target and log line goes
through (tracker.alerts.redact adds the per-channel forms; Apprise's log guard masks its lines
with them). Pure: standard library only.
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
URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def token_like(segment: str) -> bool:
    text = unquote(segment)
    if len(text) >= 20:
        return True
    has_digit = any(c.isdigit() for c in text)
    has_alpha = any(c.isalpha() for c in text)
    return len(text) >= 8 and has_digit and has_alpha


def mask_query(query: str, keep: set[str] | None = None) -> str:
    pairs = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        if keep is not None and key not in keep:
            continue
        safe = key.lower() in SAFE_QUERY_KEYS and not token_like(value)
        pairs.append((key, value if safe or not value else MASK))
    return urlencode(pairs, safe="*+@,")


def mask_path(path: str) -> str:
    return "/".join(MASK if s and token_like(s) else s for s in path.split("/"))


def mask_url(url: str, keep: set[str] | None = None) -> str:
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
            mask_path(parts.path),
            mask_query(parts.query, keep),
            MASK if parts.fragment else "",
        )
    )


def mask_secrets(text: str, secrets: set[str] | frozenset[str]) -> str:
    """`text` with each of `secrets`, and any URL's credentials, masked."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)
