"""Tables: sources, treaties, raw pages, snapshots, participants, actions, events, quarantine,
operators' confirmations of entry-into-force conditions, subscriptions and their deliveries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow
from db.vocabulary import (
    ALERT_STATES,
    Channel,
    DeliveryState,
    DigestMode,
    EventState,
    HealthState,
    QuarantineKind,
    SubscriptionState,
)


def _one_of(column: str, values: Iterable[str]) -> str:
    """The CHECK constraint text `column IN ('a', 'b')` for a vocabulary (db.vocabulary)."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Source(Base):
    """A depositary we crawl, with its health as of the last crawl or fetch."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    base_url: Mapped[str | None] = mapped_column(Text)
    healthy: Mapped[bool] = mapped_column(Boolean, default=False)  # until a crawl succeeds
    last_checked_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_crawl: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Hysteresis of operators' alerts (tracker.services.health): the state now (`pending`: no
    # crawl yet; `healthy`; `unhealthy`), since when and over how many recorded crawls; and the
    # state operators were last told of (NULL: none yet), since when, crawls since then.
    health_state: Mapped[str | None] = mapped_column(String(16))
    health_state_since: Mapped[datetime | None]
    health_state_crawls: Mapped[int] = mapped_column(Integer, default=0)
    alert_state: Mapped[str | None] = mapped_column(String(16))
    alert_state_since: Mapped[datetime | None]
    alert_state_crawls: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint(_one_of("health_state", HealthState), name="health_state"),
        CheckConstraint(_one_of("alert_state", ALERT_STATES), name="alert_state"),
    )


class Treaty(Base):
    """A treaty as identified by its depositary (UNTC: the MTDSG number, e.g. XXVI-9)."""

    __tablename__ = "treaties"
    __table_args__ = (UniqueConstraint("source_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    external_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    last_checked_at: Mapped[datetime | None]
    # The latest observation (observed time) of a page in the format of the treaty's history,
    # accepted or unchanged: whether that format is still live (tracker.services.format_check).
    history_observed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RawPage(Base):
    """A fetched body, compressed, stored once per distinct content (sha256 of the raw bytes)."""

    __tablename__ = "raw_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    compression: Mapped[str] = mapped_column(String(16))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Snapshot(Base):
    """One distinct normalized status of a treaty; a new row only when the content hash changes."""

    __tablename__ = "snapshots"
    __table_args__ = (Index("ix_snapshots_treaty_observed", "treaty_id", "observed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    treaty_id: Mapped[int] = mapped_column(ForeignKey("treaties.id"))
    raw_page_id: Mapped[int] = mapped_column(ForeignKey("raw_pages.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime]
    observed_at: Mapped[datetime]
    status_as_at: Mapped[datetime | None]
    url: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)  # TreatyStatus.to_dict()
    signatories: Mapped[int] = mapped_column(Integer)
    parties: Mapped[int] = mapped_column(Integer)
    published_signatories: Mapped[int | None] = mapped_column(Integer)
    published_parties: Mapped[int | None] = mapped_column(Integer)
    in_force: Mapped[bool | None] = mapped_column(Boolean)
    eif_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Participant(Base):
    """A State or organization across treaties: key is the ISO 3166 alpha-3 or the folded name."""

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    iso3: Mapped[str | None] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(Text)
    reio: Mapped[bool] = mapped_column(Boolean, default=False)


class ActionRow(Base):
    """A dated cell, alive from the snapshot it first appears in until one where it is gone."""

    __tablename__ = "actions"
    __table_args__ = (
        Index("ix_actions_treaty_open", "treaty_id", "ended_snapshot_id"),
        Index("ix_actions_identity", "treaty_id", "participant_id", "column", "kind", "legal_date"),
        Index("ix_actions_participant", "participant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    treaty_id: Mapped[int] = mapped_column(ForeignKey("treaties.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    printed_name: Mapped[str] = mapped_column(Text)
    column: Mapped[str] = mapped_column("column", String(32))
    kind: Mapped[str] = mapped_column(String(40))
    letter: Mapped[str] = mapped_column(String(4))
    legal_date: Mapped[date] = mapped_column(Date)
    withdrawn: Mapped[bool] = mapped_column(Boolean)
    first_observed_at: Mapped[datetime]
    first_snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id"))
    ended_snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))


class Event(Base):
    """A change between consecutive snapshots, or a rule event (threshold met, entry into force).

    A rule event carries `once_key` (its kind): the unique (treaty, once_key) pair makes it happen
    exactly once per treaty, whatever the number of evaluations, processes or restarts.
    """

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(_one_of("state", EventState), name="state"),
        Index("ix_events_treaty_observed", "treaty_id", "observed_at"),
        Index("ix_events_treaty_kind_state", "treaty_id", "kind", "state"),
        Index("ux_events_treaty_once_key", "treaty_id", "once_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    treaty_id: Mapped[int | None] = mapped_column(ForeignKey("treaties.id"))  # None: about a source
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))
    kind: Mapped[str] = mapped_column(String(40))
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"))
    participant_name: Mapped[str | None] = mapped_column(Text)
    legal_date: Mapped[date | None] = mapped_column(Date)
    observed_at: Mapped[datetime]
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    once_key: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConditionConfirmation(Base):
    """An operator's word that an outside-data condition of a rule was met on a legal date."""

    __tablename__ = "condition_confirmations"
    __table_args__ = (UniqueConstraint("treaty_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    treaty_id: Mapped[int] = mapped_column(ForeignKey("treaties.id"))
    key: Mapped[str] = mapped_column(String(64))
    met_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Quarantine(Base):
    """A page kept but not believed: rejected by the parser, a failed fetch, or out of order."""

    __tablename__ = "quarantine"
    __table_args__ = (
        CheckConstraint(_one_of("kind", QuarantineKind), name="kind"),
        Index("ix_quarantine_source_fetched", "source_id", "fetched_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(Text)
    expected_treaty: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    raw_page_id: Mapped[int | None] = mapped_column(ForeignKey("raw_pages.id"))
    fetched_at: Mapped[datetime]
    observed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FormatAgreement(Base):
    """A page of a treaty's other format that agreed with a snapshot of its history (the
    history comes from one format: tracker.services.format_check). One row per (treaty,
    snapshot, raw page): the same page agreeing again moves `last_checked_at` and `checks`."""

    __tablename__ = "format_agreements"
    __table_args__ = (UniqueConstraint("treaty_id", "snapshot_id", "raw_page_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    treaty_id: Mapped[int] = mapped_column(ForeignKey("treaties.id"))
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id"))  # the one it agrees with
    raw_page_id: Mapped[int] = mapped_column(ForeignKey("raw_pages.id"))  # the page checked
    format: Mapped[str] = mapped_column(String(16))  # the page's format (e.g. xml)
    primary_format: Mapped[str] = mapped_column(String(16))  # the history's (e.g. html)
    url: Mapped[str] = mapped_column(Text)
    observed_at: Mapped[datetime]  # the page's latest observation
    first_checked_at: Mapped[datetime]  # fetch time of the first agreeing check
    last_checked_at: Mapped[datetime]  # fetch time of the latest
    checks: Mapped[int] = mapped_column(Integer, default=1)


class IngestReceipt(Base):
    """A spooled page that was ingested (its key is the spool file's digest): recovery runs at
    most once per page, whatever crash interrupts it."""

    __tablename__ = "ingest_receipts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20))
    treaty: Mapped[str | None] = mapped_column(String(64))
    snapshot_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Subscription(Base):
    """A channel and its filters (empty list: everything); email starts pending until confirmed."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint(_one_of("channel", Channel), name="channel"),
        CheckConstraint(_one_of("state", SubscriptionState), name="state"),
        CheckConstraint(_one_of("digest", DigestMode), name="digest"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(Text)  # address, URL or Apprise URL
    secret: Mapped[str | None] = mapped_column(String(128))  # webhook HMAC key
    treaties: Mapped[list[str]] = mapped_column(JSON, default=list)
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    digest: Mapped[str] = mapped_column(String(16), default=DigestMode.IMMEDIATE.value)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]


class Delivery(Base):
    """The outbox: one row per (event, subscription), written in the event's transaction."""

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(_one_of("state", DeliveryState), name="state"),
        UniqueConstraint("event_id", "subscription_id"),
        Index("ix_deliveries_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))  # the claim (batch) holding it
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
