"""Run Alembic programmatically against a URL, from any working directory, without alembic.ini.

On SQLite, migrations run with foreign key enforcement off: batch mode changes a table by
copying it and dropping the old one, and with enforcement on that DROP fails (FOREIGN KEY
constraint failed) as soon as another table's row points at it, e.g. a delivery at its event.
Before the transaction commits, PRAGMA foreign_key_check must find no dangling reference the
migration made, else the migration is refused and rolled back (SQLite's own procedure for
changing a table's schema). Enforcement is switched back on afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL

from db.engine import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Arbitrary constant: serializes concurrent upgrades of one PostgreSQL database (several replicas).
_PG_MIGRATION_LOCK = 0x7472616B  # "trak"


def alembic_config(connection: Connection | None = None) -> Config:
    """Build an Alembic config on this package's migrations (and a connection, if given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """Return the head revision of the migration scripts."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"expected one migration head, found {heads}")
    return heads[0]


def _current(connection: Connection) -> str | None:
    heads = MigrationContext.configure(connection).get_current_heads()
    return heads[0] if heads else None


def current(url: str | URL) -> str | None:
    """Return the revision the database is at (None when it was never migrated)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return _current(connection)
    finally:
        engine.dispose()


class ForeignKeyViolation(RuntimeError):
    """A SQLite migration would leave rows whose foreign key points at no row (rolled back)."""


def _foreign_key_violations(connection: Connection) -> set[tuple[str, int | None, str]]:
    """PRAGMA foreign_key_check as (table, rowid, parent table) triples (SQLite only)."""
    rows = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    return {(str(row[0]), row[1], str(row[2])) for row in rows}


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """Turn foreign key enforcement off on this SQLite connection while the block runs (no-op
    elsewhere). Call it before the migration's transaction begins: inside one, SQLite ignores
    the pragma."""
    if connection.dialect.name != "sqlite":
        yield
        return
    dbapi: Any = connection.connection.driver_connection  # sqlite3.Connection
    if connection.in_transaction() or dbapi.in_transaction:
        raise RuntimeError("foreign keys can only be switched off outside a transaction")
    dbapi.execute("PRAGMA foreign_keys=OFF")
    try:
        if dbapi.execute("PRAGMA foreign_keys").fetchone()[0] != 0:
            raise RuntimeError("SQLite did not switch foreign key enforcement off")
        yield
    finally:
        if dbapi.in_transaction:  # the pragma would be ignored: never pool it unenforced
            connection.invalidate()
        else:
            dbapi.execute("PRAGMA foreign_keys=ON")


def _run_checked(connection: Connection, run: Callable[[], None]) -> None:
    """Run a migration command in the connection's transaction; on SQLite refuse it when it
    leaves a dangling foreign key that was not there before (one that was is left as it was)."""
    if connection.dialect.name != "sqlite":
        run()
        return
    before = _foreign_key_violations(connection)
    run()
    made = sorted(_foreign_key_violations(connection) - before)
    if made:
        shown = ", ".join(f"{table} row {rowid} -> {parent}" for table, rowid, parent in made[:5])
        more = f" and {len(made) - 5} more" if len(made) > 5 else ""
        raise ForeignKeyViolation(
            f"migration refused: it leaves rows pointing at no row: {shown}{more}"
        )


def upgrade(url: str | URL, revision: str = "head") -> bool:
    """Upgrade the database to `revision`; return whether anything ran (cheap when current)."""
    engine = make_engine(url)
    target = head() if revision == "head" else revision
    try:
        with engine.connect() as connection:
            if _current(connection) == target:
                return False
        with (
            engine.connect().execution_options(sqlite_begin="IMMEDIATE") as connection,
            _sqlite_foreign_keys_off(connection),
            connection.begin(),
        ):
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            if _current(connection) == target:
                return False
            config = alembic_config(connection)
            _run_checked(connection, lambda: command.upgrade(config, revision))
        return True
    finally:
        engine.dispose()


def downgrade(url: str | URL, revision: str) -> None:
    """Downgrade the database to `revision` ("base" drops every table)."""
    engine = make_engine(url)
    try:
        with (
            engine.connect() as connection,
            _sqlite_foreign_keys_off(connection),
            connection.begin(),
        ):
            config = alembic_config(connection)
            _run_checked(connection, lambda: command.downgrade(config, revision))
    finally:
        engine.dispose()
