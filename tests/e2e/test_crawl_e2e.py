"""End to end: a local server serves recorded pages, `tracker crawl` fetches them, `tracker status`
answers. Real subprocesses, a real HTTP server on 127.0.0.1 and a real database."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest
from support.untc_render import Page, Row, render

from tracker.devtools.mirror import build_mirror, serve
from tracker.sources.untc.mirror import RecordedPage, untc_site

pytestmark = [pytest.mark.db, pytest.mark.slow]

TREATY = "XXVI-9"


def tpnw(*extra: Row) -> Page:
    rows = [
        Row("Algeria", signature=date(2017, 9, 20)),
        Row("Austria", signature=date(2017, 9, 20), consent=date(2018, 5, 8)),
        Row("Cook Islands", consent=date(2018, 9, 4), letter="a"),
        *extra,
    ]
    return Page(TREATY, "Treaty on the Prohibition of Nuclear Weapons", rows)


MAINTENANCE = (
    b"<html><body><h1>Site under maintenance</h1><p>Please come back later.</p></body></html>"
)


def tracker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracker.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def crawl_env(cli_env, tmp_path):
    return {
        **cli_env,
        "TRACKER_DATA_DIR": str(tmp_path / "data"),
        "TRACKER_DOWNLOAD_DELAY": "0",
        "TRACKER_RETRY_TIMES": "0",
        "TRACKER_LOG_LEVEL": "WARNING",
    }


def test_crawl_then_status_then_unchanged_then_change(crawl_env, tmp_path):
    mirror_dir = tmp_path / "mirror"
    pages = [
        RecordedPage(TREATY, render(tpnw()), "TPNW"),
        RecordedPage("IV-4", MAINTENANCE, "ICCPR"),
    ]
    with serve(build_mirror(mirror_dir, untc_site(pages))) as server:
        sent: list[dict[str, str]] = []
        server.respond("*", lambda handler: sent.append(dict(handler.headers)) or False)
        first = tracker(crawl_env, "crawl", "--source", "untc", "--base-url", server.base_url)
        # Links were followed from the index and chapters: no request said where it came from.
        assert len(sent) >= 5 and not any("Referer" in h for h in sent), sent
        assert "Referer" not in first.stderr  # nor a warning that no middleware sets one
        server.respond("*", None)
        # Every page is accounted for: the index, chapters 4 and 26, and the 2 status pages.
        line = (
            "5 pages, 4 accepted, 0 unchanged, 1 quarantined, 0 failed, 0 events (2 status pages;"
        )
        assert line in first.stdout, first.stdout + first.stderr
        assert first.returncode != 0  # a quarantined page is a problem worth a non-zero exit
        # The catalogue was discovered from the index and chapter pages.
        assert any("ParticipationStatus.aspx" in r for r in server.requests)
        assert any("Treaties.aspx?id=26" in r for r in server.requests)

        status = json.loads(tracker(crawl_env, "status", TREATY, "--json").stdout)
        assert status["treaty"] == TREATY and status["signatories"] == 2 and status["parties"] == 2
        assert status["source_url"].startswith(server.base_url)
        by_name = {p["name"]: p for p in status["participants"]}
        consent = by_name["Cook Islands"]["consent"]
        assert (consent["kind"], consent["date"]) == ("accession", "2018-09-04")
        assert by_name["Austria"]["iso3"] == "AUT"

        # The maintenance page became no treaty and no snapshot.
        missing = tracker(crawl_env, "status", "IV-4", "--json")
        assert missing.returncode == 2 and missing.stderr.count("\n") == 1

        # Nothing changed: no new snapshot, and the page cost a conditional request (304).
        server.requests.clear()
        again = tracker(crawl_env, "crawl", "--treaty", TREATY, "--base-url", server.base_url)
        assert "1 page, 0 accepted, 1 unchanged, 0 quarantined, 0 failed" in again.stdout, (
            again.stdout + again.stderr
        )
        assert again.returncode == 0
        assert any("ViewDetails" in r and "304" in r for r in server.requests), server.requests
        history = json.loads(tracker(crawl_env, "history", TREATY, "--json").stdout)
        assert len(history["snapshots"]) == 1 and history["events"] == []

    # The page changes: Algeria ratifies. One consent event, with its legal date.
    changed = tpnw()
    changed.rows[0] = Row("Algeria", signature=date(2017, 9, 20), consent=date(2026, 3, 2))
    with serve(
        build_mirror(tmp_path / "mirror2", untc_site([RecordedPage(TREATY, render(changed))]))
    ) as server:
        third = tracker(crawl_env, "crawl", "--treaty", TREATY, "--base-url", server.base_url)
    assert "1 accepted" in third.stdout and third.returncode == 0, third.stdout + third.stderr
    history = json.loads(tracker(crawl_env, "history", TREATY, "--json").stdout)
    assert len(history["snapshots"]) == 2
    assert [(e["kind"], e["participant"], e["legal_date"]) for e in history["events"]] == [
        ("consent", "Algeria", "2026-03-02")
    ]
    status = json.loads(tracker(crawl_env, "status", TREATY, "--json").stdout)
    assert status["parties"] == 3
    before = json.loads(
        tracker(crawl_env, "status", TREATY, "--as-of", "2026-03-01", "--json").stdout
    )
    assert before["parties"] == 2


def test_server_errors_are_failures_not_unchanged(crawl_env, tmp_path):
    """A site that is down is a failed fetch: the source turns unhealthy, nothing is stored."""
    with serve(build_mirror(tmp_path / "m", untc_site([]))) as server:  # every status page is a 404
        result = tracker(crawl_env, "crawl", "--treaty", TREATY, "--base-url", server.base_url)
    assert result.returncode != 0
    assert "1 page, 0 accepted, 0 unchanged, 0 quarantined, 1 failed" in result.stdout, (
        result.stdout + result.stderr
    )
    assert tracker(crawl_env, "treaties", "--json").stdout.strip() in ("[]", "")


def test_unreachable_catalogue_is_a_failure(crawl_env, tmp_path):
    """Nothing listening at the base URL: the crawl fails loudly instead of finding 0 treaties."""
    result = tracker(crawl_env, "crawl", "--source", "untc", "--base-url", "http://127.0.0.1:9")
    assert result.returncode != 0
    line = "1 page, 0 accepted, 0 unchanged, 0 quarantined, 1 failed, 0 events (0 status pages;"
    assert line in result.stdout, result.stdout + result.stderr
    assert "no status pages" in result.stdout


@pytest.mark.parametrize(("hold", "alerted"), [("1", ["source_unhealthy"]), ("3", [])])
def test_the_crawl_applies_the_configured_health_policy(
    crawl_env, cli_env, tmp_path, hold, alerted
):
    """The health settings reach the crawl itself (not only the service's periodic job): with
    TRACKER_UNHEALTHY_AFTER=1 one failed crawl after a good one makes the source unhealthy
    (the default needs two), and with TRACKER_HEALTH_ALERT_HOLD_CRAWLS=1 that alerts operators;
    with a hold of 3 it does not yet (the hold in minutes is far away)."""
    from sqlalchemy import select

    from db.engine import make_engine, make_session_factory
    from db.models import Event

    env = {**crawl_env, "TRACKER_UNHEALTHY_AFTER": "1", "TRACKER_HEALTH_ALERT_HOLD_CRAWLS": hold}
    with serve(
        build_mirror(tmp_path / "m", untc_site([RecordedPage(TREATY, render(tpnw()))]))
    ) as server:
        good = tracker(env, "crawl", "--treaty", TREATY, "--base-url", server.base_url)
        assert good.returncode == 0, good.stdout + good.stderr
    bad = tracker(env, "crawl", "--treaty", TREATY, "--base-url", "http://127.0.0.1:9")
    assert bad.returncode == 1 and "1 failed" in bad.stdout, bad.stdout + bad.stderr
    engine = make_engine(cli_env["TRACKER_DATABASE_URL"])
    try:
        with make_session_factory(engine)() as session:
            kinds = session.scalars(
                select(Event.kind).where(Event.kind.in_(("source_unhealthy", "source_recovered")))
            ).all()
    finally:
        engine.dispose()
    assert kinds == alerted
