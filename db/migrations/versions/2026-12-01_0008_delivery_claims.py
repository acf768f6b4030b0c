"""Deliveries remember which claim holds them: `claim_token`, one random value per claimed batch.

A dispatcher renews the lease of, records a try on, and writes the outcome of only the rows that
still carry its own token, so a claim taken over after its lease ran out is never sent again by
the dispatcher that lost it. Rows claimed before this revision have no token; their lease runs
out and they are claimed again, as after a crash.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("claim_token")
