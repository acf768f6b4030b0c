"""What a crawl (or an archive) hands to the services, and what ingesting it did: a fetched
page not yet parsed, and the outcome of one page."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Literal

Outcome = Literal["accepted", "unchanged", "quarantined", "rejected"]


def require_aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")


@dataclass(frozen=True)
class FetchedPage:
    """A response as fetched (or loaded from an archive), not yet parsed."""

    source: str
    url: str
    body: bytes
    fetched_at: datetime
    observed_at: datetime | None = None  # when the content was true; defaults to fetched_at
    expected_treaty: str | None = None
    content_type: str | None = None
    # The body is the HTTP cache's copy, re-served on a 304 Not Modified: it proves the server
    # answered, not that the content was observed again (never a second observation).
    revalidated: bool = False

    def __post_init__(self) -> None:
        require_aware("fetched_at", self.fetched_at)
        require_aware("observed_at", self.observed_at)

    @property
    def observed(self) -> datetime:
        return self.observed_at or self.fetched_at

    @cached_property
    def digest(self) -> str:
        """The body's sha256 (hex), computed once however many times it is asked for."""
        return hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True)
class IngestResult:
    """What ingesting one page did."""

    outcome: Outcome
    treaty_id: str | None
    snapshot_id: int | None
    reason: str | None = None
    events: int = 0
