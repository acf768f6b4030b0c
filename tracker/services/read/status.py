"""The read side of a treaty's status: the answer now (from the latest snapshot, cached) or as
of a legal date / from what was known at a time (tracker.services.read.status_as_of), its
participants with the first observation of each act, and its entry-into-force part.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from db.models import ActionRow, ConditionConfirmation, Snapshot, Source, Treaty
from db.models import Participant as ParticipantRow
from tracker.domain.models import TreatyStatus
from tracker.services.answer_cache import ANSWERS
from tracker.services.read.common import NotFound, iso_or_none
from tracker.services.read.status_as_of import answer_from_history
from tracker.services.read.status_parts import (
    FirstObserved,
    TreatyAnswer,
    participant_views,
    published_of,
    rule_fields,
)
from tracker.services.read.treaties import find_treaty
from tracker.services.repository import latest_snapshot
from tracker.services.rule_events import as_last_seen
from tracker.services.timeline import DEFAULT_CONFIRM_AFTER
from tracker.sources import registry


def _latest(session: Session, treaty: Treaty) -> Snapshot:
    snapshot = latest_snapshot(session, treaty.id)
    if snapshot is None:
        raise NotFound(f"treaty {treaty.external_id!r} has no accepted snapshot yet")
    return snapshot


def _first_observed(session: Session, treaty_id: int) -> FirstObserved:
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
    *,
    confirm_after: timedelta = DEFAULT_CONFIRM_AFTER,
) -> dict[str, Any]:
    """Answer the status of a treaty from its latest snapshot, optionally as of a legal date
    and from what was observed by `known_at` (see `treaty_answer`)."""
    return treaty_answer(
        session, treaty_id, as_of, today, known_at=known_at, confirm_after=confirm_after
    ).status


def current_status(
    session: Session,
    treaty_id: str,
    as_of: date | None = None,
    today: date | None = None,
    known_at: datetime | None = None,
    *,
    confirm_after: timedelta = DEFAULT_CONFIRM_AFTER,
) -> dict[str, Any]:
    """`treaty_status`, with the current answers (no as_of, no known_at) kept per database,
    keyed by all they are computed from (tracker.services.answer_cache.ANSWERS).

    An answer reads the treaty row (its last check), its snapshots (immutable; actions change
    only when one is added), its operator confirmations and today (the catalogue is fixed for
    the process). One small indexed query gives that key (`status_key`); a hit skips the rest.
    Answers with an as_of are not kept (any date may be asked; memory), nor answers whose rule
    reads another treaty (after_treaty, share_of: not in the key).
    Answers are shared: callers must not mutate them.
    """
    day = today or datetime.now(UTC).date()
    if as_of is not None or known_at is not None:
        return treaty_status(
            session, treaty_id, as_of=as_of, today=day, known_at=known_at,
            confirm_after=confirm_after,
        )  # fmt: skip
    return _current(session, treaty_id, day, status_key(session, treaty_id, day))


def current_encoded(
    session: Session, treaty_id: str, today: date, encode: Callable[[dict[str, Any]], bytes]
) -> bytes:
    """The current answer (`current_status`, no as_of or known_at) as `encode` makes it
    (the web's JSON bytes), kept beside the answer under the same key: a hit is the key's one
    query and a look-up. `encode` must be the same function on every call (the bytes are kept
    under "status-encoded" and the answer's key, not under the encoder)."""
    key = status_key(session, treaty_id, today)
    encoded_key = ("status-encoded", *key[1:])
    cached = ANSWERS.get(session, encoded_key)
    if isinstance(cached, bytes):
        return cached
    answer = _current(session, treaty_id, today, key)
    body = encode(answer)
    if ANSWERS.get(session, key) is answer:  # kept (its rule reads no other treaty): keep it too
        ANSWERS.put(session, encoded_key, body)
    return body


def status_key(session: Session, treaty_id: str, today: date) -> tuple[Hashable, ...]:
    """The key of a treaty's current answer: ("status", treaty row id, its last check, the id
    of its newest snapshot and how many it has, its confirmations (key, date), today). One
    query on the treaty's unique (source, id), the snapshots' (treaty_id, ...) index and the
    confirmations' (treaty_id, key) one; an id that needs its case folded is found first
    (`find_treaty`). NotFound: no such treaty."""
    found = registry.split_id(treaty_id)
    if found is None:
        raise NotFound(f"unknown treaty {treaty_id!r}", cli_hint="tracker treaties")
    source, own = found
    if session.new or session.dirty or session.deleted:
        session.flush()  # as the ORM's autoflush would before a query
    connection = session.connection()  # Core: half the ORM's cost per statement
    rows = connection.execute(_KEY_BY_ID, {"slug": source.slug, "own": own}).all()
    if not rows:
        treaty, _ = find_treaty(session, treaty_id)  # the id in another case, or NotFound
        rows = connection.execute(_KEY_BY_ROW, {"row": treaty.id}).all()
    row_id, checked, last_snapshot, n_snapshots = rows[0][:4]
    confirmed = tuple(sorted((k, met) for *_, k, met in rows if k is not None))
    return ("status", row_id, checked, last_snapshot, n_snapshots, confirmed, today)


def _key_query() -> Select[Any]:
    newest = select(func.max(Snapshot.id)).where(Snapshot.treaty_id == Treaty.id)
    count = select(func.count(Snapshot.id)).where(Snapshot.treaty_id == Treaty.id)
    return select(
        Treaty.id,
        Treaty.last_checked_at,
        newest.scalar_subquery(),
        count.scalar_subquery(),
        ConditionConfirmation.key,
        ConditionConfirmation.met_on,
    ).outerjoin(ConditionConfirmation, ConditionConfirmation.treaty_id == Treaty.id)


_KEY_BY_ID = (
    _key_query()
    .join(Source, Source.id == Treaty.source_id)
    .where(Source.slug == bindparam("slug"), Treaty.external_id == bindparam("own"))
)
_KEY_BY_ROW = _key_query().where(Treaty.id == bindparam("row"))


def _current(
    session: Session, treaty_id: str, day: date, key: tuple[Hashable, ...]
) -> dict[str, Any]:
    cached = ANSWERS.get(session, key)
    if isinstance(cached, dict):
        return cached
    found = treaty_answer(session, treaty_id, today=day)
    answer = found.status
    if _reads_other_treaties(found):
        return answer  # its key does not cover the other treaty's snapshots: not kept
    ANSWERS.put(session, key, answer)
    return answer


def _reads_other_treaties(found: TreatyAnswer) -> bool:
    """True when the answer's rule reads another treaty (after_treaty, share_of): what that
    treaty's snapshots say changes the answer, and the cache key does not cover them."""
    rule = found.evaluation.rule if found.evaluation is not None else None
    return rule is not None and (rule.after_treaty is not None or rule.share_of is not None)


def treaty_answer(
    session: Session,
    treaty_id: str,
    as_of: date | None = None,
    today: date | None = None,
    *,
    known_at: datetime | None = None,
    confirm_after: timedelta = DEFAULT_CONFIRM_AFTER,
) -> TreatyAnswer:
    """Answer the status of a treaty from its latest snapshot, optionally as of a legal date.

    With `as_of=D` the answer comes from the whole history of accepted snapshots
    (tracker.services.read.status_as_of, tracker.domain.history): only acts whose legal date is
    on or before D and that had not ended on D count; participants with none are left out; an
    act whose end no page dates, and D inside the bounds the pages give, is not counted and
    said so in the warnings. With `known_at=T` only the snapshots observed by T are read.
    `confirm_after` (settings.disappearance_confirm_hours): how long after a page without an act
    a second page confirms it gone, as ingestion confirms absences.
    """
    if as_of is not None or known_at is not None:
        return answer_from_history(session, treaty_id, as_of, today, known_at, confirm_after)
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
        "treaty": registry.public_id(slug, treaty.external_id),
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
    return TreatyAnswer(answer, treaty, ev, status)
