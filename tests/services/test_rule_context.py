"""The context a rule needs from other tracked treaties (after_treaty, share_of), and the warning
that quotes the words when a page's rule cannot be read."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from statuses import at, member, page, status

from db.models import Treaty
from tracker.catalogue import catalogue
from tracker.domain.rule_spec import rule_from_spec
from tracker.services.ingest import ingest_page
from tracker.services.read.status import treaty_status
from tracker.services.read.treaties import treaties_overview
from tracker.services.rule_context import parties_on, rule_context
from tracker.sources.untc.footnotes import FOOTNOTES

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]

D = date.fromisoformat
TEN = [member(f"State {i}", f"Q{chr(65 + i)}A", consent=f"1975-0{1 + i % 9}-01") for i in range(10)]


def _ingest(session_factory, value, url: str) -> None:
    ingest_page(session_factory, page(value, "2026-01-02", url=url))


def _treaty(session, external_id: str) -> Treaty:
    return session.query(Treaty).filter_by(external_id=external_id).one()


def test_the_optional_protocol_waits_for_the_tracked_covenant(session_factory):
    covenant = status(*TEN, treaty="IV-4", title="ICCPR", eif_date="1977-01-01")
    protocol = status(*TEN, treaty="IV-5", title="OP", as_at=at("2026-01-01"))
    _ingest(session_factory, covenant, "https://treaties.example/iv-4")
    _ingest(session_factory, protocol, "https://treaties.example/iv-5")
    with session_factory() as session:
        rule = catalogue("untc").rules["IV-5"]
        assert rule_context(session, _treaty(session, "IV-5"), rule) == {
            "footnotes": FOOTNOTES,  # UNTC's grammar, from the source registry
            "others": {"IV-4": D("1977-01-01")},
        }
        answer = treaty_status(session, "IV-5")
    # the 10th deposit on 1 Sep 1975 + 3 months is 1 Dec 1975; the tracked Covenant's date
    # (made up here, 1 Jan 1977) prevails over the catalogue's fallback (23 March 1976)
    assert answer["threshold_met_on"] == "1975-09-01"
    assert answer["entry_into_force"]["computed"] == "1977-01-01"
    with session_factory() as session:  # the overview answers the same
        rows = {r["treaty"]: r for r in treaties_overview(session, today=D("2026-11-01"))}
    assert rows["IV-5"]["entry_into_force"] == "1977-01-01"


def test_an_untracked_other_treaty_is_unknown(session_factory):
    _ingest(session_factory, status(*TEN, treaty="IV-5", title="OP"), "https://treaties.example/5")
    with session_factory() as session:
        treaty = _treaty(session, "IV-5")
        assert rule_context(session, treaty, catalogue("untc").rules["IV-5"]) == {
            "footnotes": FOOTNOTES,
            "others": {"IV-4": None},
        }
        answer = treaty_status(session, "IV-5")
        plain = rule_from_spec("IV-5", {"threshold": 1, "delay": {"days": 1}})
        # nothing asked of other treaties, nothing looked up
        assert rule_context(session, treaty, plain) == {"footnotes": FOOTNOTES}
    assert answer["entry_into_force"]["computed"] == "1976-03-23"  # the fallback


def test_parties_of_counts_the_other_treaty_deposits_on_the_day(session_factory):
    kyoto = status(*TEN[:4], treaty="XXVII-7", title="Kyoto")
    _ingest(session_factory, kyoto, "https://treaties.example/kyoto")
    _ingest(session_factory, status(*TEN[:1], treaty="XXVII-7-x"), "https://treaties.example/x")
    spec = {"share_of": {"treaty": "XXVII-7", "numerator": 3, "denominator": 4}}
    rule = rule_from_spec("XXVII-7-x", {**spec, "delay": {"days": 90}})
    with session_factory() as session:
        parties_of = rule_context(session, _treaty(session, "XXVII-7-x"), rule)["parties_of"]
        assert parties_of("XXVII-7", D("1975-02-15")) == 2
        assert parties_of("XXVII-7", D("2000-01-01")) == 4
        assert parties_of("OTHER", D("2000-01-01")) is None


def test_parties_on_counts_withdrawn_deposits_and_definitive_signatures():
    withdrawn = member("Gone", "GON", consent="2000-01-01", withdrawn=True)
    signer = member("Signer", "SIG", sig="2000-01-01")
    definitive = dataclasses.replace(
        signer,
        name="Definitive",
        actions=(dataclasses.replace(signer.actions[0], kind="definitive_signature"),),
    )
    value = status(withdrawn, signer, definitive)
    assert parties_on(value, D("2000-01-01")) == 2
    assert parties_on(value, D("1999-12-31")) == 0


def test_no_rule_warning_quotes_the_printed_words(session_factory):
    odd = status(member("Austria", "AUT", consent="2001-01-02"), treaty="XVIII-99", title="Odd")
    odd = dataclasses.replace(
        odd,
        eif_text="This Protocol shall enter into force on the ninetieth day after the deposit of "
        "the fortieth instrument of ratification by States members of the Council of Europe.",
    )
    _ingest(session_factory, odd, "https://treaties.example/odd")
    with session_factory() as session:
        answer = treaty_status(session, "XVIII-99")
    assert answer["rule"] is None
    assert answer["warnings"] == [
        (
            "no entry-into-force rule known: the printed text could not be read (who may deposit): "
            "'by states members of the council of europe'"
        )
    ]


def test_the_api_answer_follows_the_other_treaty_when_it_changes(session_factory, settings):
    """Review #11: the API kept the latest answer under a key of this treaty's own snapshots
    only; a rule waiting for another treaty (after_treaty) answered stale once that one moved."""
    from fastapi.testclient import TestClient

    from tracker.web.app import create_app

    protocol = status(*TEN, treaty="IV-5", title="OP", as_at=at("2026-01-01"))
    _ingest(session_factory, protocol, "https://treaties.example/iv-5")
    app = create_app(session_factory, settings)
    with TestClient(app) as client:
        before = client.get("/api/treaties/IV-5").json()
        assert before["entry_into_force"]["computed"] == "1976-03-23"  # the fallback
        assert client.get("/api/treaties/IV-5").json() == before  # asked again: the same
        covenant = status(*TEN, treaty="IV-4", title="ICCPR", eif_date="1977-01-01")
        _ingest(session_factory, covenant, "https://treaties.example/iv-4")
        after = client.get("/api/treaties/IV-5").json()
        assert after["entry_into_force"]["computed"] == "1977-01-01"  # the tracked Covenant's
        moved = status(*TEN, treaty="IV-4", title="ICCPR", eif_date="1977-02-01")
        ingest_page(session_factory, page(moved, "2026-01-03", url="https://treaties.example/iv-4"))
        assert client.get("/api/treaties/IV-5").json()["entry_into_force"]["computed"] == (
            "1977-02-01"
        )


def test_the_api_answer_follows_the_share_of_treaty(session_factory, settings, monkeypatch):
    from fastapi.testclient import TestClient

    from tracker.web.app import create_app

    spec = {"share_of": {"treaty": "XXVII-7", "numerator": 3, "denominator": 4}}
    rule = rule_from_spec("XXVII-7-x", {**spec, "delay": {"days": 90}})
    monkeypatch.setitem(catalogue("untc").rules, "XXVII-7-x", rule)
    _ingest(session_factory, status(*TEN[:3], treaty="XXVII-7-x"), "https://treaties.example/x")
    app = create_app(session_factory, settings)
    with TestClient(app) as client:
        # Kyoto not tracked: the share is unknown, the threshold cannot be met.
        assert client.get("/api/treaties/XXVII-7-x").json()["threshold_met_on"] is None
        kyoto = status(*TEN[:4], treaty="XXVII-7", title="Kyoto")
        _ingest(session_factory, kyoto, "https://treaties.example/kyoto")
        # 3/4 of Kyoto's parties on the day: on 1975-01-01 it has one, so one deposit meets it.
        assert client.get("/api/treaties/XXVII-7-x").json()["threshold_met_on"] == "1975-01-01"


# ---- review #7: what we knew on T of the other treaty is its snapshots observed by T ----------


def test_known_at_reads_the_other_treatys_snapshots_observed_by_then(session_factory):
    from datetime import UTC, datetime

    early = status(*TEN, treaty="IV-4", title="ICCPR", eif_date="1976-06-01")
    late = status(*TEN, treaty="IV-4", title="ICCPR", eif_date="1977-01-01")
    ingest_page(session_factory, page(early, "2026-01-02", url="https://treaties.example/iv-4"))
    ingest_page(session_factory, page(late, "2026-03-01", url="https://treaties.example/iv-4"))
    protocol = status(*TEN, treaty="IV-5", title="OP", as_at=at("2026-01-01"))
    _ingest(session_factory, protocol, "https://treaties.example/iv-5")
    then = datetime(2026, 2, 1, tzinfo=UTC)
    with session_factory() as session:
        treaty, rule = _treaty(session, "IV-5"), catalogue("untc").rules["IV-5"]
        assert rule_context(session, treaty, rule, known_at=then)["others"] == {
            "IV-4": D("1976-06-01")
        }
        assert rule_context(session, treaty, rule)["others"] == {"IV-4": D("1977-01-01")}
        before = datetime(2026, 1, 1, tzinfo=UTC)  # nothing of IV-4 observed yet: unknown
        assert rule_context(session, treaty, rule, known_at=before)["others"] == {"IV-4": None}
        known = treaty_status(session, "IV-5", known_at=then, today=D("2026-11-01"))
        latest = treaty_status(session, "IV-5", today=D("2026-11-01"))
    assert known["entry_into_force"]["computed"] == "1976-06-01"
    assert latest["entry_into_force"]["computed"] == "1977-01-01"


def test_known_at_counts_the_other_treatys_parties_observed_by_then(session_factory):
    from datetime import UTC, datetime

    url = "https://treaties.example/kyoto"
    ingest_page(session_factory, page(status(*TEN[:4], treaty="XXVII-7"), "2026-01-02", url=url))
    ingest_page(session_factory, page(status(*TEN[:8], treaty="XXVII-7"), "2026-03-01", url=url))
    _ingest(session_factory, status(*TEN[:1], treaty="XXVII-7-x"), "https://treaties.example/x")
    spec = {"share_of": {"treaty": "XXVII-7", "numerator": 3, "denominator": 4}}
    rule = rule_from_spec("XXVII-7-x", {**spec, "delay": {"days": 90}})
    then = datetime(2026, 2, 1, tzinfo=UTC)
    with session_factory() as session:
        treaty = _treaty(session, "XXVII-7-x")
        known = rule_context(session, treaty, rule, known_at=then)["parties_of"]
        latest = rule_context(session, treaty, rule)["parties_of"]
        assert known("XXVII-7", D("2000-01-01")) == 4
        assert latest("XXVII-7", D("2000-01-01")) == 8


@pytest.mark.slow  # over 3 s
def test_known_at_answers_when_the_treaty_was_last_checked_by_then(session_factory):
    from datetime import UTC, datetime

    url = "https://treaties.example/iv-5"
    first = status(*TEN[:9], treaty="IV-5", title="OP", as_at=at("2026-01-01"))
    second = status(*TEN, treaty="IV-5", title="OP", as_at=at("2026-02-20"))
    ingest_page(session_factory, page(first, "2026-01-02", url=url))
    ingest_page(session_factory, page(first, "2026-01-20", url=url))  # unchanged: no snapshot
    ingest_page(session_factory, page(second, "2026-03-01", url=url))
    with session_factory() as session:
        now = treaty_status(session, "IV-5", today=D("2026-11-01"))
        known = treaty_status(
            session, "IV-5", known_at=datetime(2026, 2, 1, tzinfo=UTC), today=D("2026-11-01")
        )
        both = treaty_status(
            session,
            "IV-5",
            known_at=datetime(2026, 2, 1, tzinfo=UTC),
            as_of=D("2026-01-15"),
            today=D("2026-11-01"),
        )
    assert now["last_checked_at"].startswith("2026-03-01")
    # By T only the snapshot observed on 2 January was known (the unchanged page of 20 January
    # made none): never a time after T.
    assert known["last_checked_at"] == at("2026-01-02").isoformat()
    assert both["last_checked_at"] == at("2026-01-02").isoformat()
