"""Replay WIPO Lex captures through the tracker's own ingest path (tracker.services.ingest.
ingest_page, one unit of work per page, as a crawl's pipeline calls it), in capture order, and
read back what it made of them: outcomes, events, and the deliveries an all-events subscription
would have been sent.

A capture is what one crawl of the `wipo` source would have fetched at one time: one page per
treaty. `rendered(versions)` makes them from the datahub CSV versions (tests/support/
wipo_history), `recorded(...)` from pages as WIPO Lex served them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Delivery, Event, Snapshot, Subscription, Treaty
from db.vocabulary import ALERT_KINDS, CHANGE_EVENT_KINDS, RULE_EVENT_KINDS
from support.wipo_history import Version, render
from tracker.domain.models import TreatyStatus
from tracker.services.ingest import FetchedPage, IngestResult, ingest_page
from tracker.sources.wipo.spec import SOURCE
from tracker.sources.wipo.urls import status_page_url

SessionFactory = sessionmaker[Session]


@dataclass(frozen=True)
class Capture:
    """One crawl's pages: (treaty_id, body) each, observed at `observed_at`."""

    name: str
    observed_at: datetime
    pages: Sequence[tuple[str, bytes]]


@dataclass
class Replay:
    """What the ingest made of each page, by capture."""

    results: list[tuple[Capture, str, IngestResult]] = field(default_factory=list)

    def outcomes(self) -> Counter[str]:
        return Counter(r.outcome for _, _, r in self.results)

    def pages(self) -> int:
        return len(self.results)

    def accepted(self, capture: str) -> list[str]:
        return [t for c, t, r in self.results if c.name == capture and r.outcome == "accepted"]


def rendered(sequence: Iterable[Version]) -> list[Capture]:
    """Each CSV version as the pages of its followed treaties, rendered in WIPO Lex's markup."""
    return [
        Capture(v.name, v.observed_at, [(t, render(v, t)) for t in v.treaty_ids()])
        for v in sequence
    ]


def recorded(name: str, observed_at: datetime, pages: Iterable[tuple[str, bytes]]) -> Capture:
    return Capture(name, observed_at, list(pages))


def replay(session_factory: SessionFactory, captures: Sequence[Capture]) -> Replay:
    """Ingest every page of every capture, in capture order (they must be given in it)."""
    times = [c.observed_at for c in captures]
    assert times == sorted(times), "captures out of order"
    done = Replay()
    for capture in captures:
        for treaty_id, body in capture.pages:
            page = FetchedPage(
                source=SOURCE.slug,
                url=status_page_url(SOURCE.default_base_url, treaty_id),
                body=body,
                fetched_at=capture.observed_at,
                observed_at=capture.observed_at,
                expected_treaty=treaty_id,
            )
            done.results.append((capture, treaty_id, ingest_page(session_factory, page)))
    return done


@dataclass(frozen=True)
class Seen:
    """One event as plain values."""

    id: int
    treaty: str  # WIPO's treaty_id
    kind: str
    participant: str | None
    legal_date: date | None
    observed_at: datetime
    state: str
    baseline: bool
    action_kind: str | None = None

    @property
    def is_rule_event(self) -> bool:
        return self.kind in RULE_EVENT_KINDS

    @property
    def is_change(self) -> bool:
        return self.kind in CHANGE_EVENT_KINDS


def _aware(when: datetime) -> datetime:
    """SQLite hands datetimes back naive (they are stored in UTC)."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def events(session_factory: SessionFactory) -> list[Seen]:
    """Every event of a `wipo` treaty, in the order written."""
    with session_factory() as session:
        rows = session.execute(
            select(Event, Treaty.external_id)
            .join(Treaty, Event.treaty_id == Treaty.id)
            .order_by(Event.id)
        )
        return [
            Seen(
                id=e.id,
                treaty=treaty,
                kind=e.kind,
                participant=e.participant_name,
                legal_date=e.legal_date,
                observed_at=_aware(e.observed_at),
                state=e.state,
                baseline=bool((e.details or {}).get("baseline")),
                action_kind=(e.details or {}).get("action_kind"),
            )
            for e, treaty in rows
        ]


def subscribe_to_everything(session_factory: SessionFactory) -> None:
    """An active webhook subscription to every alert kind of every treaty (never dispatched:
    its deliveries say what would have been sent)."""
    with session_factory.begin() as session:
        session.add(
            Subscription(
                channel="webhook",
                target="http://127.0.0.1:9/never-sent",
                kinds=[str(k) for k in ALERT_KINDS],
                state="active",
            )
        )


def delivered(session_factory: SessionFactory) -> list[Seen]:
    """The events the subscription got a delivery for."""
    with session_factory() as session:
        ids = set(session.scalars(select(Delivery.event_id)))
    return [e for e in events(session_factory) if e.id in ids]


def latest(session_factory: SessionFactory, treaty_id: str) -> TreatyStatus:
    """The treaty's latest accepted status."""
    with session_factory() as session:
        snap = session.scalars(
            select(Snapshot)
            .join(Treaty, Snapshot.treaty_id == Treaty.id)
            .where(Treaty.external_id == treaty_id)
            .order_by(Snapshot.observed_at.desc(), Snapshot.id.desc())
            .limit(1)
        ).one()
        return TreatyStatus.from_dict(snap.data)


def by_kind(seen: Iterable[Seen]) -> dict[str, int]:
    return dict(sorted(Counter(e.kind for e in seen).items()))


def as_changes(seen: Iterable[Seen]) -> list[tuple[str, str | None, str, date | None, datetime]]:
    """Change events as (treaty, participant, kind, legal date, observed at), sorted."""
    return sorted(
        (e.treaty, e.participant, e.kind, e.legal_date, e.observed_at) for e in seen if e.is_change
    )
