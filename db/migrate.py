"""Run Alembic programmatically against a URL, from any working directory, without alembic.ini."""

from __future__ import annotations

from pathlib import Path

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


def upgrade(url: str | URL, revision: str = "head") -> bool:
    """Upgrade the database to `revision`; return whether anything ran (cheap when current)."""
    engine = make_engine(url)
    target = head() if revision == "head" else revision
    try:
        with engine.connect() as connection:
            if _current(connection) == target:
                return False
        with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as connection:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                    )
                if _current(connection) == target:
                    return False
                command.upgrade(alembic_config(connection), revision)
        return True
    finally:
        engine.dispose()


def downgrade(url: str | URL, revision: str) -> None:
    """Downgrade the database to `revision` ("base" drops every table)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), revision)
    finally:
        engine.dispose()
