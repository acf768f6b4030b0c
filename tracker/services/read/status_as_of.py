"""Status answers from a treaty's whole history: as of a legal date, and "what we knew on T".

`status --as-of D` reads every accepted snapshot (tracker.domain.history), not only the latest
one: a ratification later revoked, an acceptance replaced by a re-accession, a row the
depositary rewrote are answered for D as the pages showed them. `--known-at T` answers from
the snapshots observed up to T only. Read only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Event, Snapshot, Treaty
from tracker.catalogue import rule_for
from tracker.domain.act_history import ActKey, Printed
from tracker.domain.delays import Delay
from tracker.domain.history import derive
from tracker.domain.models import TreatyStatus
from tracker.domain.treaty_history import AsOf, TreatyHistory
from tracker.services.answer_cache import HISTORIES
from tracker.services.read.common import NotFound, iso_or_none
from tracker.services.read.status_parts import (
    FirstObserved,
    ParticipantView,
    TreatyAnswer,
    participant_views,
    published_of,
    rule_fields,
)
from tracker.services.read.treaties import find_treaty
from tracker.services.repository import aware
from tracker.services.retraction import vanished
from tracker.services.rule_context import footnotes_of
from tracker.services.timeline import ABSENCE_KINDS, DEFAULT_CONFIRM_AFTER
from tracker.sources import registry


def _withdrawal_clause(slug: str | None, treaty: Treaty, latest: Snapshot) -> Delay | None:
    """The treaty's withdrawal clause (the catalogue's rule, else the one its latest page gives),
    which the latest answer's evaluation reads the footnotes with too."""
    if slug is None:
        return None
    rule = rule_for(slug, treaty.external_id, None)
    if rule is None:
        rule = rule_for(slug, treaty.external_id, TreatyStatus.from_dict(latest.data))
    return rule.withdrawal if rule is not None else None


def load_history(
    session: Session,
    treaty: Treaty,
    known_at: datetime | None = None,
    *,
    slug: str | None = None,
    confirm_after: timedelta = DEFAULT_CONFIRM_AFTER,
) -> tuple[TreatyHistory, Snapshot]:
    """The history of `treaty` from its snapshots observed up to `known_at` (all: None), and
    the latest of them by observation (NotFound when there is none). With the treaty's source
    `slug`, the footnotes are read with the treaty's withdrawal clause (`Rule.withdrawal`)."""
    query = select(Snapshot).where(Snapshot.treaty_id == treaty.id)
    absences = select(Event).where(
        Event.treaty_id == treaty.id, Event.kind.in_(ABSENCE_KINDS), Event.state == "confirmed"
    )
    if known_at is not None:
        query = query.where(Snapshot.observed_at <= known_at)
        absences = absences.where(Event.observed_at <= known_at)
    snapshots = list(session.scalars(query.order_by(Snapshot.observed_at, Snapshot.id)))
    if not snapshots:
        if known_at is not None:
            raise NotFound(
                f"treaty {treaty.external_id!r} has no snapshot observed by "
                f"{known_at.isoformat()} (known_at)"
            )
        raise NotFound(f"treaty {treaty.external_id!r} has no accepted snapshot yet")
    confirmed: set[ActKey] = set()
    for event in session.scalars(absences):
        confirmed_at = event.details.get("confirmed_at")
        if (
            known_at is not None
            and confirmed_at
            and datetime.fromisoformat(confirmed_at) > known_at
        ):
            continue  # confirmed after T: not known then
        confirmed.update(vanished([event]))
    withdrawal = _withdrawal_clause(slug, treaty, snapshots[-1])
    key = (
        treaty.id,
        tuple((s.id, s.content_hash, aware(s.observed_at)) for s in snapshots),
        frozenset(confirmed),
        withdrawal,
        confirm_after,
    )
    history = HISTORIES.get(session, key)
    if history is None:
        data: dict[int, Any] = dict(
            session.execute(
                select(Snapshot.id, Snapshot.data).where(Snapshot.id.in_([s.id for s in snapshots]))
            ).all()
        )
        pages = [
            Printed(TreatyStatus.from_dict(data[s.id]), aware(s.observed_at), s.id, s.content_hash)
            for s in snapshots
        ]
        history = derive(
            pages,
            footnotes=footnotes_of(session, treaty),
            withdrawal=withdrawal,
            confirmed_gone=confirmed,
            confirm_after=confirm_after,
        )
        HISTORIES.put(session, key, history)
    return history, snapshots[-1]


def _first_observed(history: TreatyHistory, status: TreatyStatus) -> FirstObserved:
    found: FirstObserved = {}
    for p in status.participants:
        for a in p.actions:
            key: ActKey = (p.key, a.column.value, a.kind, a.date)
            act = history.act(key)
            if act is not None:
                found[(key, a.letter, a.withdrawn)] = act.first_observed
    return found


def _evidence(history: TreatyHistory) -> dict[str, Any]:
    return {
        "snapshots": len(history.pages),
        "first_printed": iso_or_none(history.pages[0].printed_at),
        "last_printed": iso_or_none(history.latest.printed_at),
    }


def _participants(derived: AsOf) -> list[dict[str, Any]]:
    rows = []
    for p in derived.participants:
        row = ParticipantView(p.participant, dict(p.first_observed)).as_dict()
        row["standing"] = p.standing
        row["history"] = [a.to_dict() | {"standing": s} for a, s in p.acts]
        rows.append(row)
    return rows


def _last_checked(
    treaty: Treaty, observed_last: Snapshot, known_at: datetime | None
) -> datetime | None:
    """When the treaty was last checked; known at T: the latest observation of its snapshots
    observed by T (a check after T is not known then, nor one that made no snapshot)."""
    if known_at is None:
        return treaty.last_checked_at
    return aware(observed_last.observed_at)


def answer_from_history(
    session: Session,
    treaty_id: str,
    as_of: date | None,
    today: date | None = None,
    known_at: datetime | None = None,
    confirm_after: timedelta = DEFAULT_CONFIRM_AFTER,
) -> TreatyAnswer:
    """The status answer for `as_of` from the whole history (observed up to `known_at`)."""
    if known_at is not None:
        known_at = aware(known_at).astimezone(UTC)
    treaty, slug = find_treaty(session, treaty_id)
    history, observed_last = load_history(
        session, treaty, known_at, slug=slug, confirm_after=confirm_after
    )
    day = today or datetime.now(UTC).date()
    if as_of is None:  # what the latest page observed by T said, as it said it
        base = observed_last
        status = TreatyStatus.from_dict(base.data)
        views = participant_views(status, _first_observed(history, status))
        participants = [v.as_dict() for v in views]
        keys = [v.participant.key for v in views]
        signatories = sum(1 for v in views if v.signatory)
        parties = sum(1 for v in views if v.party)
        evaluated, endings, warnings, not_known = status, None, [], 0
        in_force = status.in_force
    else:
        base_id = history.latest.snapshot_id  # the latest by print time
        base = observed_last if base_id == observed_last.id else session.get_one(Snapshot, base_id)
        status = history.latest.status
        derived = history.as_of(as_of)
        participants = _participants(derived)
        keys = [p.participant.key for p in derived.participants]
        signatories, parties = derived.signatories, derived.parties
        # only an instrument's end may end an instrument (not a signature's, review #5)
        evaluated, endings = derived.status, history.endings(instruments=True)
        warnings, not_known = list(derived.warnings), derived.not_known
        in_force = status.in_force
        if status.eif_date is not None:
            in_force = status.eif_date <= as_of
        elif in_force:
            in_force = None  # in force today, date unknown: cannot say for D
    rule_answer, ev = rule_fields(
        session, treaty, slug, evaluated, as_of, day, endings=endings, known_at=known_at
    )
    in_force_from = ev.in_force_from if ev is not None else {}
    for p, key in zip(participants, keys, strict=True):
        p["in_force_from"] = iso_or_none(in_force_from.get(key))
    rule_answer["warnings"] = warnings + list(rule_answer["warnings"])
    answer = {
        "treaty": registry.public_id(slug, treaty.external_id),
        "title": status.title,
        "source": slug,
        "signatories": signatories,
        "parties": parties,
        "standing_not_known": not_known,
        "published": published_of(status),
        "in_force": in_force,
        "as_of": iso_or_none(as_of),
        "known_at": iso_or_none(known_at),
        "snapshot_id": base.id,
        "observed_at": iso_or_none(aware(base.observed_at)),
        "status_as_at": iso_or_none(base.status_as_at),
        "evidence": _evidence(history),
        "last_checked_at": iso_or_none(_last_checked(treaty, observed_last, known_at)),
        "source_url": base.url,
        **rule_answer,
        "participants": participants,
    }
    return TreatyAnswer(answer, treaty, ev)
