"""The CHECK constraints built from db.vocabulary are, byte for byte, those the migrations
created (so a vocabulary moved into its module needs no migration); ChangeKind (domain) names
the change events the vocabulary lists."""

from __future__ import annotations

import pytest
from sqlalchemy import CheckConstraint, text

from db.engine import make_engine
from db.models import Base
from db.vocabulary import CHANGE_EVENT_KINDS, EventKind
from tracker.domain.changes import ChangeKind

# The constraint texts as the migrations wrote them (0001, 0003, 0005, 0007, 0009, 0011).
MIGRATED = {
    ("sources", "health_state"): "health_state IN ('pending', 'healthy', 'unhealthy')",
    ("sources", "alert_state"): "alert_state IN ('healthy', 'unhealthy')",
    ("events", "state"): "state IN ('final', 'suspicious', 'confirmed', 'retracted', 'disputed')",
    ("quarantine", "kind"): (
        "kind IN ('rejected_page', 'fetch_failure', 'out_of_order', 'format_disagreement')"
    ),
    ("subscriptions", "channel"): "channel IN ('email', 'webhook', 'apprise')",
    ("subscriptions", "state"): "state IN ('pending', 'active', 'unsubscribed')",
    ("subscriptions", "digest"): "digest IN ('immediate', 'daily')",
    ("deliveries", "state"): "state IN ('pending', 'sending', 'sent', 'dead', 'cancelled')",
}


def test_check_constraints_are_the_migrated_text():
    found = {
        (table.name, str(c.name).removeprefix(f"ck_{table.name}_")): str(c.sqltext)
        for table in Base.metadata.tables.values()
        for c in table.constraints
        if isinstance(c, CheckConstraint)
    }
    assert found == MIGRATED


def test_the_domain_change_kinds_are_event_kinds():
    assert {str(k) for k in ChangeKind} <= {str(k) for k in CHANGE_EVENT_KINDS}
    assert all(EventKind(k) == k for k in ChangeKind)


def test_a_migrated_sqlite_database_has_the_same_constraints(db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("reads sqlite_master")
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            tables = dict(conn.execute(text("SELECT name, sql FROM sqlite_master")).all())
    finally:
        engine.dispose()
    for (table, _), check in MIGRATED.items():
        assert check in tables[table]
