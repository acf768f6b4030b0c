"""`status --as-of D` from the whole history and `--known-at T`, over rendered ViewDetails pages
ingested through the real parser: a revoked ratification, a re-accession, and the same answers
whatever order the pages were ingested in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from statuses import at as noon_of
from statuses import member, page
from statuses import status as built
from support.climate_history import status_stamp
from support.untc_render import Page, Row, render

from db.models import Event
from tracker.catalogue import catalogue
from tracker.cli import main
from tracker.domain.models import Column, Footnote
from tracker.domain.rule_spec import rule_from_spec
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.services.read.common import NotFound
from tracker.services.read.status import treaty_status
from tracker.web.app import create_app

pytestmark = pytest.mark.db

D = date.fromisoformat
URL = "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no={}&chapter=26&clang=_en"


def noon(day: str) -> datetime:
    return datetime.combine(D(day), datetime.min.time(), UTC).replace(hour=12)


def ctbt(printed: str, russia_ratified: bool) -> bytes:
    rows = [
        Row("France", D("1996-09-24"), D("1998-04-06")),
        Row("Russian Federation", D("1996-09-24"), D("2000-06-30") if russia_ratified else None),
        Row("Japan", D("1996-09-24"), D("1997-07-08")),
    ]
    page = Page("XXVI-4", "Comprehensive Nuclear-Test-Ban Treaty", rows)
    page.status_as_at = status_stamp(noon(printed))
    return render(page)


def ingest(session_factory, treaty: str, body: bytes, observed: str):
    page = FetchedPage(
        source="untc",
        url=URL.format(treaty),
        body=body,
        fetched_at=noon(observed),
        expected_treaty=treaty,
    )
    result = ingest_page(session_factory, page)
    assert result.outcome == "accepted", result
    return result


@pytest.fixture
def ctbt_history(session_factory):
    ingest(session_factory, "XXVI-4", ctbt("2018-01-15", True), "2018-01-15")
    ingest(session_factory, "XXVI-4", ctbt("2026-02-03", False), "2026-02-03")
    return session_factory


def people(answer):
    return {p["name"]: p for p in answer["participants"]}


def ask(session_factory, **kw):
    with session_factory() as session:
        return treaty_status(session, "XXVI-4", today=D("2026-11-01"), **kw)


def test_as_of_before_the_revocation_counts_the_ratification_the_latest_page_lost(ctbt_history):
    answer = ask(ctbt_history, as_of=D("2010-01-01"))
    russia = people(answer)["Russian Federation"]
    assert russia["consent"] == {"kind": "ratification", "date": "2000-06-30"}
    assert russia["standing"] == "party" and russia["withdrawn"] is False
    assert answer["parties"] == 3 and answer["standing_not_known"] == 0
    assert not any("Russian" in w for w in answer["warnings"])
    assert answer["evidence"]["snapshots"] == 2
    # The rule is fed the derived status: Russia is no longer missing from the Annex 2 group.
    missing = {m for g in answer["groups"] for m in g["missing"]}
    assert "RUS" not in missing and "IND" in missing


def test_as_of_inside_the_window_warns_and_does_not_count(ctbt_history):
    answer = ask(ctbt_history, as_of=D("2024-01-01"))
    russia = people(answer)["Russian Federation"]
    assert russia["standing"] == "unknown" and answer["parties"] == 2
    assert answer["signatories"] == 3 and answer["standing_not_known"] == 1
    assert (
        "Russian Federation: ratification of 2000-06-30 ended between 2018-01-15 and 2026-02-03; "
        "its standing on 2024-01-01 is not known"
    ) in answer["warnings"]
    acts = {(a["column"], a["date"]): a for a in russia["history"]}
    gone = acts[("consent", "2000-06-30")]
    assert gone["ended_by"] == "revoked" and gone["first_gone"].startswith("2026-02-03")
    assert gone["ending"]["basis"] == "history" and gone["confirmed"] is False


def test_latest_status_is_unchanged_by_the_history(ctbt_history):
    now = ask(ctbt_history)
    assert people(now)["Russian Federation"]["consent"] is None and now["parties"] == 2
    assert "known_at" not in now and "standing" not in people(now)["France"]


def test_the_absence_is_a_suspicious_disappearance_not_a_revocation(ctbt_history):
    with ctbt_history() as session:
        events = [(e.kind, e.state, e.participant_name) for e in session.scalars(select(Event))]
    assert ("action_disappeared", "suspicious", "Russian Federation") in events
    assert not any(kind in ("revocation", "correction") for kind, _, _ in events)


def test_known_at_before_the_2026_page_says_ratified(ctbt_history):
    answer = ask(ctbt_history, known_at=datetime(2020, 1, 1, tzinfo=UTC))
    assert answer["known_at"] == "2020-01-01T00:00:00+00:00"
    assert answer["observed_at"] == noon("2018-01-15").isoformat()
    russia = people(answer)["Russian Federation"]
    assert russia["consent"] == {"kind": "ratification", "date": "2000-06-30"}
    assert answer["parties"] == 3
    # Combined with an as-of date after it: nothing then said the ratification had ended.
    later = ask(ctbt_history, known_at=datetime(2020, 1, 1, tzinfo=UTC), as_of=D("2024-01-01"))
    assert people(later)["Russian Federation"]["standing"] == "party"
    assert later["parties"] == 3 and later["evidence"]["snapshots"] == 1
    assert later["snapshot_id"] == answer["snapshot_id"]


def test_known_at_before_any_snapshot_is_not_found_naming_it(ctbt_history):
    with pytest.raises(NotFound, match=r"no snapshot observed by 2017-06-30T23:59:59"):
        ask(ctbt_history, known_at=datetime(2017, 6, 30, 23, 59, 59, tzinfo=UTC))


def _comparable(answer):
    def strip(p):
        kept = {k: v for k, v in p.items() if k != "first_observed_at"}
        kept["history"] = [
            {k: v for k, v in a.items() if k != "first_observed"} for a in p["history"]
        ]
        return kept

    return (
        answer["signatories"],
        answer["parties"],
        answer["warnings"],
        answer["qualifying_instruments"],
        sorted((strip(p) for p in answer["participants"]), key=lambda p: p["name"]),
    )


@pytest.mark.slow  # the CTBT history ingested twice: over 4 s
def test_the_answers_do_not_depend_on_the_ingest_order(ctbt_history, db_engine, tmp_path):
    from db.engine import make_engine, make_session_factory
    from db.migrate import upgrade

    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    upgrade(other_url)
    engine = make_engine(other_url)
    other = make_session_factory(engine)
    # The 2026 page first, then the 2018 page as an archive loaded later (printed earlier).
    ingest(other, "XXVI-4", ctbt("2026-02-03", False), "2026-02-03")
    ingest(other, "XXVI-4", ctbt("2018-01-15", True), "2026-03-01")
    try:
        for day in ("2000-01-01", "2010-01-01", "2018-01-15", "2024-01-01", "2026-06-01"):
            first = ask(ctbt_history, as_of=D(day))
            second = ask(other, as_of=D(day))
            assert _comparable(first) == _comparable(second), day
        assert people(ask(other, as_of=D("2010-01-01")))["Russian Federation"]["standing"] == (
            "party"
        )
    finally:
        engine.dispose()


# ---- a re-accession (Paris Agreement, the United States) -----------------------------------


def paris(printed: str, usa: Row) -> bytes:
    rows = [Row("France", D("2016-04-22"), D("2016-10-05"), letter="AA"), usa]
    page = Page(
        "XXVII-7-d",
        "Paris Agreement",
        rows,
        consent_header="Ratification, Acceptance(A), Approval(AA), Accession(a)",
        status_as_at=status_stamp(noon(printed)),
    )
    return render(page)


USA_2016 = Row("United States of America", D("2016-04-22"), D("2016-09-03"), letter="A")
USA_2021 = Row("United States of America", D("2016-04-22"), D("2021-01-20"), letter="A")


@pytest.fixture
def paris_history(session_factory):
    for printed, usa in (("2018-01-10", USA_2016), ("2020-11-18", USA_2016)):
        body = paris(printed, usa)
        if printed == "2020-11-18":  # a change elsewhere so the page makes a snapshot
            body = body.replace(b"5 Oct", b"6 Oct")
        ingest_page(
            session_factory,
            FetchedPage("untc", URL.format("XXVII-7-d"), body, noon(printed), None, "XXVII-7-d"),
        )
    ingest(session_factory, "XXVII-7-d", paris("2021-01-21", USA_2021), "2021-01-21")
    return session_factory


def test_reaccession_is_its_own_event_and_the_old_act_ended(paris_history):
    with paris_history() as session:
        events = [
            (e.kind, e.participant_name, e.legal_date, e.state, e.details)
            for e in session.scalars(select(Event).order_by(Event.id))
        ]
    usa = [e for e in events if e[1] == "United States of America"]
    assert [(k, d, s) for k, _, d, s, _ in usa] == [("reaccession", D("2021-01-20"), "final")]
    details = usa[0][4]
    assert details["before"]["date"] == "2016-09-03" and details["after"]["date"] == "2021-01-20"
    assert details["ended"]["date"] == "2016-09-03"


def test_api_lists_reaccession_events_by_kind(paris_history, settings):
    with TestClient(create_app(paris_history, settings)) as client:
        found = client.get("/api/events?kind=reaccession")
        assert found.status_code == 200, found.text
        assert [(e["participant"], e["legal_date"]) for e in found.json()] == [
            ("United States of America", "2021-01-20")
        ]
        assert client.get("/api/events?kind=revocation").json() == []
        feed = client.get("/feeds/events.atom")
        assert feed.status_code == 200 and "reaccession" in feed.text


def test_as_of_answers_across_the_reaccession(paris_history):
    def usa(day: str):
        with paris_history() as session:
            answer = treaty_status(session, "XXVII-7-d", as_of=D(day), today=D("2026-11-01"))
        return answer, people(answer)["United States of America"]

    answer, before = usa("2018-01-01")
    assert before["standing"] == "party" and before["consent"]["date"] == "2016-09-03"
    assert answer["parties"] == 2
    answer, gap = usa("2020-12-15")
    assert gap["standing"] == "unknown" and answer["parties"] == 1
    assert any("acceptance of 2016-09-03 ended between 2020-11-18 and 2021-01-20" in w
               for w in answer["warnings"])  # fmt: skip
    answer, back = usa("2021-02-01")
    assert back["standing"] == "party" and back["consent"] == {
        "kind": "acceptance",
        "date": "2021-01-20",
    }
    assert answer["parties"] == 2, answer["warnings"]
    assert not any("standing" in w for w in answer["warnings"]), answer["warnings"]
    # France's 2016-10-05 printed 2016-10-06 on one page, then 2016-10-05 again: a rewrite.
    france = people(answer)["France"]
    assert france["standing"] == "party" and france["consent"]["date"] == "2016-10-05"
    assert [a["date"] for a in france["history"]] == ["2016-04-22", "2016-10-05"]


# ---- the API and the command line ----------------------------------------------------------


def test_api_known_at_and_as_of(ctbt_history, settings):
    with TestClient(create_app(ctbt_history, settings)) as client:
        got = client.get("/api/treaties/XXVI-4?known_at=2020-01-01&as_of=2024-01-01")
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["known_at"].startswith("2020-01-01T23:59:59")
        assert people(body)["Russian Federation"]["standing"] == "party"
        assert client.get("/api/treaties/XXVI-4?as_of=2024-01-01").json()["standing_not_known"] == 1
        missing = client.get("/api/treaties/XXVI-4?known_at=2017-01-01")
        assert missing.status_code == 404 and "2017-01-01T23:59:59" in missing.json()["detail"]
        for bad in ("2020-01-01T10:00", "yesterday", "2020-02-30"):
            refused = client.get(f"/api/treaties/XXVI-4?known_at={bad}")
            assert refused.status_code == 422, (bad, refused.text)
            assert "known_at" in refused.text
        parties = client.get(
            "/api/treaties/XXVI-4/participants?as_of=2024-01-01&filter=parties"
        ).json()
        assert sorted(p["name"] for p in parties) == ["France", "Japan"]
        page = client.get("/treaties/XXVI-4?as_of=2024-01-01")
        assert page.status_code == 200 and "standing not known" in page.text
        assert "ended between 2018-01-15 and 2026-02-03" in page.text
        assert "standing not known" not in client.get("/treaties/XXVI-4?as_of=2010-01-01").text


def test_cli_known_at(ctbt_history, settings, monkeypatch, capsys):
    import json

    monkeypatch.setenv("TRACKER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DATA_DIR", str(settings.data_dir))
    assert main(["status", "XXVI-4", "--known-at", "2020-01-01", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["known_at"].startswith("2020-01-01T23:59:59") and out["parties"] == 3
    assert main(["status", "XXVI-4", "--as-of", "2024-01-01"]) == 0
    text = capsys.readouterr().out
    assert "standing not known" in text and "ended between 2018-01-15 and 2026-02-03" in text
    assert main(["status", "XXVI-4", "--known-at", "2017-01-01"]) != 0
    err = capsys.readouterr().err
    assert "no snapshot observed by 2017-01-01T23:59:59" in err and err.count("\n") == 1
    assert main(["status", "XXVI-4", "--known-at", "2020-01-01T10:00"]) == 2
    assert "no time zone" in capsys.readouterr().err


# ---- review fixes: a signature's end, the withdrawal clause, a late-printed re-accession ----

T = "XXVI-9"


def _put(session_factory, value, day: str) -> None:
    result = ingest_page(session_factory, page(value, day))
    assert result.outcome == "accepted", result


def _status_of(session_factory, **kw):
    with session_factory() as session:
        return treaty_status(session, T, today=D("2026-11-01"), **kw)


@pytest.fixture
def three_needed(monkeypatch):
    rule = rule_from_spec(T, {"threshold": 3, "delay": {"days": 30}, "withdrawal": {"months": 12}})
    monkeypatch.setitem(catalogue("untc").rules, T, rule)
    return rule


@pytest.mark.usefixtures("fake_parser")
def test_a_removed_signature_cell_does_not_end_the_ratification(session_factory, three_needed):
    bland = member("Bland", "BLA", consent="2004-01-01")
    cland = member("Cland", "CLA", consent="2021-01-01")
    signed = member("Aland", "ALA", sig="2001-05-01", consent="2003-01-01")
    unsigned = member("Aland", "ALA", consent="2003-01-01")
    _put(session_factory, built(signed, bland, as_at=noon_of("2019-06-01")), "2019-06-01")
    _put(session_factory, built(unsigned, bland, as_at=noon_of("2020-01-01")), "2020-01-01")
    _put(session_factory, built(unsigned, bland, cland, as_at=noon_of("2021-06-01")), "2021-06-01")
    answer = _status_of(session_factory, as_of=D("2022-01-01"))
    assert answer["parties"] == 3 and answer["standing_not_known"] == 0
    assert answer["threshold_met_on"] == "2021-01-01"
    assert answer["qualifying_instruments"] == 3
    aland = people(answer)["Aland"]
    (gone,) = [a for a in aland["history"] if a["column"] == Column.SIGNATURE.value]
    assert gone["ended_by"] == "revoked" and gone["ending"]["column"] == "signature"


NOTIFIED = (
    "On 1 March 2020, the Government of Aland notified the Secretary-General of its decision to "
    "withdraw from the Convention."
)


def _withdrawal_of(answer, name: str):
    """The withdrawal of `name`'s deposit, the deciding one."""
    (found,) = [d for d in answer["deciding_deposits"] if d["participant"] == name]
    return found.get("withdrawal")


@pytest.mark.usefixtures("fake_parser")
def test_the_withdrawal_clause_dates_the_notification_alike_now_and_as_of(
    session_factory, three_needed
):
    import dataclasses

    aland = dataclasses.replace(member("Aland", "ALA", consent="2019-01-01"), footnotes=("1",))
    rows = (aland, member("Bland", "BLA", consent="2003-01-01"),
            member("Cland", "CLA", consent="2004-01-01"))  # fmt: skip
    value = dataclasses.replace(
        built(*rows, as_at=noon_of("2020-06-01")), footnotes=(Footnote("1", NOTIFIED),)
    )
    _put(session_factory, value, "2020-06-01")
    latest = _status_of(session_factory)
    then = _status_of(session_factory, as_of=D("2020-12-01"))
    later = _status_of(session_factory, as_of=D("2021-06-01"))
    # The latest answer reads the footnote with the clause: notified 1 March 2020, 12 months.
    expected = {"notified_on": "2020-03-01", "effective_on": "2021-03-01", "basis": "clause"}
    for answer in (latest, then):
        assert answer["threshold_met_on"] == "2019-01-01"
        withdrawal = _withdrawal_of(answer, "Aland")
        assert withdrawal is not None, answer["deciding_deposits"]
        assert {k: withdrawal[k] for k in expected} == expected
    assert latest["qualifying_instruments"] == 2  # today: Aland's withdrawal took effect
    assert then["qualifying_instruments"] == 3 and then["parties"] == 3
    assert people(then)["Aland"]["standing"] == "party"
    (consent,) = [a for a in people(then)["Aland"]["history"] if a["column"] == "consent"]
    assert consent["ending"]["notified_on"] == "2020-03-01"
    assert consent["ending"]["effective_on"] == "2021-03-01"
    # ... and after it took effect the history no longer counts Aland either.
    assert later["qualifying_instruments"] == 2 and later["parties"] == 2
    assert people(later)["Aland"]["standing"] == "withdrawn"


@pytest.mark.usefixtures("fake_parser")
def test_a_reaccession_printed_late_is_an_event_and_keeps_the_old_ratification(
    session_factory, three_needed
):
    old = member("Aland", "ALA", consent="2000-01-01")
    new = member("Aland", "ALA", consent="2022-03-01", letter="a")
    bland, cland = member("Bland", "BLA", consent="2001-01-01"), member("Cland", "CLA")
    _put(session_factory, built(old, bland, as_at=noon_of("2005-01-01")), "2005-01-01")
    _put(session_factory, built(old, bland, cland, as_at=noon_of("2022-03-05")), "2022-03-05")
    _put(session_factory, built(new, bland, cland, as_at=noon_of("2022-03-20")), "2022-03-20")
    with session_factory() as session:
        found = [
            (e.kind, e.legal_date, e.details.get("ended", {}).get("date"))
            for e in session.scalars(select(Event).where(Event.participant_name == "Aland"))
        ]
    assert found == [("reaccession", D("2022-03-01"), "2000-01-01")]
    then = _status_of(session_factory, as_of=D("2010-01-01"))
    assert people(then)["Aland"]["standing"] == "unknown" and then["parties"] == 1
    assert (
        "Aland: ratification of 2000-01-01 ended between 2005-01-01 and 2022-03-01; its "
        "standing on 2010-01-01 is not known"
    ) in then["warnings"]
    assert people(_status_of(session_factory, as_of=D("2004-01-01")))["Aland"]["standing"] == (
        "party"
    )
    now = _status_of(session_factory, as_of=D("2022-03-10"))
    assert people(now)["Aland"]["standing"] == "party" and now["parties"] == 2


def test_the_as_of_answer_confirms_an_absence_by_the_configured_window_not_a_fixed_day(
    session_factory,
):
    """Two pages without Russia's ratification, a day apart, ingested with a 48-hour window
    (TRACKER_DISAPPEARANCE_CONFIRM_HOURS=48): ingestion leaves the absence unconfirmed, and so
    does the as-of answer given the same window; with 24 hours the same pages confirm it."""
    window = timedelta(hours=48)

    def fetched(body: bytes, day: str) -> FetchedPage:
        return FetchedPage("untc", URL.format("XXVI-4"), body, noon(day), expected_treaty="XXVI-4")

    rows = [
        Row("France", D("1996-09-24"), D("1998-04-06")),
        Row("Russian Federation", D("1996-09-24"), None),
        Row("Japan", D("1996-09-24"), D("1997-07-08")),
        Row("Chile", D("1996-09-24"), None),  # another change: the page is a snapshot of its own
    ]
    later = Page("XXVI-4", "Comprehensive Nuclear-Test-Ban Treaty", rows)
    later.status_as_at = status_stamp(noon("2026-02-04"))
    for body, day in (
        (ctbt("2018-01-15", True), "2018-01-15"),
        (ctbt("2026-02-03", False), "2026-02-03"),
        (render(later), "2026-02-04"),
    ):
        assert ingest_page(session_factory, fetched(body, day), confirm_after=window).outcome == (
            "accepted"
        )

    def confirmed(hours: int) -> bool:
        answer = ask(session_factory, as_of=D("2026-03-01"), confirm_after=timedelta(hours=hours))
        acts = {
            (a["column"], a["date"]): a for a in people(answer)["Russian Federation"]["history"]
        }
        return acts[("consent", "2000-06-30")]["confirmed"]

    assert confirmed(48) is False  # as ingestion judged it
    assert confirmed(24) is True  # the window is the answer's to be told, not a fixed day
