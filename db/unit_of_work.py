"""The unit of work: the one owner of transactions, their lock mode and the engine's disposal.

Nothing else in db/, tracker/ or spiders/ begins, commits or rolls back a transaction, or picks
SQLite's BEGIN mode. It lives in db/ so that every layer that works with the database reaches it
(tracker.alerts sits below tracker.services); the web, the command line and the runtime, which
may not import db/, reach it through tracker.services.unit_of_work. The design:

- `read(sessions)`: a unit that only reads. A plain session, no lock taken: its statements
  run in the transaction the driver opens on its own (DEFERRED on SQLite), which is rolled
  back when the unit ends. Nothing it does is committed.
- `write(sessions)`: a unit that writes, as one transaction, committed when the block ends
  and rolled back when it raises. On SQLite it begins with `BEGIN IMMEDIATE`, taking the
  write lock up front: a unit that reads and then writes, while another connection holds a
  write transaction, waits for it (the busy timeout, 30 s) instead of failing at once with
  SQLITE_BUSY when its DEFERRED read lock would be upgraded. On PostgreSQL it is a normal
  transaction (row locks, where needed, are the services' `with_for_update`).
- `Writer(sessions)`: one connection held for many small units that write with Core
  statements only, each `unit()` one transaction on it as `write` makes them (SQLite: BEGIN
  IMMEDIATE), without a session and a pool checkout per unit: a dispatcher's tries, one
  transaction per e-mail. A unit that raises leaves the connection closed (a new one for the
  next unit); `close()`, or leaving its `with` block, gives it back.
- `Database`: the owner of an engine (from a URL), its session factory and
  `read()` / `write()` units on it; `dispose()`, or leaving its `with` block, disposes the
  engine. A job, a command or the service opens one Database and closes it.

Services take the session factory (`Sessions`) when they run units of their own (one
transaction per page, per claimed batch), or the `Session` a unit gives them; they never
call `sessions.begin()` or `sessions()` themselves.

The names of the database's errors that callers above the services (the web and the
command line) catch are given here too, so that those layers do not import SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy import exc as _exc
from sqlalchemy.orm import Session, sessionmaker

from db.engine import SQLITE_BEGIN, make_engine, make_session_factory, one_line

Sessions = sessionmaker[Session]

# The database errors the web and the command line tell apart (see the module docstring).
DatabaseError = _exc.SQLAlchemyError
Unreachable = _exc.OperationalError  # down, locked past the timeout, refused
BAD_DATABASE: tuple[type[Exception], ...] = (
    _exc.ArgumentError,
    _exc.NoSuchModuleError,
    _exc.OperationalError,
)

__all__ = [
    "BAD_DATABASE",
    "Database",
    "DatabaseError",
    "Session",
    "Sessions",
    "Unreachable",
    "Writer",
    "one_line",
    "read",
    "write",
]


@contextmanager
def read(sessions: Sessions) -> Iterator[Session]:
    """A unit that reads: a session, no lock, nothing committed; closed (rolled back) after."""
    with sessions() as session:
        yield session


@contextmanager
def write(sessions: Sessions) -> Iterator[Session]:
    """A unit that writes: one transaction (SQLite: BEGIN IMMEDIATE), committed at the end of
    the block, rolled back if it raises."""
    with sessions.begin() as session:
        session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
        yield session


class Writer:
    """See the module docstring: units of Core writes on one held connection."""

    def __init__(self, sessions: Sessions) -> None:
        bind = sessions.kw["bind"]
        assert isinstance(bind, Engine), "the session factory is bound to one engine"
        self._engine = bind
        self._connection: Connection | None = None

    @contextmanager
    def unit(self) -> Iterator[Connection]:
        """One transaction on the held connection (SQLite: BEGIN IMMEDIATE), committed at the
        end of the block, rolled back if it raises."""
        if self._connection is None:
            self._connection = self._engine.connect().execution_options(
                **{SQLITE_BEGIN: "IMMEDIATE"}
            )
        connection = self._connection
        try:
            with connection.begin():
                yield connection
        except BaseException:
            self.close()  # whatever went wrong with it (lost, locked), the next unit starts anew
            raise

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class Database:
    """An engine and its session factory, owned: units of work on it, disposal at the end."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions: Sessions = make_session_factory(engine)

    @classmethod
    def open(cls, url: str) -> Database:
        """A Database on a new engine for `url` (the schema is not touched)."""
        return cls(make_engine(url))

    @classmethod
    def upgraded(cls, url: str) -> Database:
        """Bring the database at `url` to the latest schema (cheap when current), open it."""
        from db.migrate import upgrade

        upgrade(url)
        return cls.open(url)

    def read(self) -> AbstractContextManager[Session]:
        """See `read`."""
        return read(self.sessions)

    def write(self) -> AbstractContextManager[Session]:
        """See `write`."""
        return write(self.sessions)

    def dispose(self) -> None:
        """Close the engine's pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_: object) -> None:
        self.dispose()
