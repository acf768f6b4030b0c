"""A treaty's history comes from one format at a time (UNTC: the ViewDetails HTML or the MTDSG
XML); a page of another format is a cross-check: quarantined as `format_disagreement` when it
says something else than the history, and its agreement recorded in `format_agreements`
otherwise (tracker.services.format_check). `treaties.history_observed_at`: the latest
observation of a page in the history's format; a treaty stored before is taken as last observed
when it was last checked (so a format crawled until now stays live: the other is cross-checked).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "kind IN ('rejected_page', 'fetch_failure', 'out_of_order')"
NEW = "kind IN ('rejected_page', 'fetch_failure', 'out_of_order', 'format_disagreement')"


def _replace_kind_check(condition: str) -> None:
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_constraint(op.f("ck_quarantine_kind"), type_="check")
        batch.create_check_constraint("kind", condition)


def _time(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _fk(column: str, target: str) -> sa.ForeignKeyConstraint:
    name = f"fk_format_agreements_{column}_{target}"
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=name)


def upgrade() -> None:
    _replace_kind_check(NEW)
    with op.batch_alter_table("treaties") as batch:
        batch.add_column(sa.Column("history_observed_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE treaties SET history_observed_at = last_checked_at")
    op.create_table(
        "format_agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("treaty_id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("raw_page_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("primary_format", sa.String(16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        _time("observed_at"),
        _time("first_checked_at"),
        _time("last_checked_at"),
        sa.Column("checks", sa.Integer(), nullable=False),
        _fk("raw_page_id", "raw_pages"),
        _fk("snapshot_id", "snapshots"),
        _fk("treaty_id", "treaties"),
        sa.PrimaryKeyConstraint("id", name="pk_format_agreements"),
        sa.UniqueConstraint(
            "treaty_id",
            "snapshot_id",
            "raw_page_id",
            name="uq_format_agreements_treaty_id_snapshot_id_raw_page_id",
        ),
    )


def downgrade() -> None:
    op.drop_table("format_agreements")
    with op.batch_alter_table("treaties") as batch:
        batch.drop_column("history_observed_at")
    # Going back, a disagreement is a page that failed validation (its reason keeps the words).
    op.execute("UPDATE quarantine SET kind = 'rejected_page' WHERE kind = 'format_disagreement'")
    _replace_kind_check(OLD)
