"""The `approaching` event carries the forecast ("expected around"), its alert says it, and a
forecast that cannot be made, or fails, never stops the event nor invents a date."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from support import cybercrime, own_pages

from db.models import Delivery, Event, Snapshot, Subscription, Treaty
from tracker.alerts.digest import summary
from tracker.alerts.messages import AlertContext, render
from tracker.services.ingest import FetchedPage, ingest_page

pytestmark = pytest.mark.db

NOON = datetime(2026, 12, 1, 12, tzinfo=UTC)
# 36 of the 40 instruments, one a week from March 2026: 4 remain (approaching at 5).
NEAR = tuple(date(2026, 3, 2) + timedelta(days=7 * i) for i in range(36))


def _approaching(session_factory) -> Event:
    with session_factory() as session:
        (event,) = session.scalars(select(Event).where(Event.kind == "approaching")).all()
        session.expunge(event)
        return event


def _message(session_factory, event: Event):
    with session_factory() as session:
        treaty = session.get_one(Treaty, event.treaty_id)
        snapshot = session.get(Snapshot, event.snapshot_id)
        ctx = AlertContext(event, treaty, snapshot, None, None, source="untc")
        delivery, subscription = Delivery(idempotency_key="k"), Subscription(id=1)
        return render(ctx, delivery, subscription, "http://127.0.0.1:8000")


def test_the_approaching_event_says_when_entry_into_force_is_expected(session_factory):
    cybercrime.ingest_with_references(session_factory, NOON, cybercrime.page(ratified=NEAR))
    event = _approaching(session_factory)
    d = event.details
    assert (d["remaining"], d["forecast_state"]) == (4, "forecast")
    low, high = (date.fromisoformat(x) for x in d["expected_interval"])
    around = date.fromisoformat(d["expected_around"])
    assert NOON.date() + timedelta(days=90) <= low <= around <= high  # 90 days after the 40th
    assert d["forecast_based_on"] >= 10
    message = _message(session_factory, event)
    expected = f"expected around {d['expected_around']} (80%: {low} to {high})"
    assert f"Entry into force {expected}." in message.text
    assert message.payload["forecast"] == {
        "state": "forecast", "expected_around": d["expected_around"], "p10": low.isoformat(),
        "p90": high.isoformat(), "based_on": d["forecast_based_on"],
    }  # fmt: skip
    assert f"4 instruments remain before the threshold, entry into force {expected}" in summary(
        [message.payload]
    )


def test_with_too_little_history_the_alert_gives_no_date(session_factory):
    body = cybercrime.page(ratified=NEAR)
    page = FetchedPage(
        "untc", own_pages.url_of("XVIII-16"), body, NOON, NOON, expected_treaty="XVIII-16"
    )
    assert ingest_page(session_factory, page).outcome == "accepted"  # the only treaty tracked
    event = _approaching(session_factory)
    assert event.details["forecast_state"] == "insufficient history"
    assert event.details["expected_around"] is None and event.details["expected_interval"] is None
    message = _message(session_factory, event)
    assert "expected around" not in message.text and "4 instruments" in message.text
    assert "expected" not in summary([message.payload])


def test_a_failing_forecast_never_stops_the_event(session_factory, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("the forecast broke")

    monkeypatch.setattr("tracker.services.rule_events.forecast_of", broken)
    with caplog.at_level(logging.ERROR, logger="tracker.services.rule_events"):
        cybercrime.ingest_with_references(session_factory, NOON, cybercrime.page(ratified=NEAR))
    event = _approaching(session_factory)
    assert event.details["forecast_state"] == "failed" and event.details["expected_around"] is None
    assert "the forecast for the approaching event failed" in caplog.text
    assert "expected around" not in _message(session_factory, event).text
