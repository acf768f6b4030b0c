"""Read side for people: treaty list, status (now or as of a legal date) and history. No writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import ActionRow, Event, Snapshot, Source, Treaty
from db.models import Participant as ParticipantRow
from tracker.catalogue import rule_and_warning
from tracker.domain.endings import Ending
from tracker.domain.evaluate import Evaluation, evaluate
from tracker.domain.models import TreatyStatus
from tracker.services.detection import as_last_seen, confirmations, rule_summary
from tracker.services.repository import latest_snapshot
from tracker.services.rule_context import rule_context
from tracker.services.status_view import ActKey, participant_views, sort_key
from tracker.sources import registry


class NotFound(LookupError):
    """No treaty (or no accepted snapshot of it) under that id."""


def iso_or_none(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def find_treaty(session: Session, treaty_id: str) -> tuple[Treaty, str]:
    """The treaty a public id names, and its source's slug.

    A public id names one source (tracker.sources.registry: `<prefix><id>`; UNTC's ids have no
    prefix) and that source's own id: the exact id, else the only one equal to it ignoring case.
    """
    found = registry.split_id(treaty_id)
    if found is None:
        raise NotFound(f"unknown treaty {treaty_id!r} (see `tracker treaties`)")
    source, own = found
    query = (
        select(Treaty, Source.slug)
        .join(Source, Source.id == Treaty.source_id)
        .where(Source.slug == source.slug)
    )
    row = session.execute(query.where(Treaty.external_id == own)).first()
    if row is None:
        folded = query.where(func.upper(Treaty.external_id) == own.strip().upper())
        rows = session.execute(folded).all()
        row = rows[0] if len(rows) == 1 else None
    if row is None:
        raise NotFound(f"unknown treaty {treaty_id!r} (see `tracker treaties`)")
    return row[0], row[1]


def _latest(session: Session, treaty: Treaty) -> Snapshot:
    snapshot = latest_snapshot(session, treaty.id)
    if snapshot is None:
        raise NotFound(f"treaty {treaty.external_id!r} has no accepted snapshot yet")
    return snapshot


def list_treaties(session: Session) -> list[dict[str, Any]]:
    """List every treaty with its latest counts, by source, each in its source's order."""
    order = (Snapshot.observed_at.desc(), Snapshot.id.desc())
    ranked = select(
        Snapshot.id,
        func.row_number().over(partition_by=Snapshot.treaty_id, order_by=order).label("rn"),
    ).subquery()
    query = (
        select(
            Treaty,
            Source.slug,
            Snapshot.observed_at,
            Snapshot.signatories,
            Snapshot.parties,
            Snapshot.in_force,
        )
        .join(Source, Source.id == Treaty.source_id)
        .join(Snapshot, Snapshot.treaty_id == Treaty.id)
        .join(ranked, (ranked.c.id == Snapshot.id) & (ranked.c.rn == 1))
    )
    rows = [
        {
            "treaty": registry.public_id(slug, treaty.external_id),
            "title": treaty.title,
            "source": slug,
            "signatories": signatories,
            "parties": parties,
            "in_force": in_force,
            "observed_at": iso_or_none(observed),
            "last_checked_at": iso_or_none(treaty.last_checked_at),
            "source_url": treaty.url,
        }
        for treaty, slug, observed, signatories, parties, in_force in session.execute(query)
    ]
    return sorted(rows, key=lambda r: sort_key(r["treaty"]))


def _first_observed(session: Session, treaty_id: int) -> dict[tuple[ActKey, str, bool], datetime]:
    query = (
        select(
            ParticipantRow.key,
            ActionRow.column,
            ActionRow.kind,
            ActionRow.legal_date,
            ActionRow.letter,
            ActionRow.withdrawn,
            ActionRow.first_observed_at,
        )
        .join(ParticipantRow, ParticipantRow.id == ActionRow.participant_id)
        .where(ActionRow.treaty_id == treaty_id, ActionRow.ended_snapshot_id.is_(None))
    )
    return {
        ((key, column, kind, legal), letter, withdrawn): first
        for key, column, kind, legal, letter, withdrawn, first in session.execute(query)
    }


def treaty_status(
    session: Session,
    treaty_id: str,
    as_of: date | None = None,
    today: date | None = None,
    known_at: datetime | None = None,
) -> dict[str, Any]:
    """Answer the status of a treaty from its latest snapshot, optionally as of a legal date
    and from what was observed by `known_at` (see `treaty_answer`)."""
    return treaty_answer(session, treaty_id, as_of, today, known_at=known_at).status


@dataclass(frozen=True)
class TreatyAnswer:
    """The status answer, with the treaty row and the rule's evaluation it was built from."""

    status: dict[str, Any]
    treaty: Treaty
    evaluation: Evaluation | None


def treaty_answer(
    session: Session,
    treaty_id: str,
    as_of: date | None = None,
    today: date | None = None,
    *,
    known_at: datetime | None = None,
) -> TreatyAnswer:
    """Answer the status of a treaty from its latest snapshot, optionally as of a legal date.

    With `as_of=D` the answer comes from the whole history of accepted snapshots
    (tracker.services.history_answer, tracker.domain.history): only acts whose legal date is
    on or before D and that had not ended on D count; participants with none are left out; an
    act whose end no page dates, and D inside the bounds the pages give, is not counted and
    said so in the warnings. With `known_at=T` only the snapshots observed by T are read.
    """
    if as_of is not None or known_at is not None:
        from tracker.services.history_answer import answer_from_history

        return answer_from_history(session, treaty_id, as_of, today, known_at)
    treaty, slug = find_treaty(session, treaty_id)
    snapshot = _latest(session, treaty)
    status = TreatyStatus.from_dict(snapshot.data)
    views = participant_views(status, _first_observed(session, treaty.id))
    in_force = status.in_force
    rule_answer, ev = rule_fields(
        session,
        treaty,
        slug,
        as_last_seen(status, treaty),
        as_of,
        today or datetime.now(UTC).date(),
    )
    in_force_from = ev.in_force_from if ev is not None else {}
    participants = [v.as_dict() for v in views]
    for p, v in zip(participants, views, strict=True):
        p["in_force_from"] = iso_or_none(in_force_from.get(v.participant.key))
    answer = {
        "treaty": treaty.external_id,
        "title": status.title,
        "source": slug,
        "signatories": sum(1 for v in views if v.signatory),
        "parties": sum(1 for v in views if v.party),
        "published": published_of(status),
        "in_force": in_force,
        "as_of": iso_or_none(as_of),
        "observed_at": iso_or_none(snapshot.observed_at),
        "status_as_at": iso_or_none(snapshot.status_as_at),
        "last_checked_at": iso_or_none(treaty.last_checked_at),
        "source_url": snapshot.url,
        **rule_answer,
        "participants": participants,
    }
    return TreatyAnswer(answer, treaty, ev)


def published_of(status: TreatyStatus) -> dict[str, Any] | None:
    """What the depositary prints of its own counts and entry into force (None: nothing)."""
    published = {
        "signatories": status.published_signatories,
        "parties": status.published_parties,
        "entry_into_force": iso_or_none(status.eif_date),
        "entry_into_force_text": status.eif_text,
    }
    return published if any(v is not None for v in published.values()) else None


def rule_fields(
    session: Session,
    treaty: Treaty,
    slug: str,
    status: TreatyStatus,
    as_of: date | None,
    today: date,
    *,
    endings: Mapping[str, Sequence[Ending]] | None = None,
    known_at: datetime | None = None,
) -> tuple[dict[str, Any], Evaluation | None]:
    """The entry-into-force part of the status answer (all null where no rule is known), and
    the evaluation it comes from."""
    rule, no_rule = rule_and_warning(slug, treaty.external_id, status)
    if rule is None:
        return {
            "rule": None,
            "qualifying_instruments": None,
            "remaining": None,
            "threshold_met_on": None,
            "entry_into_force": {
                "computed": None,
                "published": iso_or_none(status.eif_date),
                "agrees": None,
                "earliest": None,
            },
            "deciding_deposits": [],
            "groups": [],
            "conditions": [],
            "warnings": [no_rule],
        }, None
    ev = evaluate(
        rule,
        status,
        as_of=as_of,
        confirmations=confirmations(session, treaty.id, known_at),
        today=today,
        endings=endings,
        **rule_context(session, treaty, rule, known_at=known_at),
    )
    return {
        "rule": rule_summary(rule),
        "qualifying_instruments": ev.qualifying,
        "remaining": ev.remaining,
        "threshold_met_on": iso_or_none(ev.threshold_met_on),
        "entry_into_force": ev.entry_into_force(),
        "deciding_deposits": ev.deciding_deposits(),
        "groups": [g.to_dict() for g in ev.groups],
        "conditions": [c.to_dict() for c in ev.conditions],
        "warnings": list(ev.warnings),
    }, ev


def treaty_history(session: Session, treaty_id: str) -> dict[str, Any]:
    """List a treaty's snapshots and events in observation order."""
    treaty, slug = find_treaty(session, treaty_id)
    snapshots = session.scalars(
        select(Snapshot)
        .where(Snapshot.treaty_id == treaty.id)
        .order_by(Snapshot.observed_at, Snapshot.id)
    ).all()
    events = session.execute(
        select(Event, ParticipantRow.iso3)
        .outerjoin(ParticipantRow, ParticipantRow.id == Event.participant_id)
        .where(Event.treaty_id == treaty.id)
        .order_by(Event.observed_at, Event.id)
    )
    return {
        "treaty": treaty.external_id,
        "title": treaty.title,
        "source": slug,
        "snapshots": [
            {
                "id": s.id,
                "observed_at": iso_or_none(s.observed_at),
                "fetched_at": iso_or_none(s.fetched_at),
                "status_as_at": iso_or_none(s.status_as_at),
                "hash": s.content_hash,
                "url": s.url,
                "signatories": s.signatories,
                "parties": s.parties,
                "published_signatories": s.published_signatories,
                "published_parties": s.published_parties,
            }
            for s in snapshots
        ],
        "events": [event_dict(e, iso3) for e, iso3 in events],
    }


def event_dict(e: Event, iso3: str | None, treaty: str | None = None) -> dict[str, Any]:
    """One event as answered (`tracker history --json`); with its treaty where events of
    several treaties are listed."""
    found: dict[str, Any] = {"id": e.id}
    if treaty is not None:
        found["treaty"] = treaty
    return found | {
        "kind": e.kind,
        "participant": e.participant_name,
        "iso3": iso3,
        "legal_date": iso_or_none(e.legal_date),
        "observed_at": iso_or_none(e.observed_at),
        "state": e.state,
        "snapshot_id": e.snapshot_id,
        "details": e.details,
    }
