"""The forecast over the database (tracker.services.read.forecast, tracker.services.forecasting):
the project's own UNTC pages ingested through the real parser are the references, the
Cybercrime convention with its first ratifications is forecast, and a treaty in force is not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from support import cybercrime, own_pages

from tracker.catalogue import catalogue
from tracker.forecast.model import FORECAST, MET
from tracker.services import forecasting
from tracker.services.answer_cache import FORECAST_HISTORIES
from tracker.services.forecasting import tracked_histories
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.services.read.common import NotFound
from tracker.services.read.forecast import treaty_forecast

NOON = datetime(2026, 12, 1, 12, tzinfo=UTC)
TODAY = date(2026, 12, 1)


def _ingest(session_factory, treaty: str, body: bytes) -> None:
    page = FetchedPage("untc", own_pages.url_of(treaty), body, NOON, NOON, expected_treaty=treaty)
    assert ingest_page(session_factory, page).outcome == "accepted"


@pytest.fixture
def tracked(session_factory):
    cybercrime.ingest_with_references(session_factory, NOON)
    return session_factory


def _counted(treaty: str) -> bool:
    rule = catalogue("untc").rules[treaty]
    return rule.threshold is not None and rule.threshold >= 5


@pytest.mark.db
def test_the_cybercrime_convention_is_forecast_from_the_tracked_treaties(tracked):
    with tracked() as session:
        f = treaty_forecast(session, "XVIII-16", today=TODAY)
    assert f.state == FORECAST and (f.treaty, f.threshold, f.qualifying) == ("XVIII-16", 40, 5)
    assert f.based_on == f.reached == sum(1 for t in own_pages.TREATIES if _counted(t))
    q, e = f.nth_instrument, f.entry_into_force
    assert q and e and q.median and e.median and q.p10 and q.p90
    assert TODAY <= q.p10 <= q.median <= q.p90
    assert e.median == q.median + timedelta(days=90)
    assert set(f.probability_by) == {date(2026, 12, 31), date(2027, 12, 31)}


@pytest.mark.db
def test_a_treaty_whose_rule_is_met_answers_its_computed_dates(tracked):
    with tracked() as session:
        f = treaty_forecast(session, "XXVI-9", today=TODAY)
    assert f.state == MET and f.qualifying >= 50
    assert f.nth_instrument and f.nth_instrument.median == own_pages.TPNW_FIFTIETH
    assert f.entry_into_force and f.entry_into_force.median == date(2021, 1, 22)
    assert f.probability_by == {date(2026, 12, 31): 1.0, date(2027, 12, 31): 1.0}


@pytest.mark.db
def test_a_named_list_is_not_forecast_and_its_missing_states_are_named(tracked):
    with tracked() as session:
        f = treaty_forecast(session, "XXVI-4", today=TODAY)  # CTBT: the 44 States of Annex 2
    assert f.state == "not forecast" and f.nth_instrument is None and f.probability_by == {}
    (part,) = f.not_forecast
    missing = own_pages.CTBT_MISSING
    assert f"({len(missing)} missing: " in part and all(code in part for code in missing)
    assert part.endswith("each missing State is its own question, not forecast")
    assert f.reason == part


@pytest.mark.db
def test_the_histories_are_kept_until_the_database_changes(tracked):
    with tracked() as session:
        first = tracked_histories(session)
        assert {h.treaty for h in first} >= {"XVIII-16", "XXVI-9"}
        assert "XXVI-4" not in {h.treaty for h in first}  # a named list: no count to learn from
        assert tracked_histories(session) is first  # kept
    later = cybercrime.page(status_as_at="02-12-2026 10:00:00 EST").replace(
        b"United Nations Convention against Cybercrime", b"UN Convention against Cybercrime"
    )
    _ingest(tracked, "XVIII-16", later)
    with tracked() as session:
        again = tracked_histories(session)
    assert again is not first  # a new snapshot: read again
    # Only the treaty with a new snapshot was evaluated again: the others are the same objects.
    same = {h.treaty for h in again if any(h is old for old in first)}
    assert same == {h.treaty for h in first} - {"XVIII-16"}
    FORECAST_HISTORIES.clear()


@pytest.mark.db
def test_the_ingest_keeps_each_latest_history_as_the_forecast_would_read_it(tracked, monkeypatch):
    later = cybercrime.page(status_as_at="02-12-2026 10:00:00 EST").replace(
        b"United Nations Convention against Cybercrime", b"UN Convention against Cybercrime"
    )
    _ingest(tracked, "XVIII-16", later)

    def evaluated_again(*args, **kwargs):
        raise AssertionError("a history the ingest kept was read and evaluated again")

    with monkeypatch.context() as patched, tracked() as session:
        patched.setattr(forecasting, "_history_of", evaluated_again)
        kept = tracked_histories(session)
    FORECAST_HISTORIES.clear()
    with tracked() as session:
        read = tracked_histories(session)  # every history read from the stored snapshots
    assert {h.treaty for h in read} >= {"XVIII-16", "XXVI-9"}
    assert kept == read
    FORECAST_HISTORIES.clear()


@pytest.mark.db
def test_an_unknown_treaty_is_not_found(tracked):
    with tracked() as session, pytest.raises(NotFound):
        treaty_forecast(session, "XVIII-99", today=TODAY)


@pytest.mark.db
def test_a_page_with_no_date_at_all_is_not_forecast_from_today(session_factory):
    """No adoption date and no dated action: nothing to count the pace from, so no forecast
    (it was once forecast as if opened on the day asked)."""
    from tracker.domain.evaluate import evaluate
    from tracker.domain.models import TreatyStatus
    from tracker.forecast.model import NO_DATE
    from tracker.services.forecasting import forecast_of
    from tracker.sources.untc.footnotes import FOOTNOTES

    rule = catalogue("untc").rules["XVIII-16"]
    empty = TreatyStatus(treaty_id="XVIII-16", title="United Nations Convention against Cybercrime")
    ev = evaluate(rule, empty, footnotes=FOOTNOTES, today=TODAY)
    with session_factory() as session:
        f = forecast_of(session, "XVIII-16", rule, empty, ev, today=TODAY)
    assert f.state == "not forecast" and f.reason == NO_DATE and f.threshold == 40
    assert f.nth_instrument is None and f.probability_by == {}
