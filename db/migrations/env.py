"""Alembic environment: runs on the connection handed over by db.migrate (online mode only)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import db.models  # noqa: F401  (registers the tables on Base.metadata)
from db.base import Base

target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    """Configure the context on `connection` and run the migrations in its transaction."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through db.migrate (upgrade/downgrade), which passes a connection"
    )
run_migrations(connection)
