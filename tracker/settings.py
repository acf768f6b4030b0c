"""Configuration: the only module that reads the environment. Imports nothing from the project.

`Settings` is a frozen pydantic-settings model. `Settings.from_env()` reads the TRACKER_*
variables and validates every value as it reads it: a bad value raises `ConfigError` with one
line that names the variable, what it must be and what it was (the CLI prints it and exits 2).
Building `Settings(...)` directly (tests, derived settings) reads no environment at all.

Over 300 lines on purpose: it is one idea, one model with a field (and its check) per variable;
split, the one place that reads the environment would be several.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

ENV_PREFIX = "TRACKER_"
USER_AGENT = (
    "treaty-tracker/0.1 (+https://github.com/treaty-tracker; ratification status monitor; "
    "polite crawler, obeys robots.txt)"
)

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DEFAULT_MAIL_FROM = "treaty-tracker@localhost"
SMTP_SCHEMES = ("smtp", "smtp+starttls", "smtps")


class ConfigError(ValueError):
    """A configuration value is missing or malformed."""


# Fields whose variable is not TRACKER_<FIELD NAME> (kept for compatibility with older set-ups).
_ENV_NAMES = {
    "concurrent_requests_per_domain": "TRACKER_CONCURRENCY",
    "autothrottle_target_concurrency": "TRACKER_AUTOTHROTTLE_TARGET",
}


def env_name(field: str) -> str:
    """The environment variable of a settings field (`download_delay` -> TRACKER_DOWNLOAD_DELAY)."""
    return _ENV_NAMES.get(field, ENV_PREFIX + field.upper())


def _env(field: str) -> str:
    """The alias that makes a field read its own variable (code still sets it by field name)."""
    return env_name(field)


def _scheme_check(value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if value.partition("://")[0].lower() not in schemes:
        raise ValueError(f"must be a {' or '.join(s + '://' for s in schemes)} URL")
    return value


# --- reading a given mapping instead of os.environ (Settings.from_env(env)) ---------------------

_READING: ContextVar[Mapping[str, str] | None] = ContextVar("tracker_settings_env", default=None)


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping of variables."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._mapping = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._mapping, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


@contextmanager
def _reading(env: Mapping[str, str]) -> Iterator[None]:
    token = _READING.set(env)
    try:
        yield
    finally:
        _READING.reset(token)


# --- one line per bad value ---------------------------------------------------------------------

_MESSAGES = {
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_parsing": "must be a boolean (1/0, true/false, yes/no, on/off)",
    "string_type": "must be text",
}


def _describe(error: Mapping[str, Any]) -> str:
    loc = error.get("loc") or ()
    field = str(loc[0]) if loc else "?"
    name = field if field.startswith(ENV_PREFIX) else env_name(field)
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind in _MESSAGES:
        what = _MESSAGES[kind]
    elif kind == "greater_than_equal":
        what = f"must be at least {ctx.get('ge'):g}"
    elif kind == "greater_than":
        what = f"must be greater than {ctx.get('gt'):g}"
    elif kind == "literal_error":
        what = f"must be one of {ctx.get('expected', '').replace(' or ', ', ')}"
        what = what.replace("'", "")
    elif kind == "value_error":
        what = str(ctx.get("error") or error.get("msg", "is not valid"))
    else:
        what = str(error.get("msg", "is not valid")).lower()
    raw = error.get("input")
    got = f", got {raw!r}" if isinstance(raw, (str, int, float)) else ""
    return f"{name} {what}{got}"


def _one_line(error: ValidationError) -> str:
    return "; ".join(_describe(e) for e in error.errors(include_url=False))


PositiveSeconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class Settings(BaseSettings):
    """Everything configurable, read once by `Settings.from_env()` and passed down."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        frozen=True,
        extra="ignore",
        env_ignore_empty=True,  # TRACKER_X= (empty) means "the default", as it always did
        validate_default=True,
        populate_by_name=True,
    )

    data_dir: Path = Field(Path("data"), validation_alias=_env("data_dir"))
    # Empty: the SQLite file in data_dir (filled in by the validator below).
    database_url: str = Field("", validation_alias=_env("database_url"))
    # Where each source's spider goes, by slug: TRACKER_BASE_URLS='{"untc": "http://..."}'; a
    # source not named goes to its spec's default (tracker.sources.registry.base_url).
    base_urls: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, validation_alias=_env("base_urls")
    )
    # Kept alias of base_urls["untc"] (TRACKER_BASE_URLS wins): a field `<slug>_base_url` is read
    # as that source's base URL by tracker.sources.registry.base_url.
    untc_base_url: str = Field("", validation_alias=_env("untc_base_url"))  # "": not set
    user_agent: str = Field(USER_AGENT, min_length=1, validation_alias=_env("user_agent"))
    # Politeness: one request at a time per domain, AutoThrottle on top of a base delay.
    download_delay: float = Field(
        1.0, ge=0, allow_inf_nan=False, validation_alias=_env("download_delay")
    )
    concurrent_requests_per_domain: int = Field(
        1, ge=1, validation_alias=_env("concurrent_requests_per_domain")
    )
    autothrottle_target_concurrency: float = Field(
        1.0, gt=0, allow_inf_nan=False, validation_alias=_env("autothrottle_target_concurrency")
    )
    download_timeout: PositiveSeconds = Field(60.0, validation_alias=_env("download_timeout"))
    retry_times: int = Field(3, ge=0, validation_alias=_env("retry_times"))
    max_response_size: int = Field(
        20 * 1024 * 1024, ge=1, validation_alias=_env("max_response_size")
    )
    http_cache: bool = Field(True, validation_alias=_env("http_cache"))
    crawl_timeout: PositiveSeconds = Field(3600.0, validation_alias=_env("crawl_timeout"))
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", validation_alias=_env("log_level")
    )
    # Rule events: "approaching" when this many qualifying instruments or fewer remain.
    approaching_remaining: int = Field(5, ge=1, validation_alias=_env("approaching_remaining"))
    # Source health: unhealthy when the last good crawl is older than this, or after this many
    # consecutive failed or quarantined crawls (tracker.services.health).
    freshness_hours: PositiveSeconds = Field(12.0, validation_alias=_env("freshness_hours"))
    unhealthy_after: int = Field(2, ge=1, validation_alias=_env("unhealthy_after"))
    # `tracker run`: how often a standby process tries to take the scheduler (tracker.runtime.locks).
    leader_poll_seconds: PositiveSeconds = Field(10.0, validation_alias=_env("leader_poll_seconds"))
    # Log lines: "json" (one object per line) or "text"; None: the command's default (`tracker
    # run`: json, passed on to its crawls; other commands: text).
    log_format: Literal["json", "text"] | None = Field(None, validation_alias=_env("log_format"))
    # Bearer token for the HTTP API's operator endpoints (unset: they are disabled).
    admin_token: str | None = Field(None, validation_alias=_env("admin_token"))
    # Alert delivery: tries before a delivery is dead; how long a claim holds before another
    # dispatcher may take it again (after a crash).
    delivery_max_attempts: int = Field(8, ge=1, validation_alias=_env("delivery_max_attempts"))
    delivery_lease_seconds: int = Field(300, ge=1, validation_alias=_env("delivery_lease_seconds"))
    # Webhook requests of a claimed batch in flight at once (one HTTP client, a bounded pool).
    webhook_concurrency: int = Field(16, ge=1, le=256, validation_alias=_env("webhook_concurrency"))
    # Alerts. Webhook targets in these networks may be private or loopback (SSRF allow-list);
    # comma-separated CIDR in the environment.
    webhook_allowlist: Annotated[tuple[str, ...], NoDecode] = Field(
        (), validation_alias=_env("webhook_allowlist")
    )
    # Key of subscribers' signed links (confirm, unsubscribe, manage); unset: no email alerts.
    secret_key: str | None = Field(None, validation_alias=_env("secret_key"))
    # Base URL of those links, as subscribers reach the service.
    public_url: str = Field(DEFAULT_PUBLIC_URL, validation_alias=_env("public_url"))
    # smtp://user:pass@host:port, smtp+starttls://..., smtps://...; unset: no email alerts.
    smtp_url: str | None = Field(None, validation_alias=_env("smtp_url"))
    mail_from: str = Field(DEFAULT_MAIL_FROM, validation_alias=_env("mail_from"))
    # A participant missing from a page stays suspicious until a fresh, fetched, validated page
    # observed at least this long after the disappearance still lacks it (not a 304 or a copy).
    disappearance_confirm_hours: PositiveSeconds = Field(
        24.0, validation_alias=_env("disappearance_confirm_hours")
    )
    # Operators' source_unhealthy / source_recovered alerts wait until the new state has held
    # for this many recorded crawls, or for this many minutes, whichever comes first (13 h:
    # more than two 6-hour crawl intervals, so the crawls decide and flapping alerts nobody).
    health_alert_hold_crawls: int = Field(
        2, ge=1, validation_alias=_env("health_alert_hold_crawls")
    )
    health_alert_hold_minutes: PositiveSeconds = Field(
        780.0, validation_alias=_env("health_alert_hold_minutes")
    )
    # A 429 / 503 answer's Retry-After is honoured up to this many seconds.
    retry_after_max: PositiveSeconds = Field(300.0, validation_alias=_env("retry_after_max"))
    # HTTP requests whose body is larger are refused (413) before the body is read.
    max_request_body: int = Field(1024 * 1024, ge=1, validation_alias=_env("max_request_body"))
    # The web server's worker threads: requests answered by synchronous code run this many at
    # once (tracker.web.app); the others wait their turn instead of competing for the GIL.
    web_threads: int = Field(2, ge=1, le=64, validation_alias=_env("web_threads"))
    # A database error while ingesting a fetched page: tries before the page is spooled to disk
    # (data_dir/spool) as failed, for the next crawl or `tracker ingest` to recover.
    ingest_retries: int = Field(3, ge=1, validation_alias=_env("ingest_retries"))

    def __init__(self, *args: Any, **values: Any) -> None:
        """`Settings(data_dir, database_url, **others)`: the two may be given by position."""
        if len(args) > 2:
            raise TypeError(f"Settings takes at most 2 positional arguments, got {len(args)}")
        values.update(zip(("data_dir", "database_url"), args, strict=False))
        super().__init__(**values)

    # --- where values come from ---------------------------------------------------------------

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Values given in code, plus the environment only inside `from_env` (no .env files)."""
        env = _READING.get()
        if env is None:
            return (init_settings,)
        return (init_settings, _MappingSource(settings_cls, env))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from TRACKER_* variables (the process environment by default).

        Raises ConfigError, one line naming each bad variable, when a value is not valid.
        """
        with _reading(os.environ if env is None else env):
            try:
                return cls()
            except ValidationError as error:
                raise ConfigError(_one_line(error)) from None

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes` applied, validated like values read from the environment."""
        try:
            return type(self)(**{**self.model_dump(), **changes})
        except ValidationError as error:
            raise ConfigError(_one_line(error)) from None

    # --- validation of single values ----------------------------------------------------------

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("untc_base_url", "public_url", mode="after")
    @classmethod
    def _http_url(cls, value: str, info: Any) -> str:
        if info.field_name == "untc_base_url" and not value.strip():
            return ""  # not set: the registry's default (tracker.sources.registry.base_url)
        return _http_url(value)

    @field_validator("public_url", mode="after")
    @classmethod
    def _header_safe(cls, value: str) -> str:
        """It starts every link in every message, List-Unsubscribe's among them: a header mail
        clients read as it is (tracker.alerts.email). Printable ASCII without spaces."""
        if not all(" " < c < "\x7f" for c in value):
            raise ValueError(
                "must be an ASCII URL without spaces (an international domain name in its "
                "xn-- form, the rest percent-encoded)"
            )
        return value

    @field_validator("base_urls", mode="before")
    @classmethod
    def _base_urls(cls, value: Any) -> dict[str, str]:
        """A JSON object of source slug -> http(s) URL (or a mapping, given in code)."""
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except json.JSONDecodeError:
                raise ValueError('must be a JSON object such as {"untc": "https://..."}') from None
        if not isinstance(value, Mapping):
            raise ValueError('must be a JSON object such as {"untc": "https://..."}')
        found = {}
        for slug, url in value.items():
            if not isinstance(url, str):
                raise ValueError(f"{slug}: must be an http(s) URL")
            try:
                found[str(slug)] = _http_url(url)
            except ValueError as error:
                raise ValueError(f"{slug}: {error}") from None
        return found

    @field_validator("smtp_url", mode="after")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        return _scheme_check(value.strip() if value else None, SMTP_SCHEMES)

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _case(cls, value: Any, info: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip()
        return value.upper() if info.field_name == "log_level" else value.lower()

    @field_validator("mail_from", mode="after")
    @classmethod
    def _mail_from(cls, value: str) -> str:
        return value.strip() or DEFAULT_MAIL_FROM

    @field_validator("admin_token", "secret_key", mode="after")
    @classmethod
    def _unset_if_empty(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("webhook_allowlist", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> tuple[str, ...]:
        """Comma-separated IP networks (CIDR; a bare address is a /32 or /128), normalized."""
        items = value.split(",") if isinstance(value, str) else list(value or ())
        nets = []
        for item in (str(i).strip() for i in items):
            if item:
                try:
                    nets.append(str(ipaddress.ip_network(item, strict=False)))
                except ValueError:
                    raise ValueError(
                        f"must be comma-separated IP networks (CIDR; {item!r} is not one)"
                    ) from None
        return tuple(nets)

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            default = f"sqlite:///{self.data_dir / 'tracker.sqlite3'}"
            object.__setattr__(self, "database_url", default)  # frozen: set once, here
        return self

    # --- derived values ------------------------------------------------------------------------

    @property
    def http_cache_dir(self) -> Path:
        return self.data_dir / "httpcache"

    @property
    def spool_dir(self) -> Path:
        """Fetched pages that could not be stored (database error), kept for recovery."""
        return self.data_dir / "spool"

    def to_env(self) -> dict[str, str]:
        """These settings as TRACKER_* variables, for a child process (e.g. a crawl)."""
        env: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            env[env_name(name)] = _env_text(value)
        return env

    def child_env(self, **extra: str) -> dict[str, str]:
        """The environment for a child process: ours, with these settings and `extra` on top."""
        return {**os.environ, **self.to_env(), **extra}

    def ensure_data_dir(self) -> None:
        """Create the data directory when the SQLite default lives there."""
        self.data_dir.mkdir(parents=True, exist_ok=True)


def _http_url(value: str) -> str:
    value = value.strip().rstrip("/")
    if not value.startswith(("http://", "https://")) or len(value) <= len("https://"):
        raise ValueError("must be an http(s) URL")
    return value


def _env_text(value: object) -> str:
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)


# Every setting at its default: what a function that takes one of these values falls back on
# when a caller (a tool, a test) does not pass it. The value itself is written once, above.
DEFAULTS = Settings()
