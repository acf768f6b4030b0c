"""Rule events exactly once per treaty (events.once_key), operators' condition confirmations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No batch mode: SQLite adds a nullable column in place, and a unique index needs no rebuild.
    op.add_column("events", sa.Column("once_key", sa.String(40), nullable=True))
    op.create_index("ux_events_treaty_once_key", "events", ["treaty_id", "once_key"], unique=True)
    op.create_table(
        "condition_confirmations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("treaty_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("met_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["treaty_id"], ["treaties.id"], name="fk_condition_confirmations_treaty_id_treaties"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_condition_confirmations"),
        sa.UniqueConstraint("treaty_id", "key", name="uq_condition_confirmations_treaty_id_key"),
    )


def downgrade() -> None:
    op.drop_table("condition_confirmations")
    op.drop_index("ux_events_treaty_once_key", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("once_key")
