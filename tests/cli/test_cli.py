"""The command line in-process: output, exit statuses, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from statuses import at, body_of, member, status

from db.migrate import head
from tracker.cli import main

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]

AUT = member("Austria", "AUT", sig="2017-09-20", consent="2018-05-08")
DZA = member("Algeria", "DZA", sig="2017-09-20")
OLD = status(DZA, as_at=at("2018-01-15", 0))
NEW = status(
    AUT, member("Algeria", "DZA", sig="2017-09-20", consent="2019-03-01"), as_at=at("2026-02-03", 0)
)


@pytest.fixture
def env(monkeypatch, settings):
    monkeypatch.setenv("TRACKER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("TRACKER_UNTC_BASE_URL", raising=False)


@pytest.fixture
def files(tmp_path):
    def write(name: str, content: bytes) -> str:
        path = tmp_path / name
        path.write_bytes(content)
        return str(path)

    return write


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


def test_db_upgrade(env, capsys):
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and out.startswith(f"database at revision {head()}")


def test_ingest_orders_files_by_their_printed_date(env, capsys, files):
    new, old = files("new.html", body_of(NEW)), files("old.xml", body_of(OLD))
    code, out, _ = run(capsys, "ingest", "--source", "untc", new, old)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("accepted") and lines[0].endswith(f"{old}  (0 events)")
    assert lines[1].startswith("accepted    XXVI-9")
    # old.xml, then new.html eight years later: the history passes to the HTML, and says so
    assert "(3 events; the history passes from xml to html: its xml pages" in lines[1]
    code, out, _ = run(capsys, "history", "XXVI-9", "--json")
    history = json.loads(out)
    assert [s["observed_at"][:10] for s in history["snapshots"]] == ["2018-01-15", "2026-02-03"]
    assert sorted(e["kind"] for e in history["events"]) == ["consent", "consent", "signature"]


def test_ingest_again_is_unchanged(env, capsys, files):
    path = files("new.html", body_of(NEW))
    assert run(capsys, "ingest", "--source", "untc", path)[0] == 0
    code, out, _ = run(capsys, "ingest", "--source", "untc", path)
    assert code == 0 and out.startswith("unchanged   XXVI-9")


def test_ingest_reports_rejections_exits_1_and_keeps_the_accepted(env, capsys, files):
    good = files("good.html", body_of(NEW))
    bad = files("bad.html", b"REJECT: derived parties 3 != printed 4")
    code, out, _ = run(capsys, "ingest", "--source", "untc", bad, good)
    assert code == 1
    assert f"quarantined {bad}: derived parties 3 != printed 4" in out.splitlines()
    code, out, _ = run(capsys, "treaties", "--json")
    assert [t["treaty"] for t in json.loads(out)] == ["XXVI-9"]


def test_ingest_of_an_older_archive_after_a_newer_one_is_rejected(env, capsys, files):
    assert run(capsys, "ingest", "--source", "untc", files("new.html", body_of(NEW)))[0] == 0
    code, out, _ = run(capsys, "ingest", "--source", "untc", files("old.xml", body_of(OLD)))
    assert code == 1 and "rejected" in out and "older than the latest snapshot" in out


def test_observed_at_overrides_the_printed_date(env, capsys, files):
    path = files("new.html", body_of(NEW))
    assert run(capsys, "ingest", "--source", "untc", "--observed-at", "2026-03-01", path)[0] == 0
    status_json = json.loads(run(capsys, "status", "XXVI-9", "--json")[1])
    assert status_json["observed_at"] == "2026-03-01T00:00:00+00:00"


def test_missing_file_exits_2_and_ingests_nothing(env, capsys, files):
    good = files("good.html", body_of(NEW))
    code, _, err = run(capsys, "ingest", "--source", "untc", good, "/no/such/file.html")
    assert code == 2 and one_error_line(err) == "no such file: /no/such/file.html"
    assert json.loads(run(capsys, "treaties", "--json")[1]) == []


def test_status_json_and_table(env, capsys, files):
    run(capsys, "ingest", "--source", "untc", files("new.html", body_of(NEW)))
    code, out, _ = run(capsys, "status", "XXVI-9", "--json")
    answer = json.loads(out)
    assert code == 0
    assert {
        "treaty",
        "title",
        "signatories",
        "parties",
        "published",
        "in_force",
        "as_of",
        "observed_at",
        "source_url",
        "participants",
    } <= answer.keys()
    assert (answer["signatories"], answer["parties"]) == (2, 2)
    code, out, _ = run(capsys, "status", "XXVI-9", "--as-of", "2018-12-31")
    assert code == 0 and "as of 2018-12-31: 2 signatories, 1 parties" in out
    assert "Austria" in out and "2018-05-08 ratification" in out


def test_history_and_treaties_tables(env, capsys, files):
    assert "no treaties yet" in run(capsys, "treaties")[1]
    run(
        capsys,
        "ingest",
        "--source",
        "untc",
        files("old.xml", body_of(OLD)),
        files("new.html", body_of(NEW)),
    )
    out = run(capsys, "treaties")[1]
    assert "XXVI-9" in out.splitlines()[2] and "Treaty on the Prohibition" in out
    out = run(capsys, "history", "XXVI-9")[1]
    assert "snapshots (2)" in out and "events (3)" in out and "consent" in out


def test_history_since_keeps_what_was_observed_from_then_on(env, capsys, files):
    for day, name, value in (("2020-01-01", "old.xml", OLD), ("2026-03-01", "new.html", NEW)):
        run(capsys, "ingest", "--source", "untc", "--observed-at", day, files(name, body_of(value)))
    whole = json.loads(run(capsys, "history", "XXVI-9", "--json")[1])
    assert len(whole["snapshots"]) == 2 and whole["since"] is None
    later = json.loads(run(capsys, "history", "XXVI-9", "--since", "2026-03-01", "--json")[1])
    assert [s["observed_at"][:10] for s in later["snapshots"]] == ["2026-03-01"]
    assert later["events"] and all(e["observed_at"] >= "2026-03-01" for e in later["events"])
    assert later["since"] == "2026-03-01T00:00:00+00:00"  # a date: from its start, UTC
    after = json.loads(
        run(capsys, "history", "XXVI-9", "--since", "2026-03-01T00:00:01Z", "--json")[1]
    )
    assert after["snapshots"] == [] and after["events"] == []
    assert "snapshots (1)" in run(capsys, "history", "XXVI-9", "--since", "2026-02-01")[1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("status", "XXVI-99"), "tracker: unknown treaty 'XXVI-99'"),
        (("history", "XXVI-99"), "tracker: unknown treaty 'XXVI-99'"),
        (("history", "XXVI-9", "--since", "2026-03-01T10:00"), "has no time zone"),
        (("status", "XXVI-9", "--as-of", "2018-13-01"), "bad date '2018-13-01'"),
        (("ingest", "--source", "untc", "--observed-at", "yesterday", "f"), "bad date 'yesterday'"),
        (("ingest", "--source", "nosuch", "f"), "invalid choice: 'nosuch'"),
        (("ingest", "f"), "--source is required with files"),
        (("ingest",), "give FILE... (with --source), or --spool"),
        (("ingest", "--spool", "f"), "--spool takes no files"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
    ],
)
def test_user_errors_exit_2_with_one_line(env, capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in one_error_line(err)


def test_bad_configuration_exits_2_with_one_line(env, capsys, monkeypatch):
    monkeypatch.setenv("TRACKER_UNTC_BASE_URL", "ftp://example")
    code, _, err = run(capsys, "treaties")
    assert code == 2 and "TRACKER_UNTC_BASE_URL" in one_error_line(err)


def test_bad_database_url_exits_2_with_one_line(env, capsys, monkeypatch):
    monkeypatch.setenv("TRACKER_DATABASE_URL", "nosuchdb://nowhere/x")
    code, _, err = run(capsys, "treaties")
    assert code == 2 and one_error_line(err).startswith("tracker: database:")


def test_every_command_creates_and_upgrades_the_default_database(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    monkeypatch.setenv("TRACKER_DATA_DIR", str(tmp_path / "fresh"))
    assert run(capsys, "treaties", "--json") == (0, "[]\n", "")
    assert (tmp_path / "fresh" / "tracker.sqlite3").is_file()


@dataclass
class FakeReport:
    returncode: int
    stats: dict = field(default_factory=lambda: {"recorded": True})  # the crawl recorded itself
    error: str | None = None
    stopped: str | None = None

    def summary(self) -> str:
        return "crawl untc: 2 pages"


def test_crawl_calls_run_crawl_with_the_options(env, capsys, monkeypatch):
    import tracker.runtime.crawl_runner

    calls = []
    monkeypatch.setattr(
        tracker.runtime.crawl_runner,
        "run_crawl",
        lambda settings, **kw: calls.append((settings, kw)) or FakeReport(1),
    )
    code, out, _ = run(
        capsys,
        "crawl",
        "--treaty",
        "XXVI-9",
        "--treaty",
        "IV-4",
        "--base-url",
        "http://127.0.0.1:1",
    )
    assert (code, out) == (1, "crawl untc: 2 pages\n")
    # The ids name their source (UNTC's are unprefixed), so --base-url needs no --source.
    assert calls[0][1] == {
        "treaties": ["XXVI-9", "IV-4"],
        "base_url": "http://127.0.0.1:1",
        "source": "untc",
    }


def test_crawl_takes_public_ids_and_the_sources_own(env, capsys, monkeypatch):
    import tracker.runtime.crawl_runner

    calls = []
    monkeypatch.setattr(
        tracker.runtime.crawl_runner,
        "run_crawl",
        lambda settings, **kw: calls.append(kw) or FakeReport(0),
    )
    assert run(capsys, "crawl", "--treaty", "WIPO-843", "--treaty", "wipo-15")[0] == 0
    assert run(capsys, "crawl", "--source", "wipo", "--treaty", "843")[0] == 0
    assert [c["source"] for c in calls] == ["wipo", "wipo"]
    assert [c["treaties"] for c in calls] == [["843", "15"], ["843"]]
    code, _, err = run(capsys, "crawl", "--treaty", "WIPO-843", "--treaty", "XXVI-9")
    assert code == 2 and "--treaty ids of several sources (untc, wipo)" in err
    code, _, err = run(capsys, "crawl", "--source", "wipo", "--treaty", "XXVI-9")
    assert code == 2 and "not a WIPO Lex treaty id: 'XXVI-9'" in err
    code, _, err = run(capsys, "crawl", "--base-url", "http://127.0.0.1:1")
    assert code == 2 and "--base-url needs --source (one of untc, wipo)" in err
    assert len(calls) == 2


def test_run_calls_run_service(env, capsys, monkeypatch):
    import tracker.runtime.process

    seen = {}
    monkeypatch.setattr(
        tracker.runtime.process,
        "run_service",
        lambda settings, host, port: seen.update(host=host, port=port) or 0,
    )
    assert run(capsys, "run", "--port", "9999")[0] == 0
    assert seen == {"host": "127.0.0.1", "port": 9999}


@pytest.mark.slow  # a `tracker` subprocess
def test_subprocess_unknown_treaty_is_one_line_without_traceback(cli_env):
    done = subprocess.run(
        [sys.executable, "-m", "tracker.cli", "status", "XXVI-99"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert (
        one_error_line(done.stderr) == "tracker: unknown treaty 'XXVI-99' (see `tracker treaties`)"
    )


def test_sources_lists_each_known_source_even_before_its_first_crawl(env, capsys):
    code, out, _ = run(capsys, "sources", "--json")
    assert code == 0
    untc, wipo = json.loads(out)
    assert wipo["slug"] == "wipo" and wipo["state"] == "pending"
    assert untc["slug"] == "untc" and untc["healthy"] is False and untc["state"] == "pending"
    assert untc["reasons"][0].startswith("not crawled yet")
    for key in ("last_success_at", "last_checked_at", "last_error"):
        assert untc[key] is None
    assert untc["consecutive_failures"] == 0
    code, out, _ = run(capsys, "sources")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "source",
        "healthy",
        "last",
        "success",
        "last",
        "checked",
        "failures",
        "last",
        "error",
    ]
    assert lines[2].split()[:4] == ["untc", "no", "(pending)", "never"]
    assert lines[3].split()[:4] == ["wipo", "no", "(pending)", "never"]
    assert lines[4].startswith("untc: not crawled yet")


def test_sources_after_crawls(env, capsys, settings):
    from db.engine import make_engine, make_session_factory
    from tracker.services.crawl_records import record_crawl

    now = datetime.now(UTC).replace(microsecond=0)
    good, bad = now - timedelta(hours=20), now - timedelta(hours=1)
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    record_crawl(sessions, "untc", {"pages": 3}, True, None, good)
    record_crawl(sessions, "untc", {"pages": 0}, False, "0 pages, 1 failed", bad)
    engine.dispose()
    _code, out, _ = run(capsys, "sources", "--json")
    untc, wipo = json.loads(out)
    assert wipo["slug"] == "wipo" and wipo["last_checked_at"] is None
    assert untc == {
        **untc,
        "slug": "untc",
        "last_success_at": good.isoformat(),
        "last_checked_at": bad.isoformat(),
        "consecutive_failures": 1,
        "last_error": "0 pages, 1 failed",
        "alerted_state": "healthy",
    }
    # Judged now (the last success is 20 h old): stale, with the reason.
    assert untc["healthy"] is False and any(r.startswith("stale:") for r in untc["reasons"])
    _code, out, _ = run(capsys, "sources")
    assert "0 pages, 1 failed" in out.splitlines()[2] and "untc: stale:" in out
