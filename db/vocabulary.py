"""The words stored in the database: event kinds and states, quarantine kinds, source health
states, subscription channels, states and digest modes, delivery states.

Data only, one vocabulary each. The database's CHECK constraints (db.models) are built from
these, and tracker (services, alerts, CLI choices, API enums, templates) spells them from here:
no other module lists them. A `StrEnum` member equals its string, so stored values and the
members compare equal.
"""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    """What an event says happened: a change between two snapshots, a rule event, a notice."""

    # Changes between consecutive snapshots (tracker.domain.changes.ChangeKind names the same).
    SIGNATURE = "signature"
    CONSENT = "consent"
    PROVISIONAL_APPLICATION = "provisional_application"
    WITHDRAWAL = "withdrawal"
    REVOCATION = "revocation"
    REACCESSION = "reaccession"
    CORRECTION = "correction"
    PARTICIPANT_DISAPPEARED = "participant_disappeared"
    ACTION_DISAPPEARED = "action_disappeared"
    # A confirmed absence back with the same entry.
    REAPPEARANCE = "reappearance"
    # A participant's declaration, reservation, objection or notification, new or reworded.
    DECLARATION = "declaration"
    # A notice that an earlier event was withdrawn (it names the event).
    RETRACTION = "retraction"
    # Rule events, each at most once per treaty.
    APPROACHING = "approaching"
    THRESHOLD_CROSSED = "threshold_crossed"
    ENTERED_INTO_FORCE = "entered_into_force"
    # Operators' events about a source (no treaty).
    SOURCE_UNHEALTHY = "source_unhealthy"
    SOURCE_RECOVERED = "source_recovered"


# The events that record a change seen between two snapshots of a treaty.
CHANGE_EVENT_KINDS: tuple[EventKind, ...] = (
    EventKind.SIGNATURE,
    EventKind.CONSENT,
    EventKind.PROVISIONAL_APPLICATION,
    EventKind.WITHDRAWAL,
    EventKind.REVOCATION,
    EventKind.REACCESSION,
    EventKind.CORRECTION,
    EventKind.PARTICIPANT_DISAPPEARED,
    EventKind.ACTION_DISAPPEARED,
    EventKind.REAPPEARANCE,
    EventKind.DECLARATION,
    EventKind.RETRACTION,
)
# The events an evaluation of a treaty's entry-into-force rule records (once each per treaty).
RULE_EVENT_KINDS: tuple[EventKind, ...] = (
    EventKind.APPROACHING,
    EventKind.THRESHOLD_CROSSED,
    EventKind.ENTERED_INTO_FORCE,
)
# The operators' events about a source.
SOURCE_EVENT_KINDS: tuple[EventKind, ...] = (EventKind.SOURCE_UNHEALTHY, EventKind.SOURCE_RECOVERED)
# The events about a treaty (the API's `kind` filter): its changes and its rule events.
TREATY_EVENT_KINDS: tuple[EventKind, ...] = CHANGE_EVENT_KINDS + RULE_EVENT_KINDS
# The events that name a deposit (a retraction withdraws them when the deposit proves absent).
DEPOSIT_EVENT_KINDS: tuple[EventKind, ...] = (
    EventKind.SIGNATURE,
    EventKind.CONSENT,
    EventKind.REACCESSION,
    EventKind.PROVISIONAL_APPLICATION,
)
# The kinds a subscription may name and be sent (retraction notices follow their event instead).
ALERT_KINDS: tuple[EventKind, ...] = (
    EventKind.SIGNATURE,
    EventKind.CONSENT,
    EventKind.WITHDRAWAL,
    EventKind.REVOCATION,
    EventKind.REACCESSION,
    EventKind.CORRECTION,
    EventKind.APPROACHING,
    EventKind.THRESHOLD_CROSSED,
    EventKind.ENTERED_INTO_FORCE,
    EventKind.SOURCE_UNHEALTHY,
    EventKind.SOURCE_RECOVERED,
    EventKind.REAPPEARANCE,
    EventKind.DECLARATION,
)
# Kinds a subscription gets only when it names them (an empty kind filter leaves them out):
# a participant listed again after a confirmed disappearance, with the same entry, is no news.
OPT_IN_KINDS: frozenset[EventKind] = frozenset({EventKind.REAPPEARANCE})


class EventState(StrEnum):
    """Whether an event is believed: settled (`final`, `confirmed`), or not (yet)."""

    FINAL = "final"  # a settled event
    SUSPICIOUS = "suspicious"  # an absence not yet confirmed by a second observation
    CONFIRMED = "confirmed"  # an absence a second observation confirmed
    RETRACTED = "retracted"  # shown wrong (or an absence that came back while suspicious)
    DISPUTED = "disputed"  # a rule event held (no deliveries) while it disagrees with the page


# Settled events: the only ones sent or put in a feed.
SETTLED_EVENT_STATES: tuple[EventState, ...] = (EventState.FINAL, EventState.CONFIRMED)


class QuarantineKind(StrEnum):
    """Why a page was kept but not believed."""

    REJECTED_PAGE = "rejected_page"  # the parser or validation rejected it
    FETCH_FAILURE = "fetch_failure"  # it could not be fetched
    OUT_OF_ORDER = "out_of_order"  # observed before the latest snapshot's observation
    # A page of a treaty's other format (UNTC: the MTDSG XML of a treaty whose history is from
    # its HTML, or the reverse) that says something else than the history holds.
    FORMAT_DISAGREEMENT = "format_disagreement"


# The quarantined pages that make their source unhealthy at once (tracker.services.health): a
# page that failed validation, and a page whose other format disagrees with it. A failed fetch
# or an out-of-order archive counts through its crawl instead.
FAILED_VALIDATION_KINDS: tuple[QuarantineKind, ...] = (
    QuarantineKind.REJECTED_PAGE,
    QuarantineKind.FORMAT_DISAGREEMENT,
)


class HealthState(StrEnum):
    """A source's health: `pending` until a crawl is recorded, then healthy or unhealthy."""

    PENDING = "pending"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"


# The states operators are told of (a source's alert state; `pending` alerts nobody).
ALERT_STATES: tuple[HealthState, ...] = (HealthState.HEALTHY, HealthState.UNHEALTHY)


class Channel(StrEnum):
    """How a subscription is sent its events."""

    EMAIL = "email"  # over SMTP, after the address is confirmed
    WEBHOOK = "webhook"  # a signed HTTP POST
    APPRISE = "apprise"  # any Apprise URL


class SubscriptionState(StrEnum):
    """A subscription's life: email starts pending until confirmed; others start active."""

    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"


class DigestMode(StrEnum):
    """When a subscription's deliveries go out: each as it happens, or one daily digest."""

    IMMEDIATE = "immediate"
    DAILY = "daily"


class DeliveryState(StrEnum):
    """An outbox row's state: waiting, claimed by a dispatcher, or ended (sent, dead, cancelled)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"  # out of attempts, or refused for good
    CANCELLED = "cancelled"  # not to be sent (event retracted, subscription ended)


def in_words(name: object) -> str:
    """A stored name as people read it, wherever it is shown (dashboard, CLI, exports, alerts):
    "consent_to_be_bound" -> "consent to be bound"; None -> ""."""
    return "" if name is None else str(name).replace("_", " ")
