"""Deliveries may be cancelled: never sent because their event was retracted before it went
out, or their subscription ended (neither a send nor a failure, so not `dead`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "state IN ('pending', 'sending', 'sent', 'dead')"
NEW = "state IN ('pending', 'sending', 'sent', 'dead', 'cancelled')"


def _replace_state_check(condition: str) -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint(op.f("ck_deliveries_state"), type_="check")
        batch.create_check_constraint("state", condition)


def upgrade() -> None:
    _replace_state_check(NEW)


def downgrade() -> None:
    op.execute("UPDATE deliveries SET state = 'dead' WHERE state = 'cancelled'")
    _replace_state_check(OLD)
