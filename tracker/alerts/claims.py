"""Claims on deliveries: a batch taken under a lease and a token, its heartbeat, each try begun.

A claim marks rows `sending` under a lease and a claim token, in its own transaction (`FOR
UPDATE SKIP LOCKED` on PostgreSQL; SQLite serializes writers); it spends no attempt. The
`Heartbeat` renews the lease of every row the claim still holds, every third of the lease.
`begin_try` records a try (`attempts + 1`) on rows that still carry the claim's token, committed
before the send, and refuses (`Lost`, `Retracted`) when they do not or their event was withdrawn;
`begin_tries` does the same for every group of a batch in one transaction, before any is sent.
The guarantees this gives are listed in tracker.alerts.dispatch.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Self

from sqlalchemy import Connection, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import BindParameter

from db import unit_of_work
from db.driver_sql import DriverSQL
from db.engine import one_line
from db.models import Delivery, Event
from db.unit_of_work import Writer
from tracker.alerts.withheld import NEVER_SENT
from tracker.settings import DEFAULTS

log = logging.getLogger("tracker.alerts")

DEFAULT_LEASE = timedelta(seconds=DEFAULTS.delivery_lease_seconds)


def new_token() -> str:
    return uuid.uuid4().hex


def claim(
    sessions: sessionmaker[Session],
    now: datetime,
    batch: int,
    lease: timedelta,
    token: str | None = None,
) -> list[int]:
    """Take up to `batch` due deliveries (or ones whose lease ran out) for this process."""
    return list(claim_batch(sessions, now, batch, lease, token or new_token()))


def claim_batch(
    sessions: sessionmaker[Session], now: datetime, batch: int, lease: timedelta, token: str
) -> dict[int, str | None]:
    """Claim a batch under `token`; map each id to its previous claim's token (None: never
    claimed), which tells the rows of one earlier claim apart, so that a digest re-claimed after
    a crash or a failed try keeps its composition (and its key)."""
    with unit_of_work.write(sessions) as session:
        due = or_(
            and_(Delivery.state == "pending", Delivery.due_at <= now),
            and_(Delivery.state == "sending", Delivery.claimed_until < now),
        )
        query = (
            select(Delivery.id, Delivery.claim_token)
            .where(due)
            .order_by(Delivery.due_at, Delivery.id)
            .limit(batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claimed = dict(session.execute(query).all())
        if claimed:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(list(claimed)))
                .values(state="sending", claimed_until=now + lease, claim_token=token)
            )
    return claimed


def ours(token: str | BindParameter[str]) -> tuple:
    return (Delivery.claim_token == token, Delivery.state == "sending")


def renew(sessions: sessionmaker[Session], token: str, now: datetime, lease: timedelta) -> int:
    """Extend the lease of every row this claim still holds; return how many."""
    with unit_of_work.write(sessions) as session:
        result = session.execute(
            update(Delivery).where(*ours(token)).values(claimed_until=now + lease)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class Heartbeat:
    """Renews a claim's lease every third of it, in a thread, until stopped.

    `lock` serializes its writes with the dispatcher's own (one process, one writer at a time:
    no lock waits between the two on either database)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        token: str,
        lease: timedelta,
        now: Callable[[], datetime],
        lock: threading.Lock,
    ) -> None:
        self.sessions, self.token, self.lease, self.now, self.lock = (
            sessions,
            token,
            lease,
            now,
            lock,
        )
        self.period = max(lease.total_seconds() / 3, 0.01)
        self.renewals = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="delivery-lease", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                with self.lock:
                    renew(self.sessions, self.token, self.now(), self.lease)
                self.renewals += 1
            except Exception as error:  # noqa: BLE001 (the next beat tries again)
                log.warning(
                    "could not renew the lease of claim %s: %s",
                    self.token[:8],
                    one_line(error),
                )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class Lost(Exception):
    """Some rows of a group no longer belong to this claim (another dispatcher took them)."""


class Retracted(Exception):
    """Some rows of a group carry an event retracted since the group was prepared."""

    def __init__(self, rows: list[int]) -> None:
        super().__init__(rows)
        self.rows = rows


def begin_try(
    sessions: sessionmaker[Session],
    group: list[int],
    token: str,
    now: datetime,
    lease: timedelta,
) -> None:
    """Record a try on every row of `group` (and renew its lease), committed before the send;
    Lost, with nothing recorded, if any of them is no longer this claim's; Retracted if an
    event was retracted meanwhile (checked in the same transaction: a retraction committed
    before this try is always seen, so its notice and this send cannot cross): `begin_tries`
    for one group."""
    tries = begin_tries(sessions, [group], token, now, lease)
    if tries.retracted:
        raise Retracted(tries.retracted[0])
    if tries.lost:
        raise Lost


class _Partial(Exception):
    """Some rows of a batch cannot be tried as they are (taken over, or an event withdrawn)."""


@dataclass
class Tries:
    """What `begin_tries` did with the groups of a batch: each group's index in one list."""

    tried: list[int] = field(default_factory=list)  # a try recorded on every row: send them
    lost: list[int] = field(default_factory=list)  # some row taken over: nothing recorded
    retracted: dict[int, list[int]] = field(default_factory=dict)  # index -> its retracted rows


# begin_tries' usual case, built once (Core statements: no row of them is in a session): every
# row still this claim's, no event withdrawn. Up to _AT_ONCE rows (an e-mail's one, a webhook
# batch's few) are counted by a statement of their number run as the driver's SQL
# (db.driver_sql: a third of the time of SQLAlchemy's execute); more, the usual way.
def _count_tries(ids: Any) -> Any:
    return (
        update(Delivery)
        .where(
            ids,
            *ours(bindparam("token")),
            Delivery.event_id.not_in(
                select(Event.id).where(or_(*(Event.state == state for state in NEVER_SENT)))
            ),
        )
        .values(attempts=Delivery.attempts + 1, claimed_until=bindparam("until"))
        .returning(Delivery.id)
    )


_COUNT_TRIES = _count_tries(Delivery.id.in_(bindparam("ids", expanding=True)))
# Up to this many rows at once (a webhook batch's free senders), a statement per count.
_AT_ONCE = 64


@functools.cache
def _count_n_tries(n: int) -> DriverSQL:
    return DriverSQL(_count_tries(Delivery.id.in_([bindparam(f"id_{k}") for k in range(n)])))


@contextmanager
def _writing(sessions: sessionmaker[Session], writer: Writer | None) -> Iterator[Connection]:
    """A unit that writes: on `writer`'s held connection if one is given."""
    if writer is not None:
        with writer.unit() as connection:
            yield connection
    else:
        with unit_of_work.write(sessions) as session:
            yield session.connection()


def begin_tries(
    sessions: sessionmaker[Session],
    batch: list[list[int]],
    token: str,
    now: datetime,
    lease: timedelta,
    writer: Writer | None = None,
) -> Tries:
    """`begin_try` for every group of a batch at once, in one transaction committed before any
    of them is sent: a group with a row no longer this claim's is lost, one with a row whose
    event was retracted meanwhile is retracted (both: nothing recorded on any of its rows); the
    others get their try (`attempts + 1`, lease renewed). The retraction is checked in the
    same transaction, so a retraction committed before these tries is always seen. `writer`:
    the connection the usual case's transaction runs on (a dispatcher's, held for its batch)."""
    found = Tries()
    ids = [i for group in batch for i in group]
    if not ids:
        return found
    values = {"token": token, "until": now + lease}
    try:
        with _writing(sessions, writer) as connection:
            if len(ids) <= _AT_ONCE:
                counted = (
                    _count_n_tries(len(ids))
                    .execute(connection, values | {f"id_{k}": i for k, i in enumerate(ids)})
                    .all()
                )
            else:
                counted = connection.execute(_COUNT_TRIES, {"ids": ids, **values}).all()
            if len(counted) != len(ids):
                raise _Partial  # rolled back: nothing counted; sorted out row by row below
    except _Partial:
        pass
    else:
        found.tried = list(range(len(batch)))
        return found
    with unit_of_work.write(sessions) as session:
        # One read of the rows and their events' states (locked on PostgreSQL), one write.
        query = (
            select(Delivery.id, Delivery.claim_token, Delivery.state, Event.state)
            .join(Event, Event.id == Delivery.event_id)
            .where(Delivery.id.in_(ids))
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=Delivery)
        late: set[int] = set()
        mine: set[int] = set()
        for row_id, row_token, state, event_state in session.execute(query):
            if event_state in NEVER_SENT:
                late.add(row_id)
            if row_token == token and state == "sending":
                mine.add(row_id)
        tried: list[int] = []
        for index, group in enumerate(batch):
            if late.intersection(group):
                found.retracted[index] = [d for d in group if d in late]
            elif mine.issuperset(group):
                found.tried.append(index)
                tried += group
            else:
                found.lost.append(index)
        if tried:
            result = session.execute(
                update(Delivery)
                .where(Delivery.id.in_(tried), *ours(token))
                .values(attempts=Delivery.attempts + 1, claimed_until=now + lease)
            )
            if (result.rowcount or 0) != len(tried):  # type: ignore[attr-defined]
                raise Lost  # cannot happen (rows locked; SQLite: one writer): nothing recorded
    return found
