"""Engines and sessions from a database URL; SQLite gets foreign keys, WAL and a busy timeout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL, Connection
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option naming the BEGIN mode on SQLite: "IMMEDIATE" takes the write lock up front,
# so two writers queue on busy_timeout instead of failing on a lock upgrade.
# Other dialects ignore the option.
SQLITE_BEGIN = "sqlite_begin"


def one_line(error: BaseException) -> str:
    """The first line of a (database) error, for a log line or a message: the driver's own
    message when SQLAlchemy wraps one, else the error's; its type when it says nothing."""
    text = str(getattr(error, "orig", None) or error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _ensure_sqlite_dir(url: URL) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _on_sqlite_connect(
    dbapi_connection: Any,
    _record: Any,
    busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
    synchronous: str = "NORMAL",
) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _on_sqlite_begin)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
    finally:
        cursor.close()


def _on_sqlite_begin(conn: Connection) -> None:
    mode = str(conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")).upper()
    if mode not in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE"):
        raise ValueError(f"unknown SQLite BEGIN mode {mode!r}")
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str | URL, *, scratch: bool = False, **kwargs: Any) -> Engine:
    """Create an engine; on SQLite create the file's directory and set the connection pragmas
    (the busy timeout is 30 s, or the URL's `?timeout=SECONDS`).

    `scratch`: a database that is built anew whenever a run of it is lost (a re-derivation's
    new history, tracker.services.history_files.open_empty). On SQLite its commits do not wait
    for the disk (synchronous=OFF instead of NORMAL: a killed process loses nothing, a crash
    of the machine may lose or spoil the file); its owner syncs it once complete (`sync_file`).
    Other databases ignore it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _ensure_sqlite_dir(parsed)
        busy_ms = SQLITE_BUSY_TIMEOUT_MS
        if "timeout" in parsed.query:
            busy_ms = int(float(str(parsed.query["timeout"])) * 1000)
        sync = "OFF" if scratch else "NORMAL"
        engine = create_engine(parsed, **kwargs)
        event.listen(
            engine, "connect", lambda conn, rec: _on_sqlite_connect(conn, rec, busy_ms, sync)
        )
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def sync_file(engine: Engine) -> None:
    """Put everything committed on a SQLite engine into its database file and on the disk (the
    WAL checkpointed and emptied, with a full sync, whatever the engine's synchronous mode);
    nothing to do on other databases."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()  # outside a transaction: the safety level may change there
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory services take as their first argument."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def session_factory_for(url: str | URL) -> sessionmaker[Session]:
    """Shortcut: a session factory on a new engine for `url` (engine reachable as `.kw['bind']`)."""
    return make_session_factory(make_engine(url))
