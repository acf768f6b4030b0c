"""The unit of work (db.unit_of_work) as the layers above the services reach it: the web, the
command line and the runtime may not import db/ (see pyproject's import contracts), so they
take `read`, `write`, `Database`, the session type and the database's error names from here,
and the schema's upgrade and revision (db.migrate) too.
"""

from __future__ import annotations

from db.migrate import current as schema_revision
from db.migrate import upgrade as upgrade_schema
from db.unit_of_work import (
    BAD_DATABASE,
    Database,
    DatabaseError,
    Session,
    Sessions,
    Unreachable,
    one_line,
    read,
    write,
)

__all__ = [
    "BAD_DATABASE",
    "Database",
    "DatabaseError",
    "Session",
    "Sessions",
    "Unreachable",
    "one_line",
    "read",
    "schema_revision",
    "upgrade_schema",
    "write",
]
