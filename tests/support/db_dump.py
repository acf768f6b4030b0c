"""A database's stored data as a canonical, comparable dump: every table's rows in primary-key
order, each value in one portable form (aware UTC datetimes, ISO dates, JSON with sorted keys),
digested per table. Used to prove that a change made for speed stores exactly what was stored
before (tests/golden).

Left out, because they are not the tracker's output but the moment or the luck of a run:
`created_at` (the wall clock at insert), a delivery's random idempotency key, and how a raw page
is compressed (its decompressed bytes are compared instead, through their sha256).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from datetime import UTC, date, datetime
from typing import Any

import zstandard
from sqlalchemy import Engine, select

from db.models import Base

# (table, column) left out of the dump; "*" is every table.
VOLATILE = {("*", "created_at"), ("deliveries", "idempotency_key"), ("deliveries", "id")}
# Rows compared in this order, not by their surrogate id: the order in which one transaction
# inserts a new event's deliveries is the database's (PostgreSQL and SQLite differ), not ours.
NATURAL_ORDER = {"deliveries": ("event_id", "subscription_id")}


def decompress(compression: str, body: bytes) -> bytes:
    """A raw page's bytes as stored (every codec the tracker has written), decoded here
    independently of the tracker's own reader."""
    if compression == "zlib":
        return zlib.decompress(body)
    if compression == "zstd":
        return zstandard.ZstdDecompressor().decompress(body)
    raise AssertionError(f"unknown raw page compression {compression!r}")


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return hashlib.sha256(bytes(value)).hexdigest()
    return value


def _row(table: str, row: dict[str, Any]) -> dict[str, Any]:
    if table == "raw_pages":
        body = decompress(row.pop("compression"), bytes(row.pop("body")))
        assert hashlib.sha256(body).hexdigest() == row["sha256"], row["id"]
        assert len(body) == row["size"], row["id"]
    return {
        name: _value(value)
        for name, value in row.items()
        if ("*", name) not in VOLATILE and (table, name) not in VOLATILE
    }


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows, canonical, in primary-key order (alembic's own table left out)."""
    found: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            natural = NATURAL_ORDER.get(table.name)
            order = (
                [table.c[name] for name in natural]
                if natural
                else list(table.primary_key.columns) or list(table.columns)
            )
            rows = conn.execute(select(table).order_by(*order)).mappings()
            found[table.name] = [_row(table.name, dict(r)) for r in rows]
    return found


def digests(engine: Engine) -> dict[str, dict[str, Any]]:
    """Per table: its row count and the sha256 of its canonical rows."""
    out = {}
    for name, rows in dump(engine).items():
        text = json.dumps(rows, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        out[name] = {"rows": len(rows), "sha256": hashlib.sha256(text.encode()).hexdigest()}
    return out
