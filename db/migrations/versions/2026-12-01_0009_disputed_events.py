"""Rule events may be `disputed`: held, with no deliveries, while the evaluation they follow
from disagrees with what the depositary prints; final once a later page agrees or an operator
confirms them (tracker.services.detection).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "state IN ('final', 'suspicious', 'confirmed', 'retracted')"
NEW = "state IN ('final', 'suspicious', 'confirmed', 'retracted', 'disputed')"


def _replace_state_check(condition: str) -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint(op.f("ck_events_state"), type_="check")
        batch.create_check_constraint("state", condition)


def upgrade() -> None:
    _replace_state_check(NEW)


def downgrade() -> None:
    # A held event was never sent: going back, it is as if it had been retracted unsent.
    op.execute("UPDATE events SET state = 'retracted', once_key = NULL WHERE state = 'disputed'")
    _replace_state_check(OLD)
