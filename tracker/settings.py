"""Configuration: the only module that reads the environment. Imports nothing from the project."""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_UNTC_BASE_URL = "https://treaties.un.org"
USER_AGENT = (
    "treaty-tracker/0.1 (+https://github.com/treaty-tracker; ratification status monitor; "
    "polite crawler, obeys robots.txt)"
)

LOG_FORMATS = ("json", "text")
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DEFAULT_MAIL_FROM = "treaty-tracker@localhost"
SMTP_SCHEMES = ("smtp", "smtp+starttls", "smtps")


class ConfigError(ValueError):
    """A configuration value is missing or malformed."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    value = _float(env, name, default)
    if not (value > 0 and math.isfinite(value)):
        raise ConfigError(f"{name} must be a positive number, got {value}")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str | None:
    value = (env.get(name) or "").strip().lower()
    if value == "":
        return None
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated IP networks (CIDR; a bare address is a /32 or /128), normalized."""
    nets = []
    for item in (env.get(name) or "").split(","):
        if item.strip():
            try:
                nets.append(str(ipaddress.ip_network(item.strip(), strict=False)))
            except ValueError:
                raise ConfigError(f"{name}: {item.strip()!r} is not an IP network") from None
    return tuple(nets)


def _url(
    env: Mapping[str, str], name: str, default: str | None, schemes: tuple[str, ...]
) -> str | None:
    raw = (env.get(name) or "").strip() or default
    if raw is not None and raw.partition("://")[0].lower() not in schemes:
        raise ConfigError(f"{name} must be a {' or '.join(s + '://' for s in schemes)} URL")
    return raw


@dataclass(frozen=True)
class Settings:
    """Everything configurable, read once by `Settings.from_env()` and passed down."""

    data_dir: Path
    database_url: str
    untc_base_url: str = DEFAULT_UNTC_BASE_URL
    user_agent: str = USER_AGENT
    # Politeness: one request at a time per domain, AutoThrottle on top of a base delay.
    download_delay: float = 1.0
    concurrent_requests_per_domain: int = 1
    autothrottle_target_concurrency: float = 1.0
    download_timeout: int = 60
    retry_times: int = 3
    max_response_size: int = 20 * 1024 * 1024
    http_cache: bool = True
    crawl_timeout: int = 3600
    log_level: str = "INFO"
    # Rule events: "approaching" when this many qualifying instruments or fewer remain.
    approaching_remaining: int = 5
    # Source health: unhealthy when the last good crawl is older than this, or after this many
    # consecutive failed or quarantined crawls (tracker.services.health).
    freshness_hours: float = 12.0
    unhealthy_after: int = 2
    # `tracker run`: how often a standby process tries to take the scheduler (tracker.leader).
    leader_poll_seconds: float = 10.0
    # Log lines: "json" (one object per line) or "text"; None: the command's default (`tracker
    # run`: json, passed on to its crawls; other commands: text).
    log_format: str | None = None
    # Bearer token for the HTTP API's operator endpoints (unset: they are disabled).
    admin_token: str | None = None
    # Alert delivery: tries before a delivery is dead; how long a claim holds before another
    # dispatcher may take it again (after a crash).
    delivery_max_attempts: int = 8
    delivery_lease_seconds: int = 300
    # Alerts. Webhook targets in these networks may be private or loopback (SSRF allow-list).
    webhook_allowlist: tuple[str, ...] = ()
    # Key of subscribers' signed links (confirm, unsubscribe, manage); unset: no email alerts.
    secret_key: str | None = None
    # Base URL of those links, as subscribers reach the service.
    public_url: str = DEFAULT_PUBLIC_URL
    # smtp://user:pass@host:port, smtp+starttls://..., smtps://...; unset: no email alerts.
    smtp_url: str | None = None
    mail_from: str = DEFAULT_MAIL_FROM
    # A participant missing from a page stays suspicious until a fresh, fetched, validated page
    # observed at least this long after the disappearance still lacks it (not a 304 or a copy).
    disappearance_confirm_hours: float = 24.0
    # Operators' source_unhealthy / source_recovered alerts wait until the new state has held
    # for this many recorded crawls, or for this many minutes, whichever comes first.
    health_alert_hold_crawls: int = 2
    health_alert_hold_minutes: float = 60.0
    # A 429 / 503 answer's Retry-After is honoured up to this many seconds.
    retry_after_max: float = 300.0
    # HTTP requests whose body is larger are refused (413) before the body is read.
    max_request_body: int = 1024 * 1024
    # A database error while ingesting a fetched page: tries before the page is spooled to disk
    # (data_dir/spool) as failed, for the next crawl or `tracker ingest` to recover.
    ingest_retries: int = 3

    def replace(self, **changes: object) -> Settings:
        """A copy with `changes` applied (validated like values read from the environment)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def http_cache_dir(self) -> Path:
        return self.data_dir / "httpcache"

    @property
    def spool_dir(self) -> Path:
        """Fetched pages that could not be stored (database error), kept for recovery."""
        return self.data_dir / "spool"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from TRACKER_* variables (the process environment by default)."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("TRACKER_DATA_DIR") or "data").expanduser()
        database_url = (
            env.get("TRACKER_DATABASE_URL") or f"sqlite:///{data_dir / 'tracker.sqlite3'}"
        )
        base_url = (env.get("TRACKER_UNTC_BASE_URL") or DEFAULT_UNTC_BASE_URL).rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"TRACKER_UNTC_BASE_URL must be an http(s) URL, got {base_url!r}")
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            untc_base_url=base_url,
            user_agent=env.get("TRACKER_USER_AGENT") or USER_AGENT,
            download_delay=_float(env, "TRACKER_DOWNLOAD_DELAY", 1.0),
            concurrent_requests_per_domain=_int(env, "TRACKER_CONCURRENCY", 1),
            autothrottle_target_concurrency=_float(env, "TRACKER_AUTOTHROTTLE_TARGET", 1.0),
            download_timeout=_int(env, "TRACKER_DOWNLOAD_TIMEOUT", 60),
            retry_times=_int(env, "TRACKER_RETRY_TIMES", 3),
            max_response_size=_int(env, "TRACKER_MAX_RESPONSE_SIZE", 20 * 1024 * 1024),
            http_cache=(env.get("TRACKER_HTTP_CACHE", "1") not in ("0", "false", "no")),
            crawl_timeout=_int(env, "TRACKER_CRAWL_TIMEOUT", 3600),
            log_level=(env.get("TRACKER_LOG_LEVEL") or "INFO").upper(),
            approaching_remaining=_positive(env, "TRACKER_APPROACHING_REMAINING", 5),
            freshness_hours=_positive_float(env, "TRACKER_FRESHNESS_HOURS", 12.0),
            unhealthy_after=_positive(env, "TRACKER_UNHEALTHY_AFTER", 2),
            leader_poll_seconds=_positive_float(env, "TRACKER_LEADER_POLL_SECONDS", 10.0),
            log_format=_choice(env, "TRACKER_LOG_FORMAT", LOG_FORMATS),
            admin_token=env.get("TRACKER_ADMIN_TOKEN") or None,
            delivery_max_attempts=_positive(env, "TRACKER_DELIVERY_MAX_ATTEMPTS", 8),
            delivery_lease_seconds=_positive(env, "TRACKER_DELIVERY_LEASE_SECONDS", 300),
            webhook_allowlist=_networks(env, "TRACKER_WEBHOOK_ALLOWLIST"),
            secret_key=env.get("TRACKER_SECRET_KEY") or None,
            public_url=str(
                _url(env, "TRACKER_PUBLIC_URL", DEFAULT_PUBLIC_URL, ("http", "https"))
            ).rstrip("/"),
            smtp_url=_url(env, "TRACKER_SMTP_URL", None, SMTP_SCHEMES),
            mail_from=(env.get("TRACKER_MAIL_FROM") or "").strip() or DEFAULT_MAIL_FROM,
            disappearance_confirm_hours=_positive_float(
                env, "TRACKER_DISAPPEARANCE_CONFIRM_HOURS", 24.0
            ),
            health_alert_hold_crawls=_positive(env, "TRACKER_HEALTH_ALERT_HOLD_CRAWLS", 2),
            health_alert_hold_minutes=_positive_float(
                env, "TRACKER_HEALTH_ALERT_HOLD_MINUTES", 60.0
            ),
            retry_after_max=_positive_float(env, "TRACKER_RETRY_AFTER_MAX", 300.0),
            max_request_body=_positive(env, "TRACKER_MAX_REQUEST_BODY", 1024 * 1024),
            ingest_retries=_positive(env, "TRACKER_INGEST_RETRIES", 3),
        )

    def to_env(self) -> dict[str, str]:
        """These settings as TRACKER_* variables, for a child process (e.g. a crawl)."""
        return {
            "TRACKER_DATA_DIR": str(self.data_dir),
            "TRACKER_DATABASE_URL": self.database_url,
            "TRACKER_UNTC_BASE_URL": self.untc_base_url,
            "TRACKER_USER_AGENT": self.user_agent,
            "TRACKER_DOWNLOAD_DELAY": str(self.download_delay),
            "TRACKER_CONCURRENCY": str(self.concurrent_requests_per_domain),
            "TRACKER_AUTOTHROTTLE_TARGET": str(self.autothrottle_target_concurrency),
            "TRACKER_DOWNLOAD_TIMEOUT": str(self.download_timeout),
            "TRACKER_RETRY_TIMES": str(self.retry_times),
            "TRACKER_MAX_RESPONSE_SIZE": str(self.max_response_size),
            "TRACKER_HTTP_CACHE": "1" if self.http_cache else "0",
            "TRACKER_CRAWL_TIMEOUT": str(self.crawl_timeout),
            "TRACKER_LOG_LEVEL": self.log_level,
            "TRACKER_APPROACHING_REMAINING": str(self.approaching_remaining),
            "TRACKER_FRESHNESS_HOURS": str(self.freshness_hours),
            "TRACKER_UNHEALTHY_AFTER": str(self.unhealthy_after),
            "TRACKER_LEADER_POLL_SECONDS": str(self.leader_poll_seconds),
            **({"TRACKER_LOG_FORMAT": self.log_format} if self.log_format else {}),
            "TRACKER_WEBHOOK_ALLOWLIST": ",".join(self.webhook_allowlist),
            **({"TRACKER_SECRET_KEY": self.secret_key} if self.secret_key else {}),
            "TRACKER_PUBLIC_URL": self.public_url,
            **({"TRACKER_SMTP_URL": self.smtp_url} if self.smtp_url else {}),
            "TRACKER_MAIL_FROM": self.mail_from,
            "TRACKER_DELIVERY_MAX_ATTEMPTS": str(self.delivery_max_attempts),
            "TRACKER_DELIVERY_LEASE_SECONDS": str(self.delivery_lease_seconds),
            "TRACKER_DISAPPEARANCE_CONFIRM_HOURS": str(self.disappearance_confirm_hours),
            "TRACKER_HEALTH_ALERT_HOLD_CRAWLS": str(self.health_alert_hold_crawls),
            "TRACKER_HEALTH_ALERT_HOLD_MINUTES": str(self.health_alert_hold_minutes),
            "TRACKER_RETRY_AFTER_MAX": str(self.retry_after_max),
            "TRACKER_MAX_REQUEST_BODY": str(self.max_request_body),
            "TRACKER_INGEST_RETRIES": str(self.ingest_retries),
        }

    def child_env(self, **extra: str) -> dict[str, str]:
        """The environment for a child process: ours, with these settings and `extra` on top."""
        return {**os.environ, **self.to_env(), **extra}

    def ensure_data_dir(self) -> None:
        """Create the data directory when the SQLite default lives there."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
