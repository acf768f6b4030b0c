"""`tracker rules`, `tracker confirm`, `tracker evaluate`, the rule lines of `tracker status`, and
the scheduler's evaluation jobs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from statuses import member, page, status

from tracker.cli import main
from tracker.runtime.jobs import evaluate_job
from tracker.runtime.scheduler import build_scheduler
from tracker.services.ingest import ingest_page

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]


@pytest.fixture
def env(monkeypatch, settings):
    monkeypatch.setenv("TRACKER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DATA_DIR", str(settings.data_dir))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _parties(n: int, start: date, treaty: str = "XXVI-9", title: str = "TPNW") -> object:
    members = [
        member(f"State {i}", None, consent=(start + timedelta(days=i)).isoformat())
        for i in range(n)
    ]
    return status(*members, treaty=treaty, title=title)


def test_rules_lists_the_catalogue_and_marks_tracked_treaties(env, capsys, session_factory):
    ingest_page(session_factory, page(_parties(3, date(2020, 1, 1)), "2020-02-01"))
    code, out, _ = run(capsys, "rules", "--json")
    rows = {r["treaty"]: r for r in json.loads(out)}
    assert code == 0
    assert rows["XXVI-9"]["tracked"] is True and rows["XVIII-16"]["tracked"] is False
    assert rows["XVIII-16"]["threshold"] == 40 and rows["XXVI-4"]["threshold"] is None
    text = run(capsys, "rules")[1]
    assert "XVIII-16" in text and "catalogue" in text


def test_rules_of_one_treaty_in_words_and_data(env, capsys):
    code, out, _ = run(capsys, "rules", "XXVI-8")
    assert code == 0
    assert "Needs 50 instruments of ratification, acceptance or approval." in out
    assert "90 days after" in out and "art. 22" in out
    data = json.loads(run(capsys, "rules", "xxvi-8", "--json")[1])
    assert data["counts"] == ["ratification", "acceptance", "approval"]
    assert data["origin"] == "catalogue" and data["catalogue_version"] >= 1


def test_rules_of_an_unknown_treaty_is_one_line_exit_2(env, capsys):
    code, out, err = run(capsys, "rules", "XXVI-99")
    assert (code, out) == (2, "")
    assert err.strip() == "tracker: no rule for 'XXVI-99': not in the catalogue and not tracked"


def test_an_extracted_rule_says_so_and_shows_the_text_it_read(env, capsys, session_factory):
    text = (
        "This Convention shall enter into force on the thirtieth day after the date of deposit "
        "of the twentieth instrument of ratification or accession."
    )
    value = status(
        member("Austria", "AUT", consent="2020-01-01"), treaty="XII-99", title="Uncatalogued"
    )
    from dataclasses import replace

    ingest_page(
        session_factory,
        page(
            replace(value, eif_text=text, eif_label="Not yet in force", in_force=False),
            "2020-02-01",
            url="https://treaties.example/x",
        ),
    )
    data = json.loads(run(capsys, "rules", "XII-99", "--json")[1])
    assert (data["origin"], data["threshold"], data["spec"]["delay"]) == (
        "extracted",
        20,
        {"days": 30},
    )
    assert data["source_text"] == text
    answer = json.loads(run(capsys, "status", "XII-99", "--json")[1])
    assert (answer["rule"]["origin"], answer["remaining"]) == ("extracted", 19)


def test_status_text_shows_the_rule_and_a_disagreement(env, capsys, session_factory):
    value = _parties(50, date(2020, 1, 1))
    from dataclasses import replace

    ingest_page(session_factory, page(replace(value, eif_date=date(2020, 6, 1)), "2020-07-01"))
    code, out, _ = run(capsys, "status", "XXVI-9")
    assert code == 0
    assert "qualifying instruments: 50 of 50; remaining: 0; threshold met on: 2020-02-19" in out
    assert "entry into force computed: 2020-05-19; DISAGREES with printed 2020-06-01" in out
    assert "in force from" in out


def test_confirm_records_the_condition_and_creates_the_event(env, capsys, session_factory):
    paris = _parties(55, date(2016, 4, 22), treaty="XXVII-7-d", title="Paris Agreement")
    ingest_page(session_factory, page(paris, "2016-10-01", url="https://treaties.example/paris"))
    code, out, err = run(
        capsys,
        "confirm",
        "XXVII-7-d",
        "emissions_55",
        "--met-on",
        "2016-10-05",
        "--note",
        "UNFCCC table",
    )
    assert (code, err) == (0, "")
    assert (
        out.strip()
        == "XXVII-7-d: condition emissions_55 met on 2016-10-05 (threshold_crossed, entered_into_force)"
    )
    answer = json.loads(run(capsys, "status", "XXVII-7-d", "--json")[1])
    assert answer["threshold_met_on"] == "2016-10-05"
    assert answer["entry_into_force"]["computed"] == "2016-11-04"


def test_confirm_an_unknown_condition_is_one_line_exit_2(env, capsys, session_factory):
    ingest_page(session_factory, page(_parties(3, date(2020, 1, 1)), "2020-02-01"))
    code, out, err = run(capsys, "confirm", "XXVI-9", "tonnage", "--met-on", "2020-01-01")
    assert (code, out) == (2, "")
    assert (
        err.strip() == "tracker confirm: XXVI-9 has no condition 'tonnage' (its conditions: none)"
    )


def test_evaluate_runs_the_daily_job_once(env, capsys, session_factory):
    ingest_page(session_factory, page(_parties(50, date(2020, 1, 1)), "2020-03-01"))
    code, out, _ = run(capsys, "evaluate", "--json")
    done = json.loads(out)
    # Its entry into force (2020-05-19) is past by now: recorded once, by this run or the ingest.
    assert code == 0 and done["evaluated"] == 1 and done["pending_entry_into_force"] == {}
    again = json.loads(run(capsys, "evaluate", "--json")[1])
    assert again["events"] == []


def test_build_scheduler_has_the_daily_evaluation(settings):
    scheduler = build_scheduler(settings)
    job = scheduler.get_job("evaluate")
    assert job is not None and job.max_instances == 1 and job.coalesce is True
    assert str(job.trigger) == "cron[hour='0', minute='5']"
    assert scheduler.get_job("crawl:untc") is not None
    dispatch = scheduler.get_job("dispatch")
    # A second instance (the doorbell rung while one runs) only makes the running one go round
    # again: at most two at once.
    assert dispatch is not None and dispatch.max_instances == 2
    assert str(dispatch.trigger) == "interval[0:01:00]"


def test_evaluate_job_schedules_a_run_on_the_entry_into_force_day(settings, session_factory):
    soon = datetime.now(UTC).date() - timedelta(days=80)  # 50th deposit 80 days ago: 10 days to go
    ingest_page(session_factory, page(_parties(50, soon - timedelta(days=49)), soon.isoformat()))
    scheduler = BackgroundScheduler(timezone=UTC)
    done = evaluate_job(settings, scheduler)
    day = soon + timedelta(days=90)
    assert done["pending_entry_into_force"] == {"XXVI-9": day.isoformat()}
    job = scheduler.get_job("entry-into-force:XXVI-9")
    assert job is not None
    assert job.trigger.run_date == datetime(day.year, day.month, day.day, 0, 0, 30, tzinfo=UTC)


def test_a_rules_data_is_printed_as_the_catalogue_writes_it_never_as_python_reprs():
    """`tracker rules ID` ends with the rule's spec in TOML: it reads back to the same spec (so
    an operator can copy it into a catalogue), with no `{'months': 3}` or `['ratification', ...]`."""
    import tomllib

    from tracker.catalogue import catalogue
    from tracker.cli.render import rule_text

    for slug, treaty in (("untc", "XXVII-7-d"), ("wipo", "6"), ("wipo", "843")):
        rule = catalogue(slug).rules[treaty]
        text = rule_text(
            {
                "treaty": treaty,
                "title": rule.title,
                "words": rule.words(),
                "origin": rule.origin,
                "citation": rule.citation,
                "conditions": [],
                "spec": rule.to_spec(),
            }
        )
        written = text.split("as the catalogue writes it (tracker/catalogue/<source>.toml):\n")[1]
        assert "{'" not in written and "['" not in written and "=None" not in written
        assert tomllib.loads(written.replace("\n  ", "\n").lstrip()) == rule.to_spec()
