"""Builders for tests that need TreatyStatus objects and pages without the real parser.

`fake_parse` reads a page body that is the JSON of `TreatyStatus.to_dict()`; a body starting
with b"REJECT:" raises PageRejected with the rest as reason, b"CRASH" raises a RuntimeError.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.base import Base
from db.models import ActionRow, Event, Subscription
from tracker.domain.models import Action, Column, Participant, TreatyStatus
from tracker.services.ingest import FetchedPage
from tracker.sources import PageRejected
from tracker.sources.untc.letters import kind_for, label_in_force

TREATY = "XXVI-9"
URL = "https://treaties.example/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-9"


def at(day: str, hour: int = 12) -> datetime:
    """An aware UTC time on an ISO day."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC).replace(hour=hour)


def act(column: Column, day: str, letter: str = "", withdrawn: bool = False) -> Action:
    return Action(column, kind_for(column, letter), date.fromisoformat(day), letter, withdrawn)


def member(
    name: str,
    iso3: str | None = None,
    *,
    sig: str | None = None,
    consent: str | None = None,
    letter: str = "",
    withdrawn: bool = False,
    reio: bool = False,
) -> Participant:
    """A participant with an optional signature and an optional consent (kind by letter)."""
    actions = []
    if sig:
        actions.append(act(Column.SIGNATURE, sig))
    if consent:
        actions.append(act(Column.CONSENT, consent, letter, withdrawn))
    return Participant(name=name, iso3=iso3, reio=reio, actions=tuple(actions))


def status(
    *participants: Participant,
    treaty: str = TREATY,
    as_at: datetime | None = None,
    eif_date: str | None = None,
    title: str = "Treaty on the Prohibition of Nuclear Weapons",
    eif_label: str | None = "",
) -> TreatyStatus:
    """A status whose printed counts equal the derived ones. The label printed about entry into
    force is "Entry into force:" with `eif_date`, else "Not yet in force" (None: no label)."""
    draft = TreatyStatus(treaty_id=treaty, title=title, participants=tuple(participants))
    label = (
        ("Entry into force:" if eif_date else "Not yet in force") if eif_label == "" else eif_label
    )
    return TreatyStatus(
        treaty_id=treaty,
        title=title,
        participants=tuple(participants),
        published_signatories=draft.signatories,
        published_parties=draft.parties,
        status_as_at=as_at,
        eif_date=date.fromisoformat(eif_date) if eif_date else None,
        eif_label=label,
        in_force=label_in_force(label),
        eif_text=f"{eif_date}, in accordance with article 15(1)." if eif_date else None,
    )


def body_of(value: TreatyStatus) -> bytes:
    return json.dumps(value.to_dict()).encode()


def page(
    value: TreatyStatus | bytes, fetched: str, observed: str | None = None, **kw: Any
) -> FetchedPage:
    """A fetched page carrying `value` (a status, or raw bytes such as b"REJECT: reason")."""
    body = value if isinstance(value, bytes) else body_of(value)
    return FetchedPage(
        source="untc",
        url=kw.pop("url", URL),
        body=body,
        fetched_at=at(fetched),
        observed_at=at(observed) if observed else None,
        **kw,
    )


def fake_parse(
    body: bytes, *, url: str, expected_treaty: str | None = None, content_type: str | None = None
) -> TreatyStatus:
    """Stand-in for the UNTC parser: JSON status in, TreatyStatus out."""
    if body.startswith(b"REJECT:"):
        raise PageRejected(body[len(b"REJECT:") :].decode().strip())
    if body.startswith(b"CRASH"):
        raise RuntimeError("parser bug")
    parsed = TreatyStatus.from_dict(json.loads(body))
    if expected_treaty and parsed.treaty_id != expected_treaty:
        raise PageRejected(f"page is {parsed.treaty_id}, expected {expected_treaty}")
    return parsed


def counts(session_factory: sessionmaker[Session]) -> dict[str, int]:
    """Count the rows of every table."""
    with session_factory() as session:
        return {
            t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }


def events(session_factory: sessionmaker[Session]) -> list[Event]:
    """All events, oldest first."""
    with session_factory() as session:
        return list(session.scalars(select(Event).order_by(Event.id)))


def open_actions(session_factory: sessionmaker[Session]) -> list[ActionRow]:
    """Action rows still alive in the latest snapshot."""
    with session_factory() as session:
        query = select(ActionRow).where(ActionRow.ended_snapshot_id.is_(None))
        return list(session.scalars(query.order_by(ActionRow.id)))


def subscribe(session_factory: sessionmaker[Session], **kw: Any) -> int:
    """An active webhook subscription (to everything unless `treaties`, `countries`, `kinds`
    say otherwise; `digest` "immediate" unless given); returns its id."""
    with session_factory.begin() as session:
        sub = Subscription(
            channel="webhook",
            target="https://hooks.example/x",
            secret="k",
            treaties=kw.get("treaties", []),
            countries=kw.get("countries", []),
            kinds=kw.get("kinds", []),
            digest=kw.get("digest", "immediate"),
            state=kw.get("state", "active"),
        )
        session.add(sub)
        session.flush()
        return sub.id


def fake_untc():
    """A block in which `tracker.sources.parse("untc", ...)` reads JSON statuses (fake_parse):
    the untc spec with its parser replaced, put in the registry for the block."""
    from dataclasses import replace

    from tracker.sources import registry

    return registry.registered(replace(registry.get("untc"), parse=fake_parse))
