"""Source health hysteresis: the state now (since when, over how many crawls) and the state
operators were last alerted of, so source_unhealthy / source_recovered wait until a new state
has held (TRACKER_HEALTH_ALERT_HOLD_CRAWLS / _MINUTES) and say how long the previous one lasted.

Existing sources start as if operators had been told of their stored `healthy` flag (no alert
on upgrade), since their last check.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = "'pending', 'healthy', 'unhealthy'"


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("health_state", sa.String(16), nullable=True))
        batch.add_column(sa.Column("health_state_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("health_state_crawls", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("alert_state", sa.String(16), nullable=True))
        batch.add_column(sa.Column("alert_state_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("alert_state_crawls", sa.Integer(), nullable=False, server_default="0")
        )
        batch.create_check_constraint("health_state", f"health_state IN ({STATES})")
        batch.create_check_constraint("alert_state", "alert_state IN ('healthy', 'unhealthy')")
    op.execute(
        "UPDATE sources SET "
        "health_state = CASE WHEN healthy THEN 'healthy' ELSE 'unhealthy' END, "
        "alert_state = CASE WHEN healthy THEN 'healthy' ELSE 'unhealthy' END, "
        "health_state_since = COALESCE(last_checked_at, created_at), "
        "alert_state_since = COALESCE(last_checked_at, created_at)"
    )
    with op.batch_alter_table("sources") as batch:  # the models carry no server defaults
        batch.alter_column("health_state_crawls", server_default=None)
        batch.alter_column("alert_state_crawls", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_constraint(op.f("ck_sources_alert_state"), type_="check")
        batch.drop_constraint(op.f("ck_sources_health_state"), type_="check")
        for column in (
            "alert_state_crawls",
            "alert_state_since",
            "alert_state",
            "health_state_crawls",
            "health_state_since",
            "health_state",
        ):
            batch.drop_column(column)
