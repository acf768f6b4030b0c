"""Ingest receipts: a page recovered from the spool (fetched, but not stored because the
database failed) is ingested at most once, even when recovery is interrupted between storing
it and deleting its spool file.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingest_receipts",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("treaty", sa.String(64), nullable=True),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_ingest_receipts"),
    )


def downgrade() -> None:
    op.drop_table("ingest_receipts")
