"""Events about a source (source_unhealthy, source_recovered): treaty optional, source named.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.alter_column("treaty_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("source_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_events_source_id_sources", "sources", ["source_id"], ["id"])


def downgrade() -> None:
    op.execute(
        "DELETE FROM deliveries WHERE event_id IN (SELECT id FROM events WHERE treaty_id IS NULL)"
    )
    op.execute("DELETE FROM events WHERE treaty_id IS NULL")
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("fk_events_source_id_sources", type_="foreignkey")
        batch.drop_column("source_id")
        batch.alter_column("treaty_id", existing_type=sa.Integer(), nullable=False)
