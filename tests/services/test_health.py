"""Source health: the pure rule (table-driven) and its bookkeeping (crawls, fetch failures, the
periodic job, the scheduler's crawl job)."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from db.models import Source
from tracker.runtime import jobs as scheduler
from tracker.runtime.crawl_report import CrawlReport
from tracker.runtime.scheduler import build_scheduler
from tracker.services.crawl_records import record_crawl, record_fetch_failure
from tracker.services.health import (
    DEFAULT_POLICY,
    HealthPolicy,
    crawl_recorded_since,
    refresh_health,
    source_health,
)
from tracker.settings import ConfigError, Settings

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def policy_with(**changes):
    """The default policy (the settings' defaults) with `changes`."""
    return replace(DEFAULT_POLICY, **changes)


def row(
    *,
    success_ago: timedelta | None = None,
    failures: int | None = 0,
    created_ago: timedelta = 30 * 24 * H,
    error: str | None = None,
) -> SimpleNamespace:
    return SimpleNamespace(
        last_success_at=None if success_ago is None else NOW - success_ago,
        consecutive_failures=failures,
        created_at=NOW - created_ago,
        last_error=error,
    )


# (case, row, policy, healthy, reason fragments)
RULE_CASES = [
    ("fresh success, no failures", row(success_ago=H), DEFAULT_POLICY, True, []),
    ("one bad crawl is tolerated", row(success_ago=6 * H, failures=1), DEFAULT_POLICY, True, []),
    (
        "two bad crawls in a row",
        row(success_ago=6 * H, failures=2, error="1 quarantined, 0 failed"),
        DEFAULT_POLICY,
        False,
        ["2 consecutive failed or quarantined crawls (last: 1 quarantined, 0 failed)"],
    ),
    ("exactly at the deadline is fresh", row(success_ago=12 * H), DEFAULT_POLICY, True, []),
    (
        "just past the deadline is stale",
        row(success_ago=12 * H + timedelta(seconds=1)),
        DEFAULT_POLICY,
        False,
        ["stale: last successful crawl at", "older than 12 h"],
    ),
    (
        "stale and failing: both reasons",
        row(success_ago=48 * H, failures=5),
        DEFAULT_POLICY,
        False,
        ["5 consecutive", "stale:"],
    ),
    (
        "never crawled, just added: pending, not healthy",
        row(created_ago=H),
        DEFAULT_POLICY,
        False,
        ["not crawled yet: no crawl recorded since it became known at 2026-11-22T11:00:00"],
    ),
    (
        "never crawled, added long ago",
        row(created_ago=13 * H),
        DEFAULT_POLICY,
        False,
        ["no successful crawl since the source was added"],
    ),
    (
        "its first crawl failed: unhealthy at once",
        row(failures=1, created_ago=H, error="0 pages, 1 failed"),
        DEFAULT_POLICY,
        False,
        ["no successful crawl yet: its first crawl failed (last: 0 pages, 1 failed)"],
    ),
    (
        "never succeeded in two crawls",
        row(failures=2, created_ago=H),
        DEFAULT_POLICY,
        False,
        ["2 consecutive failed or quarantined crawls"],
    ),
    (
        "never succeeded, threshold 3",
        row(failures=2, created_ago=H),
        policy_with(unhealthy_after=3),
        False,
        ["no successful crawl yet: all its 2 crawls failed"],
    ),
    (
        "threshold 3: two bad crawls still healthy",
        row(success_ago=H, failures=2),
        policy_with(unhealthy_after=3),
        True,
        [],
    ),
    (
        "threshold 1: one bad crawl is enough",
        row(success_ago=H, failures=1),
        policy_with(unhealthy_after=1),
        False,
        ["1 consecutive"],
    ),
    (
        "a 2 h deadline",
        row(success_ago=3 * H),
        policy_with(freshness=2 * H),
        False,
        ["older than 2 h"],
    ),
    ("no failures recorded (NULL)", row(success_ago=H, failures=None), DEFAULT_POLICY, True, []),
]


@pytest.mark.parametrize(
    ("source", "policy", "healthy", "fragments"),
    [case[1:] for case in RULE_CASES],
    ids=[case[0] for case in RULE_CASES],
)
def test_the_rule(source, policy, healthy, fragments):
    health = source_health(source, NOW, policy)
    assert health.healthy is healthy
    assert bool(health.reasons) is (not healthy)
    text = " | ".join(health.reasons)
    for fragment in fragments:
        assert fragment in text


def test_only_a_source_with_no_crawl_at_all_is_pending():
    assert source_health(row(created_ago=H), NOW).pending
    assert source_health(row(created_ago=H), NOW).state == "pending"
    for other in (row(created_ago=13 * H), row(failures=1, created_ago=H), row(success_ago=H)):
        assert not source_health(other, NOW).pending
    assert source_health(row(failures=1, created_ago=H), NOW).state == "unhealthy"
    assert source_health(row(success_ago=H), NOW).state == "healthy"


def test_the_rule_wants_an_aware_time():
    with pytest.raises(ValueError, match="timezone-aware"):
        source_health(row(), NOW.replace(tzinfo=None))


def test_policy_from_settings_and_bad_values(tmp_path):
    settings = Settings(tmp_path, "sqlite://", freshness_hours=1.5, unhealthy_after=4)
    assert HealthPolicy.from_settings(settings) == policy_with(
        freshness=timedelta(minutes=90), unhealthy_after=4
    )
    with pytest.raises(ValueError):
        policy_with(unhealthy_after=0)
    with pytest.raises(ValueError):
        policy_with(freshness=timedelta(0))


def test_settings_read_the_health_variables():
    env = {"TRACKER_FRESHNESS_HOURS": "24", "TRACKER_UNHEALTHY_AFTER": "3"}
    settings = Settings.from_env(env)
    assert (settings.freshness_hours, settings.unhealthy_after) == (24.0, 3)
    defaults = Settings.from_env({})
    assert (defaults.freshness_hours, defaults.unhealthy_after) == (12.0, 2)
    assert Settings.from_env(settings.to_env()) == settings
    for bad in (
        {"TRACKER_FRESHNESS_HOURS": "0"},
        {"TRACKER_UNHEALTHY_AFTER": "0"},
        {"TRACKER_FRESHNESS_HOURS": "soon"},
    ):
        with pytest.raises(ConfigError):
            Settings.from_env(bad)


# --- bookkeeping -------------------------------------------------------------------------------


def source_row(session_factory) -> Source:
    with session_factory() as session:
        return session.scalars(select(Source).where(Source.slug == "untc")).one()


def crawl(session_factory, ok: bool, when: datetime, policy=DEFAULT_POLICY):
    error = None if ok else "1 quarantined, 0 failed"
    return record_crawl(session_factory, "untc", {"pages": 3}, ok, error, when, policy=policy)


@pytest.mark.db
def test_n_consecutive_bad_crawls_make_the_source_unhealthy_and_a_good_one_heals_it(
    session_factory,
):
    now = datetime.now(UTC)
    assert crawl(session_factory, True, now).healthy
    first = crawl(session_factory, False, now + H)
    assert first.healthy  # one bad crawl: still healthy (N = 2)
    assert (
        source_row(session_factory).healthy,
        source_row(session_factory).consecutive_failures,
    ) == (True, 1)
    second = crawl(session_factory, False, now + 2 * H)
    assert not second.healthy and "2 consecutive" in second.reasons[0]
    source = source_row(session_factory)
    assert (source.healthy, source.consecutive_failures) == (False, 2)
    assert source.last_error == "1 quarantined, 0 failed"
    crawl(session_factory, False, now + 3 * H)
    assert source_row(session_factory).consecutive_failures == 3
    assert crawl(session_factory, True, now + 4 * H).healthy  # recovers by itself
    source = source_row(session_factory)
    assert (source.healthy, source.consecutive_failures, source.last_error) == (True, 0, None)
    assert source.last_success_at == now + 4 * H


@pytest.mark.db
def test_the_threshold_is_a_parameter(session_factory):
    now, policy = datetime.now(UTC), policy_with(unhealthy_after=3)
    assert crawl(session_factory, True, now, policy).healthy
    for hours in (1, 2):
        assert crawl(session_factory, False, now + hours * H, policy).healthy
    assert not crawl(session_factory, False, now + 3 * H, policy).healthy


@pytest.mark.db
def test_failed_pages_inside_one_crawl_count_as_one_bad_crawl(session_factory):
    """Many fetch failures within a crawl do not make the source unhealthy by themselves; the
    crawl they belong to counts once when it ends."""
    now = datetime.now(UTC)
    crawl(session_factory, True, now)
    for n in range(5):
        record_fetch_failure(session_factory, "untc", f"https://x/{n}", "HTTP 503", now + H)
    source = source_row(session_factory)
    assert (source.healthy, source.consecutive_failures, source.last_error) == (
        True,
        0,
        "HTTP 503",
    )
    assert crawl(session_factory, False, now + H).healthy  # that crawl: failure 1 of 2
    assert source_row(session_factory).consecutive_failures == 1


@pytest.mark.db
@pytest.mark.usefixtures("fake_parser")
def test_a_page_that_fails_validation_marks_the_source_unhealthy_at_once(session_factory):
    """Unlike a fetch failure, a quarantined page (maintenance page, layout change) makes the
    source unhealthy immediately; the crawl ends bad and it stays so; the next good crawl heals."""
    from statuses import page

    from tracker.services.ingest import ingest_page

    now = datetime.now(UTC).replace(microsecond=0)
    crawl(session_factory, True, now)
    fetched = page(b"REJECT: maintenance page", "2019-01-02")
    fetched = dataclasses.replace(fetched, fetched_at=now + H)
    assert ingest_page(session_factory, fetched).outcome == "quarantined"
    source = source_row(session_factory)
    assert (source.healthy, source.last_error) == (False, "maintenance page")
    verdict = crawl(session_factory, False, now + 2 * H)  # that crawl ends with 1 quarantined
    assert not verdict.healthy and "failed validation" in verdict.reasons[0]
    assert crawl(session_factory, True, now + 3 * H).healthy


@pytest.mark.db
def test_the_periodic_job_marks_a_stale_source_and_a_good_crawl_heals_it(session_factory):
    now = datetime.now(UTC)
    crawl(session_factory, True, now)
    assert refresh_health(session_factory, now + 11 * H)["untc"].healthy
    verdict = refresh_health(session_factory, now + 13 * H)["untc"]
    assert not verdict.healthy and verdict.reasons[0].startswith("stale: ")
    source = source_row(session_factory)
    assert source.healthy is False
    assert source.last_error == verdict.reasons[0]  # an explanation where there was none
    assert crawl(session_factory, True, now + 14 * H).healthy
    assert refresh_health(session_factory, now + 15 * H)["untc"].healthy
    assert source_row(session_factory).last_error is None


@pytest.mark.db
def test_a_source_never_crawled_turns_unhealthy_after_the_deadline(session_factory):
    now = datetime.now(UTC)
    fresh = refresh_health(session_factory, now, known=("untc",))["untc"]  # row created
    assert fresh.pending and not fresh.healthy  # not healthy, but nothing has failed yet
    assert fresh.reasons == [
        f"not crawled yet: no crawl recorded since it became known at "
        f"{source_row(session_factory).created_at.isoformat()}"
    ]
    assert source_row(session_factory).last_error is None  # "not crawled yet" is no error
    with session_factory.begin() as session:  # as if the service first saw it 13 h ago
        session.execute(update(Source).values(created_at=now - 13 * H))
    verdict = refresh_health(session_factory, now, known=("untc",))["untc"]
    assert not verdict.healthy and not verdict.pending
    assert any("no successful crawl since the source was added" in r for r in verdict.reasons)
    assert source_row(session_factory).healthy is False


@pytest.mark.db
def test_health_job_uses_the_configured_deadline(settings, session_factory):
    now = datetime.now(UTC)
    crawl(session_factory, True, now - 3 * H)
    scheduler.health_job(settings)
    assert source_row(session_factory).healthy is True  # 3 h < 12 h
    scheduler.health_job(settings.replace(freshness_hours=2))
    assert source_row(session_factory).healthy is False


@pytest.mark.db
def test_crawl_recorded_since(session_factory):
    now = datetime.now(UTC)
    assert not crawl_recorded_since(session_factory, "untc", now)
    crawl(session_factory, False, now)
    assert crawl_recorded_since(session_factory, "untc", now)
    assert not crawl_recorded_since(session_factory, "untc", now + timedelta(seconds=1))


def fake_run_crawl(monkeypatch, session_factory, report: CrawlReport, records: bool):
    """Replace the crawl subprocess: optionally record the crawl as the pipeline would."""

    def run_crawl(settings, source="untc", **_):
        if records:
            record_crawl(
                session_factory,
                source,
                report.stats,
                report.returncode == 0,
                None if report.returncode == 0 else "1 quarantined, 0 failed",
                datetime.now(UTC),
            )
        return report

    monkeypatch.setattr(scheduler, "run_crawl", run_crawl)


@pytest.mark.db
def test_a_crawl_that_died_unrecorded_counts_as_a_failed_crawl(
    settings, session_factory, monkeypatch
):
    died = CrawlReport(124, error="timed out after 5s")
    fake_run_crawl(monkeypatch, session_factory, died, False)
    scheduler.crawl_job(settings, "untc")
    source = source_row(session_factory)
    assert (source.consecutive_failures, source.last_error) == (1, "timed out after 5s")
    assert source.last_crawl is not None and source.last_crawl["ok"] is False
    scheduler.crawl_job(settings, "untc")
    assert (
        source_row(session_factory).consecutive_failures,
        source_row(session_factory).healthy,
    ) == (2, False)


@pytest.mark.db
def test_a_recorded_crawl_is_not_counted_twice_and_is_logged_as_one_json_record(
    settings, session_factory, monkeypatch, caplog
):
    stats = {
        "source": "untc",
        "pages": 3,
        "accepted": 1,
        "unchanged": 1,
        "quarantined": 1,
        "rejected": 0,
        "failed": 0,
        "events": 2,
        "requests": 7,
        "not_modified": 1,
    }
    crawl(session_factory, True, datetime.now(UTC) - H)  # it worked before
    fake_run_crawl(monkeypatch, session_factory, CrawlReport(1, stats), True)
    with caplog.at_level(logging.INFO, logger="tracker.service"):
        scheduler.crawl_job(settings, "untc")
    assert source_row(session_factory).consecutive_failures == 1
    (record,) = [r for r in caplog.records if getattr(r, "event", None) == "crawl"]
    assert record.levelname == "WARNING"  # a crawl with a quarantined page
    fields = {
        k: getattr(record, k)
        for k in (
            "source",
            "ok",
            "pages",
            "accepted",
            "unchanged",
            "quarantined",
            "failed",
            "events",
            "source_healthy",
        )
    }
    assert fields == {
        "source": "untc",
        "ok": False,
        "pages": 3,
        "accepted": 1,
        "unchanged": 1,
        "quarantined": 1,
        "failed": 0,
        "events": 2,
        "source_healthy": True,
    }
    assert "3 pages, 1 accepted, 1 unchanged, 1 quarantined" in record.getMessage()


@pytest.mark.db
def test_the_scheduler_checks_health_every_15_minutes(settings):
    job = build_scheduler(settings).get_job("health")
    assert job is not None and job.trigger.interval == timedelta(minutes=15)
    assert (job.max_instances, job.coalesce) == (1, True)


# --- the first crawl, and operators' alerts with hysteresis -----------------------------------


def alerts(session_factory) -> list[tuple[str, dict]]:
    from db.models import Event

    with session_factory() as session:
        rows = session.scalars(
            select(Event)
            .where(Event.kind.in_(("source_unhealthy", "source_recovered")))
            .order_by(Event.id)
        )
        return [(e.kind, e.details) for e in rows]


@pytest.mark.db
def test_the_first_crawl_that_fails_makes_a_new_source_unhealthy_at_once(session_factory):
    now = datetime.now(UTC)
    verdict = crawl(session_factory, False, now)
    assert not verdict.healthy and not verdict.pending
    assert verdict.reasons == [
        "no successful crawl yet: its first crawl failed (last: 1 quarantined, 0 failed)"
    ]
    source = source_row(session_factory)
    assert (source.healthy, source.health_state, source.consecutive_failures) == (
        False,
        "unhealthy",
        1,
    )
    assert alerts(session_factory) == []  # the flag changes at once; the alert waits
    crawl(session_factory, False, now + 10 * timedelta(minutes=1))  # it held for two crawls
    ((kind, details),) = alerts(session_factory)
    assert kind == "source_unhealthy"
    assert details["previous"]["state"] is None  # operators had been told nothing of it yet
    assert "; never healthy since it became known at" in details["lasted"]
    assert details["held_crawls"] == 2 and details["state"] == "unhealthy"


@pytest.mark.db
def test_a_new_source_that_works_alerts_nobody(session_factory):
    now = datetime.now(UTC)
    assert refresh_health(session_factory, now, known=("untc",))["untc"].pending
    assert crawl(session_factory, True, now + H).healthy
    assert refresh_health(session_factory, now + 3 * H)["untc"].healthy
    assert alerts(session_factory) == []
    assert source_row(session_factory).alert_state == "healthy"


@pytest.mark.db
def test_a_flapping_source_alerts_nobody_but_its_flag_follows_each_crawl(session_factory):
    """Good, bad, good, bad ... (a quarantined page each other crawl: unhealthy at once), ten
    minutes apart: no state holds for two crawls or an hour, so no operators' event."""
    now = datetime.now(UTC)
    policy = policy_with(unhealthy_after=1)  # each bad crawl turns it unhealthy at once
    flags = []
    for n in range(8):
        verdict = crawl(session_factory, n % 2 == 0, now + n * timedelta(minutes=10), policy)
        flags.append(verdict.healthy)
        assert source_row(session_factory).healthy is verdict.healthy  # the API's flag: at once
    assert flags == [True, False] * 4
    # The periodic job in between (every 15 minutes) finds no state that held an hour either.
    refresh_health(session_factory, now + 75 * timedelta(minutes=1), policy)
    assert alerts(session_factory) == []


@pytest.mark.slow  # days of crawls at the service pace: over 4 s each
@pytest.mark.db
@pytest.mark.parametrize(
    ("pattern", "unhealthy_after"),
    [("bad, good", 1), ("bad, bad, good", DEFAULT_POLICY.unhealthy_after)],
)
def test_flapping_at_the_service_pace_alerts_nobody_with_the_default_hold(
    session_factory, pattern, unhealthy_after
):
    """Crawls every 6 h (the service's interval) and the health job every 15 min, three days
    long, with the default alert hold: a state that lasts a single crawl interval is never told
    (the default time hold is longer than two intervals)."""
    steps = [step == "good" for step in pattern.split(", ")]
    policy = policy_with(unhealthy_after=unhealthy_after)  # the default alert hold
    now = datetime.now(UTC).replace(microsecond=0)
    crawl(session_factory, True, now, policy)  # a healthy start, told to nobody (a new source)
    flags = []
    for n in range(1, 13):
        at = now + n * timedelta(hours=6)
        flags.append(crawl(session_factory, steps[(n - 1) % len(steps)], at, policy).healthy)
        for quarter in range(1, 24):
            refresh_health(session_factory, at + quarter * timedelta(minutes=15), policy)
    assert False in flags and True in flags  # it did flap
    assert alerts(session_factory) == []


@pytest.mark.db
def test_at_the_service_pace_a_state_that_holds_two_crawls_is_told(session_factory):
    now = datetime.now(UTC).replace(microsecond=0)
    crawl(session_factory, True, now)
    for n in (1, 2, 3):  # three bad crawls: unhealthy from the 2nd, held for two crawls at the 3rd
        crawl(session_factory, False, now + n * timedelta(hours=6))
    ((kind, details),) = alerts(session_factory)
    assert kind == "source_unhealthy" and details["held_crawls"] == 2


@pytest.mark.db
def test_an_unhealthy_state_alerts_after_two_crawls_and_says_how_long_the_previous_lasted(
    session_factory,
):
    now = datetime.now(UTC).replace(microsecond=0)
    minute = timedelta(minutes=1)
    policy = policy_with(unhealthy_after=1)
    for n in range(3):  # healthy for three crawls, 20 minutes apart
        crawl(session_factory, True, now + n * 20 * minute, policy)
    crawl(session_factory, False, now + 60 * minute, policy)  # unhealthy ...
    assert alerts(session_factory) == []
    crawl(session_factory, False, now + 65 * minute, policy)  # ... held for two crawls
    ((kind, details),) = alerts(session_factory)
    assert kind == "source_unhealthy"
    previous = details["previous"]
    assert previous == {
        "state": "healthy",
        "since": now.isoformat(),
        "until": (now + 60 * minute).isoformat(),
        "duration_seconds": 3600,
        "crawls": 3,
    }
    assert details["lasted"] == (
        f"unhealthy since {(now + 60 * minute).isoformat()} (2 crawls, 5 min); "
        f"before: healthy for 1 h 0 min since {now.isoformat()} (3 crawls)"
    )
    # It recovers: one good crawl is not enough, the second one is.
    crawl(session_factory, True, now + 70 * minute, policy)
    assert len(alerts(session_factory)) == 1 and source_row(session_factory).healthy
    crawl(session_factory, True, now + 75 * minute, policy)
    kinds = [k for k, _ in alerts(session_factory)]
    assert kinds == ["source_unhealthy", "source_recovered"]
    recovered = alerts(session_factory)[1][1]["previous"]
    assert (recovered["state"], recovered["duration_seconds"], recovered["crawls"]) == (
        "unhealthy",
        600,
        2,
    )


@pytest.mark.db
def test_the_periodic_job_alerts_once_a_state_has_held_for_the_hold_time(session_factory):
    now = datetime.now(UTC)
    minute = timedelta(minutes=1)
    policy = policy_with(unhealthy_after=1, alert_hold_crawls=5, alert_hold=30 * minute)
    crawl(session_factory, True, now, policy)
    crawl(session_factory, False, now + minute, policy)  # unhealthy: one crawl of five
    refresh_health(session_factory, now + 30 * minute, policy)  # 29 minutes: not yet
    assert alerts(session_factory) == []
    refresh_health(session_factory, now + 31 * minute, policy)  # held 30 minutes: now
    ((kind, details),) = alerts(session_factory)
    assert kind == "source_unhealthy" and details["held_crawls"] == 1
    assert details["held_seconds"] == 30 * 60
    refresh_health(session_factory, now + 60 * minute, policy)  # told once, not again
    assert len(alerts(session_factory)) == 1


@pytest.mark.db
def test_a_stopped_crawl_is_neither_a_success_nor_a_failure(session_factory):
    now = datetime.now(UTC)
    crawl(session_factory, True, now)
    record_crawl(
        session_factory,
        "untc",
        {"pages": 1},
        False,
        "stopped before its end",
        now + H,
        stopped=True,
    )
    source = source_row(session_factory)
    assert (source.consecutive_failures, source.last_success_at, source.last_error) == (
        0,
        now,
        None,
    )
    assert source.last_crawl["stopped"] == "stopped before its end"
    assert source.last_checked_at == now  # it proves nothing about the site
    assert source.health_state_crawls == 1  # not a crawl of the state either
    assert not crawl_recorded_since(session_factory, "untc", now + H)  # no outcome recorded


def test_health_alert_hold_comes_from_the_settings(settings):
    policy = HealthPolicy.from_settings(
        settings.replace(health_alert_hold_crawls=3, health_alert_hold_minutes=7.5)
    )
    assert (policy.alert_hold_crawls, policy.alert_hold) == (3, timedelta(minutes=7.5))
    with pytest.raises(ValueError):
        policy_with(alert_hold_crawls=0)
    with pytest.raises(ValueError):
        policy_with(alert_hold=timedelta(0))


@pytest.mark.db
def test_a_crawl_stopped_by_the_service_is_not_counted_as_failed(
    settings, session_factory, monkeypatch
):
    crawl(session_factory, True, datetime.now(UTC) - H)
    stopped = CrawlReport(143, {"source": "untc"}, "stopped by the service stopping", "the service")
    fake_run_crawl(monkeypatch, session_factory, stopped, False)
    scheduler.crawl_job(settings, "untc")
    assert source_row(session_factory).consecutive_failures == 0
