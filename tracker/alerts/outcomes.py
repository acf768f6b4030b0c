"""The outcome of a delivery's try (or of not trying it), written on its rows.

Sent; or, after a failed try, `pending` again after `backoff(attempts)` until `attempts` reaches
`max_attempts`, then `dead`; a failed try of a retracted event is `cancelled`, not retried. Not
a try: `cancelled` (subscription ended, event withdrawn), `deferred` (due again after
`DEFERRAL`, attempts unchanged), `requeued` (due again at once).
"""

from __future__ import annotations

import logging
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from db import unit_of_work
from db.models import Delivery
from tracker.alerts.claims import ours
from tracker.alerts.policy import backoff
from tracker.alerts.withheld import retracted_events
from tracker.settings import DEFAULTS

log = logging.getLogger("tracker.alerts")

DEFAULT_MAX_ATTEMPTS = DEFAULTS.delivery_max_attempts
DEFERRAL = timedelta(minutes=10)  # wait before a delivery that was not tried is claimed again


@dataclass(frozen=True)
class Outcome:
    kind: str  # sent | tried (failed) | cancelled | deferred | requeued | exhausted
    error: str | None = None


def record(
    sessions: sessionmaker[Session],
    group: list[int],
    token: str,
    now: datetime,
    outcome: Outcome,
    max_attempts: int,
) -> list[str]:
    """Write one outcome on all the rows of a group this claim still holds, in one transaction
    (a digest is one send); return the report field of each row written."""
    return record_many(sessions, [(group, outcome)], token, now, max_attempts)[0]


def record_many(
    sessions: sessionmaker[Session],
    written: list[tuple[list[int], Outcome]],
    token: str,
    now: datetime,
    max_attempts: int,
) -> list[list[str]]:
    """Write the outcome of each group on the rows of it this claim still holds, all in one
    transaction; return, per group, the report field of each row written."""
    ids = [i for group, _ in written for i in group]
    if not ids:
        return [[] for _ in written]
    results: list[list[str] | None] = [None] * len(written)
    sent = [k for k, (_, outcome) in enumerate(written) if outcome.kind == "sent"]
    others = [k for k, (_, outcome) in enumerate(written) if outcome.kind != "sent"]
    with unit_of_work.write(sessions) as session:
        if sent:  # the usual outcome, in one statement: no row loaded
            rows = [i for k in sent for i in written[k][0]]
            held = set(
                session.connection()
                .execute(_SENT, {"ids": rows, "token": token, "now": now})
                .scalars()
            )
            for k in sent:
                group = written[k][0]
                _taken_over(group, held, "sent")
                results[k] = ["sent" for i in group if i in held]
        if others:
            loaded = _record_loaded(session, [written[k] for k in others], token, now, max_attempts)
            for k, found in zip(others, loaded, strict=True):
                results[k] = found
    return [found or [] for found in results]


# The outcome "sent" on the rows this claim still holds, built once.
_SENT = (
    update(Delivery)
    .where(Delivery.id.in_(bindparam("ids", expanding=True)), *ours(bindparam("token")))
    .values(state="sent", sent_at=bindparam("now"), last_error=None, claimed_until=None)
    .returning(Delivery.id)
)


def _taken_over(group: list[int], held: Container[int], kind: str) -> None:
    lost = sorted(i for i in group if i not in held)
    if lost:
        log.warning(
            "deliveries %s: taken over by another dispatcher while this one held them "
            "(its lease ran out); outcome %s not recorded, a repeat carries the same key",
            lost,
            kind,
        )


def _record_loaded(
    session: Session,
    written: list[tuple[list[int], Outcome]],
    token: str,
    now: datetime,
    max_attempts: int,
) -> list[list[str]]:
    """Each group's outcome on the rows of it this claim still holds, loaded (and locked on
    PostgreSQL): the outcomes that depend on a row (its attempts, its event retracted)."""
    ids = [i for group, _ in written for i in group]
    held = {
        row.id: row
        for row in session.scalars(
            select(Delivery)
            .where(Delivery.id.in_(ids), *ours(token))
            .order_by(Delivery.id)
            .with_for_update()
        )
    }
    retracted = retracted_events(session, [row.event_id for row in held.values()])
    return [
        _write(
            [held[i] for i in sorted(group) if i in held],
            group,
            retracted,
            now,
            outcome,
            max_attempts,
        )
        for group, outcome in written
    ]


def _write(
    rows: list[Delivery],
    group: list[int],
    retracted: set[int],
    now: datetime,
    outcome: Outcome,
    max_attempts: int,
) -> list[str]:
    """One outcome on the rows of one group this claim still holds (`rows`)."""
    results = []
    _taken_over(group, {r.id for r in rows}, outcome.kind)
    for row in rows:
        row.claimed_until = None
        error = (outcome.error or "")[:2000] or None
        if outcome.kind == "tried" and row.event_id in retracted:
            row.state, row.last_error = "cancelled", f"event retracted; last try: {error}"
            results.append("cancelled")
        elif outcome.kind == "sent":
            row.state, row.sent_at, row.last_error = "sent", now, None
            results.append("sent")
        elif outcome.kind == "cancelled":
            row.state, row.last_error = "cancelled", error
            results.append("cancelled")
        elif outcome.kind == "exhausted":
            row.state, row.last_error = "dead", error
            results.append("dead")
        elif outcome.kind == "deferred":
            row.state, row.due_at, row.last_error = "pending", now + DEFERRAL, error
            results.append("deferred")
        elif outcome.kind == "requeued":  # not tried: due again at once
            row.state, row.due_at = "pending", now
            results.append("deferred")
        elif row.attempts < max_attempts:
            row.state, row.due_at, row.last_error = (
                "pending",
                now + backoff(row.attempts),
                error,
            )
            results.append("retried")
        else:
            row.state, row.last_error = "dead", error
            results.append("dead")
    return results
