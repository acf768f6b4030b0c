"""A stored status says itself whether the depositary printed the treaty in force: the parser's
reading (`in_force` in TreatyStatus.to_dict()) replaces a guess from the label words that the
domain made for every source. Snapshots stored before carry the reading in their `in_force`
column already (it was computed at ingest); this copies it into their `data`, so an old status
reads as it did. Content hashes are unchanged (the hash leaves `in_force` out).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

snapshots = sa.table(
    "snapshots",
    sa.column("id", sa.Integer),
    sa.column("data", sa.JSON),
    sa.column("in_force", sa.Boolean),
)
BATCH = 500


def _rewrite(add: bool) -> None:
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(snapshots.c.id, snapshots.c.data, snapshots.c.in_force)
            .where(snapshots.c.id > last)
            .order_by(snapshots.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for id_, data, in_force in rows:
            if not isinstance(data, dict):
                continue
            if add and "in_force" not in data:
                changed = {**data, "in_force": in_force}
            elif not add and "in_force" in data:
                changed = {k: v for k, v in data.items() if k != "in_force"}
            else:
                continue
            connection.execute(
                sa.update(snapshots).where(snapshots.c.id == id_).values(data=changed)
            )
        last = rows[-1][0]


def upgrade() -> None:
    _rewrite(add=True)


def downgrade() -> None:
    _rewrite(add=False)
