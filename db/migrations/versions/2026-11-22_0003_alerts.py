"""Subscriptions and the delivery outbox.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(128), nullable=True),
        sa.Column("treaties", sa.JSON(), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _time("created_at"),
        _time("confirmed_at", nullable=True),
        _time("unsubscribed_at", nullable=True),
        sa.CheckConstraint(
            "channel IN ('email', 'webhook', 'apprise')", name=op.f("ck_subscriptions_channel")
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'active', 'unsubscribed')", name=op.f("ck_subscriptions_state")
        ),
        sa.CheckConstraint(
            "digest IN ('immediate', 'daily')", name=op.f("ck_subscriptions_digest")
        ),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("due_at"),
        _time("claimed_until", nullable=True),
        _time("sent_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _time("created_at"),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'dead')", name=op.f("ck_deliveries_state")
        ),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name="fk_deliveries_event_id_events"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name="fk_deliveries_subscription_id_subscriptions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint(
            "event_id", "subscription_id", name="uq_deliveries_event_id_subscription_id"
        ),
        sa.UniqueConstraint("idempotency_key", name="uq_deliveries_idempotency_key"),
    )
    op.create_index("ix_deliveries_state_due", "deliveries", ["state", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_state_due", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_table("subscriptions")
