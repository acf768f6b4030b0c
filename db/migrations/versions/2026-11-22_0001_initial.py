"""Initial schema: sources, treaties, raw pages, snapshots, participants, actions, events,
quarantine.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Hand-checked against db/models.py (tests/db/test_migrations.py compares them). Times are
`DateTime(timezone=True)` (db.base.UTCDateTime stores UTC in them); legal dates are `Date`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=f"pk_{table}")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(40), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=True),
        sa.Column("healthy", sa.Boolean(), nullable=False),
        _time("last_checked_at", nullable=True),
        _time("last_success_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_crawl", sa.JSON(), nullable=True),
        _time("created_at"),
        _pk("sources"),
        sa.UniqueConstraint("slug", name="uq_sources_slug"),
    )
    op.create_table(
        "participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("iso3", sa.String(3), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("reio", sa.Boolean(), nullable=False),
        _pk("participants"),
        sa.UniqueConstraint("key", name="uq_participants_key"),
    )
    op.create_table(
        "raw_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("compression", sa.String(16), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(200), nullable=True),
        _time("created_at"),
        _pk("raw_pages"),
        sa.UniqueConstraint("sha256", name="uq_raw_pages_sha256"),
    )
    op.create_table(
        "treaties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        _time("last_checked_at", nullable=True),
        _time("created_at"),
        _fk("treaties", "source_id", "sources"),
        _pk("treaties"),
        sa.UniqueConstraint("source_id", "external_id", name="uq_treaties_source_id_external_id"),
    )
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("treaty_id", sa.Integer(), nullable=False),
        sa.Column("raw_page_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        _time("fetched_at"),
        _time("observed_at"),
        _time("status_as_at", nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("signatories", sa.Integer(), nullable=False),
        sa.Column("parties", sa.Integer(), nullable=False),
        sa.Column("published_signatories", sa.Integer(), nullable=True),
        sa.Column("published_parties", sa.Integer(), nullable=True),
        sa.Column("in_force", sa.Boolean(), nullable=True),
        sa.Column("eif_date", sa.Date(), nullable=True),
        _time("created_at"),
        _fk("snapshots", "raw_page_id", "raw_pages"),
        _fk("snapshots", "treaty_id", "treaties"),
        _pk("snapshots"),
    )
    op.create_index("ix_snapshots_treaty_observed", "snapshots", ["treaty_id", "observed_at", "id"])
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("treaty_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("printed_name", sa.Text(), nullable=False),
        sa.Column("column", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("letter", sa.String(4), nullable=False),
        sa.Column("legal_date", sa.Date(), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        _time("first_observed_at"),
        sa.Column("first_snapshot_id", sa.Integer(), nullable=False),
        sa.Column("ended_snapshot_id", sa.Integer(), nullable=True),
        _fk("actions", "ended_snapshot_id", "snapshots"),
        _fk("actions", "first_snapshot_id", "snapshots"),
        _fk("actions", "participant_id", "participants"),
        _fk("actions", "treaty_id", "treaties"),
        _pk("actions"),
    )
    op.create_index(
        "ix_actions_identity",
        "actions",
        ["treaty_id", "participant_id", "column", "kind", "legal_date"],
    )
    op.create_index("ix_actions_participant", "actions", ["participant_id"])
    op.create_index("ix_actions_treaty_open", "actions", ["treaty_id", "ended_snapshot_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("treaty_id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("participant_name", sa.Text(), nullable=True),
        sa.Column("legal_date", sa.Date(), nullable=True),
        _time("observed_at"),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _time("created_at"),
        sa.CheckConstraint(
            "state IN ('final', 'suspicious', 'confirmed', 'retracted')",
            name=op.f("ck_events_state"),
        ),
        _fk("events", "participant_id", "participants"),
        _fk("events", "snapshot_id", "snapshots"),
        _fk("events", "treaty_id", "treaties"),
        _pk("events"),
    )
    op.create_index("ix_events_treaty_kind_state", "events", ["treaty_id", "kind", "state"])
    op.create_index("ix_events_treaty_observed", "events", ["treaty_id", "observed_at"])
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("expected_treaty", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw_page_id", sa.Integer(), nullable=True),
        _time("fetched_at"),
        _time("observed_at", nullable=True),
        _time("created_at"),
        sa.CheckConstraint(
            "kind IN ('rejected_page', 'fetch_failure', 'out_of_order')",
            name=op.f("ck_quarantine_kind"),
        ),
        _fk("quarantine", "raw_page_id", "raw_pages"),
        _fk("quarantine", "source_id", "sources"),
        _pk("quarantine"),
    )
    op.create_index("ix_quarantine_source_fetched", "quarantine", ["source_id", "fetched_at"])


def downgrade() -> None:
    for table in ("quarantine", "events", "actions", "snapshots", "treaties", "raw_pages"):
        op.drop_table(table)
    op.drop_table("participants")
    op.drop_table("sources")
