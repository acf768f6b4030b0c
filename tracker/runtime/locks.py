"""Leader election: of the `tracker run` processes on one database, exactly one runs the scheduler.

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) held on a dedicated
  connection (autocommit, TCP keepalives). The server drops it the moment the holder's session
  ends (process killed, connection closed), so a standby's next try succeeds. The key is fixed:
  a 64-bit hash of "treaty-tracker:scheduler:<schema>", so one tracker per database schema (the
  tests run several schemas in one database) and nothing shared with other applications' keys
  or with the migration lock of db/migrate.py.
- SQLite (and any other database): an exclusive non-blocking `flock` on a lock file beside the
  database file (default `data/tracker.sqlite3.leader.lock`); the kernel drops it when the holder
  dies. Same semantics, on one machine.

`LeaderLock`: `try_acquire() -> bool` (never raises on a database outage: False, try again
later), `still_held() -> bool` (False when the dedicated connection broke or the lock is gone),
`release()`. The loop that uses it is `tracker.runtime.leadership.Leadership`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, make_url, text
from sqlalchemy.pool import NullPool

from db.engine import make_engine
from tracker.settings import Settings

log = logging.getLogger("tracker.leader")

LOCK_NAMESPACE = "treaty-tracker:scheduler"
LOCK_FILE_SUFFIX = ".leader.lock"
# libpq: fail a connect after 10 s; probe an idle connection after 10 s, every 5 s, give up
# after 3 probes; give up on unacknowledged data after 15 s. A dead network is noticed in ~25 s.
PG_CONNECT_ARGS: dict[str, object] = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 15_000,
    "application_name": "tracker-leader",
}


class LeaderLock(Protocol):
    """A lock that at most one process holds; lost when its holder dies."""

    description: str

    def try_acquire(self) -> bool: ...
    def still_held(self) -> bool: ...
    def release(self) -> None: ...


def advisory_lock_key(schema: str = "public") -> int:
    """The scheduler's advisory lock key (signed 64-bit) for a database schema."""
    digest = hashlib.blake2b(f"{LOCK_NAMESPACE}:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _first_line(error: BaseException) -> str:
    text_ = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text_[0] if text_ else ''}"


class PostgresAdvisoryLock:
    """`pg_try_advisory_lock(key)` on a dedicated autocommit connection."""

    def __init__(self, url: str, key: int | None = None) -> None:
        self._url = url
        self._fixed_key = key
        self.key: int | None = key
        self._engine: Engine | None = None
        self._conn: Connection | None = None
        self._held = False
        self._last_error: str | None = None
        self.description = "PostgreSQL advisory lock"

    def _connection(self) -> Connection:
        if self._conn is None:
            if self._engine is None:
                self._engine = make_engine(
                    self._url, poolclass=NullPool, connect_args=dict(PG_CONNECT_ARGS)
                )
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                conn.execute(text("SET statement_timeout = '10s'"))
                schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            except Exception:
                conn.close()
                raise
            self.key = self._fixed_key if self._fixed_key is not None else advisory_lock_key(schema)
            self.description = f"PostgreSQL advisory lock {self.key} (schema {schema})"
            self._conn = conn
        return self._conn

    def _drop_connection(self) -> None:
        conn, self._conn, self._held = self._conn, None, False
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.invalidate()  # never hand a broken connection back
            with contextlib.suppress(Exception):
                conn.close()

    def _database_error(self, doing: str, error: Exception) -> None:
        message = f"{doing}: {_first_line(error)}"
        if message != self._last_error:  # once per distinct problem, not every poll
            log.warning("leader: %s", message, extra={"event": "leader_error"})
        self._last_error = message
        self._drop_connection()

    def try_acquire(self) -> bool:
        if self._held:
            return self.still_held()
        try:
            conn = self._connection()
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar()
            )
        except Exception as error:  # noqa: BLE001 (database down or unreachable: a standby keeps trying)
            self._database_error("cannot try the lock", error)
            return False
        self._last_error = None
        self._held = got
        return got

    def still_held(self) -> bool:
        if not self._held or self._conn is None:
            return False
        assert self.key is not None
        try:
            held = self._conn.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid() AND granted AND objsubid = 1 "
                    "AND classid::bigint = :hi AND objid::bigint = :lo)"
                ),
                {"hi": (self.key >> 32) & 0xFFFFFFFF, "lo": self.key & 0xFFFFFFFF},
            ).scalar()
        except Exception as error:  # noqa: BLE001 - the connection broke: the server has dropped (or will
            self._database_error("lock connection lost", error)  # drop) the lock
            return False
        if not held:
            self._held = False
        return bool(held)

    def release(self) -> None:
        if self._held and self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        self._drop_connection()  # closing the session releases it in any case

    def close(self) -> None:
        self.release()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def lock_file(path: Path) -> int | None:
    """An exclusive, non-blocking `flock` on `path` (created if missing, never deleted): its
    open descriptor, or None when another open file holds the lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def unlock_file(fd: int | None) -> None:
    """Release a lock taken by `lock_file` and close its descriptor (None: nothing held)."""
    if fd is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class FileLock:
    """An exclusive, non-blocking `flock` on `path` (created if missing, never deleted)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self.description = f"lock file {path}"

    def _same_file(self, fd: int) -> bool:
        """The locked file is still the one at `path` (not deleted or replaced)."""
        try:
            mine, there = os.fstat(fd), os.stat(self.path)
        except OSError:
            return False
        return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return self.still_held()
        fd = lock_file(self.path)
        if fd is None:
            return False
        if not self._same_file(fd):  # replaced between open and flock: try again next time
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # for people: who leads
        self._fd = fd
        return True

    def still_held(self) -> bool:
        if self._fd is None:
            return False
        if self._same_file(self._fd):
            return True
        self.release()
        return False

    def release(self) -> None:
        fd, self._fd = self._fd, None
        unlock_file(fd)

    def close(self) -> None:
        self.release()


def lock_file_for(settings: Settings) -> Path:
    """Beside the SQLite database file; in the data directory for anything else."""
    url = make_url(settings.database_url)
    database = url.database or ""
    if (
        url.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not database.startswith("file:")
    ):
        return Path(database).expanduser().with_name(Path(database).name + LOCK_FILE_SUFFIX)
    return settings.data_dir / f"scheduler{LOCK_FILE_SUFFIX}"


def make_leader_lock(settings: Settings) -> PostgresAdvisoryLock | FileLock:
    """The lock for `settings.database_url`: advisory on PostgreSQL, a lock file otherwise."""
    if make_url(settings.database_url).get_backend_name() == "postgresql":
        return PostgresAdvisoryLock(settings.database_url)
    return FileLock(lock_file_for(settings))


__all__ = [
    "FileLock",
    "LeaderLock",
    "PostgresAdvisoryLock",
    "advisory_lock_key",
    "lock_file_for",
    "make_leader_lock",
]
