"""The action history derived from a sequence of pages: withdrawn, revoked, re-accession,
rewritten row, an end whose date no page gives, and the same answers whatever the page order."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest

from tracker.domain.act_history import (
    COUNTS,
    ENDED,
    NEVER,
    NOT_KNOWN,
    NOT_YET,
    REVOKED,
    REWRITTEN,
    SUPERSEDED,
    WITHDRAWN,
    Printed,
)
from tracker.domain.endings import CLAUSE, FOOTNOTE, HISTORY, UNKNOWN, Ending
from tracker.domain.history import derive as derive_with
from tracker.domain.models import Action, Column, Participant, TreatyStatus
from tracker.domain.moments import known_at_moment
from tracker.domain.withdrawals import Withdrawals
from tracker.sources.untc.footnotes import FOOTNOTES
from tracker.sources.untc.letters import kind_for

# The pages here are UNTC's: their footnotes are read with UNTC's grammar.
# a second page a day later confirms an absence (the settings' default)
derive = partial(derive_with, footnotes=FOOTNOTES, confirm_after=timedelta(hours=24))

D = date.fromisoformat


def at(day: str) -> datetime:
    return datetime.combine(D(day), datetime.min.time(), UTC).replace(hour=12)


def cell(column: Column, day: str, letter: str = "", withdrawn: bool = False) -> Action:
    return Action(column, kind_for(column, letter), D(day), letter, withdrawn)


def row(name: str, iso3: str, *cells: Action) -> Participant:
    return Participant(name=name, iso3=iso3, actions=cells)


def printed(day: str, *rows: Participant, observed: str | None = None) -> Printed:
    status = TreatyStatus(treaty_id="XXVI-4", title="Test", participants=rows, status_as_at=at(day))
    return Printed(status, at(observed or day))


SIG = cell(Column.SIGNATURE, "1996-09-24")
RUS_2000 = cell(Column.CONSENT, "2000-06-30")
RUSSIA = row("Russian Federation", "RUS", SIG, RUS_2000)
RUSSIA_SIGNED = row("Russian Federation", "RUS", SIG)
FRANCE = row("France", "FRA", SIG, cell(Column.CONSENT, "1998-04-06"))


def none_read(status: TreatyStatus) -> Withdrawals:
    return Withdrawals({}, {})


def reader(endings: dict[str, list[Ending]], rejoined=None):
    def read(status: TreatyStatus) -> Withdrawals:
        keys = {p.key for p in status.participants}
        return Withdrawals({k: v for k, v in endings.items() if k in keys}, dict(rejoined or {}))

    return read


def consent(ending: Ending) -> Ending:
    """The footnote's ending as the history attaches it to a consent act."""
    return replace(ending, column="consent")


def standing(history, key, on: str):
    found = list(history.of(key))
    return {(a.column.value, a.date.isoformat()): a.standing(D(on)) for a in found}


# ---- revocation: a ratification gone from later pages (the CTBT, Russia, 2023) ----------------


def test_revocation_from_an_absence_has_the_pages_bounds_and_warns_inside_them():
    history = derive(
        [printed("2018-01-15", RUSSIA, FRANCE), printed("2026-02-03", RUSSIA_SIGNED, FRANCE)],
        read=none_read,
    )
    act = history.act(("RUS", "consent", "ratification", D("2000-06-30")))
    assert act is not None and act.ended_by == REVOKED
    assert act.ending is not None and act.ending.basis == HISTORY
    assert (act.ending.not_before, act.ending.not_after) == (D("2018-01-15"), D("2026-02-03"))
    assert act.first_gone == at("2026-02-03") and act.last_unbracketed == at("2018-01-15")
    # One page alone shows it gone: not confirmed, so not taken as ended even after that page.
    assert act.confirmed is False
    assert act.standing(D("2010-01-01")) == COUNTS
    assert act.standing(D("2018-01-15")) == COUNTS
    assert act.standing(D("2024-01-01")) == NOT_KNOWN
    assert act.standing(D("2026-06-01")) == NOT_KNOWN
    then = history.as_of(D("2010-01-01"))
    assert then.parties == 2 and then.warnings == ()
    later = history.as_of(D("2024-01-01"))
    assert later.parties == 1 and later.signatories == 2 and later.not_known == 1
    assert later.warnings == (
        (
            "Russian Federation: ratification of 2000-06-30 ended between 2018-01-15 and "
            "2026-02-03; its standing on 2024-01-01 is not known"
        ),
    )
    after = history.as_of(D("2026-06-01"))
    assert "gone from the page printed 2026-02-03 only" in after.warnings[0]
    russia = next(p for p in later.participants if p.participant.key == "RUS")
    assert russia.standing == NOT_KNOWN and not russia.party and russia.signatory
    assert russia.participant.consent is not None and russia.participant.consent.withdrawn


def test_revocation_confirmed_by_a_second_page_ends_the_act_after_the_window():
    pages = [
        printed("2018-01-15", RUSSIA),
        printed("2026-02-03", RUSSIA_SIGNED),
        printed("2026-02-10", RUSSIA_SIGNED, FRANCE),  # differs: a second page
    ]
    act = derive(pages, read=none_read).act(("RUS", "consent", "ratification", D("2000-06-30")))
    assert act is not None and act.confirmed is True
    assert act.standing(D("2026-02-03")) == ENDED and act.standing(D("2025-01-01")) == NOT_KNOWN


def test_a_confirmed_absence_event_confirms_without_a_second_snapshot():
    key = ("RUS", "consent", "ratification", D("2000-06-30"))
    pages = [printed("2018-01-15", RUSSIA), printed("2026-02-03", RUSSIA_SIGNED)]
    act = derive(pages, read=none_read, confirmed_gone={key}).act(key)
    assert act is not None and act.standing(D("2026-02-04")) == ENDED


def test_second_page_too_soon_does_not_confirm():
    pages = [
        printed("2018-01-15", RUSSIA),
        Printed(printed("2026-02-03", RUSSIA_SIGNED).status, at("2026-02-03")),
        Printed(
            TreatyStatus(
                "XXVI-4", "Test", participants=(RUSSIA_SIGNED, FRANCE),
                status_as_at=at("2026-02-03") + timedelta(hours=1),
            ),
            at("2026-02-03"),
        ),
    ]  # fmt: skip
    act = derive(pages, read=none_read).act(("RUS", "consent", "ratification", D("2000-06-30")))
    assert act is not None and act.confirmed is False


def test_revocation_dates_from_the_footnote_where_it_gives_them():
    ended = Ending("RUS", "revocation", D("2023-11-02"), D("2023-11-02"), FOOTNOTE, "revoked")
    history = derive(
        [printed("2018-01-15", RUSSIA), printed("2026-02-03", RUSSIA_SIGNED)],
        read=reader({"RUS": [ended]}),
    )
    act = history.act(("RUS", "consent", "ratification", D("2000-06-30")))
    assert act is not None and act.ending == consent(ended)
    assert act.standing(D("2023-11-01")) == COUNTS and act.standing(D("2023-11-02")) == ENDED
    assert history.as_of(D("2024-01-01")).warnings == ()
    assert history.endings() == {"RUS": (consent(ended),)}


# ---- withdrawal: brackets ------------------------------------------------------------------

AUT = row("Austria", "AUT", cell(Column.CONSENT, "2018-05-08"))
AUT_OUT = row("Austria", "AUT", cell(Column.CONSENT, "2018-05-08", withdrawn=True))


def test_withdrawal_with_footnote_dates_counts_until_it_took_effect():
    ended = Ending("AUT", "withdrawal", D("2019-06-01"), D("2019-12-01"), CLAUSE)
    history = derive(
        [printed("2018-06-01", AUT), printed("2020-01-10", AUT_OUT)],
        read=reader({"AUT": [ended]}),
    )
    act = history.act(("AUT", "consent", "ratification", D("2018-05-08")))
    assert act is not None and act.ended_by == WITHDRAWN and act.ending == consent(ended)
    assert act.first_bracketed == at("2020-01-10")
    assert history.as_of(D("2019-11-30")).parties == 1
    out = history.as_of(D("2019-12-01"))
    assert out.parties == 0 and out.warnings == ()
    assert out.participants[0].standing == "withdrawn"


def test_withdrawal_without_dates_is_unknown_between_the_pages_never_withdrawn_forever():
    unknown = Ending("AUT", "withdrawal", None, None, UNKNOWN)  # brackets and nothing else
    history = derive(
        [printed("2018-06-01", AUT), printed("2020-01-10", AUT_OUT)],
        read=reader({"AUT": [unknown]}),
    )
    act = history.act(("AUT", "consent", "ratification", D("2018-05-08")))
    assert act is not None and act.ending is not None and act.ending.basis == HISTORY
    assert (act.ending.not_before, act.ending.not_after) == (D("2018-06-01"), D("2020-01-10"))
    assert act.standing(D("2018-06-01")) == COUNTS
    assert act.standing(D("2019-01-01")) == NOT_KNOWN
    assert act.standing(D("2020-01-10")) == ENDED  # brackets are no one-page absence
    assert (
        "Austria: ratification of 2018-05-08 ended between 2018-06-01 and 2020-01-10"
        in (history.as_of(D("2019-01-01")).warnings[0])
    )


def test_bracketed_on_the_first_page_is_unknown_from_its_date_to_that_page():
    history = derive([printed("2020-01-10", AUT_OUT)], read=none_read)
    act = history.act(("AUT", "consent", "ratification", D("2018-05-08")))
    assert act is not None and act.last_unbracketed is None
    assert act.ending is not None and act.ending.not_before is None
    assert act.standing(D("2018-05-07")) == NOT_YET
    assert act.standing(D("2018-05-08")) == NOT_KNOWN
    assert act.standing(D("2020-01-10")) == ENDED
    answer = history.as_of(D("2019-01-01"))
    assert answer.parties == 0 and answer.not_known == 1
    assert "ended between 2018-05-08 and 2020-01-10" in answer.warnings[0]


def test_brackets_removed_by_a_later_page_are_no_withdrawal():
    history = derive([printed("2018-06-01", AUT_OUT), printed("2018-07-01", AUT)], read=none_read)
    act = history.act(("AUT", "consent", "ratification", D("2018-05-08")))
    assert act is not None and act.ended_by is None and act.ending is None
    assert act.standing(D("2030-01-01")) == COUNTS


# ---- re-accession: a new act after a withdrawal (Paris Agreement, the United States) ----------

USA_2016 = row(
    "United States of America", "USA", cell(Column.SIGNATURE, "2016-04-22"),
    cell(Column.CONSENT, "2016-09-03", "A"),
)  # fmt: skip
USA_2021 = row(
    "United States of America", "USA", cell(Column.SIGNATURE, "2016-04-22"),
    cell(Column.CONSENT, "2021-01-20", "A"),
)  # fmt: skip
OLD = ("USA", "consent", "acceptance", D("2016-09-03"))
NEW = ("USA", "consent", "acceptance", D("2021-01-20"))


def test_reaccession_supersedes_the_old_act_from_its_own_date():
    history = derive(
        [printed("2018-01-10", USA_2016), printed("2020-11-18", USA_2016), printed("2021-01-21", USA_2021)],
        read=none_read,
    )  # fmt: skip
    old = history.act(OLD)
    assert old is not None and old.ended_by == SUPERSEDED and old.successor == NEW
    assert old.ending is not None
    assert (old.ending.not_before, old.ending.not_after) == (D("2020-11-18"), D("2021-01-20"))
    assert history.as_of(D("2018-01-01")).parties == 1
    usa = history.as_of(D("2018-01-01")).participants[0]
    assert usa.participant.consent == cell(Column.CONSENT, "2016-09-03", "A")
    gap = history.as_of(D("2020-12-15"))
    assert gap.parties == 0 and gap.participants[0].standing == NOT_KNOWN
    assert "acceptance of 2016-09-03 ended between 2020-11-18 and 2021-01-20" in gap.warnings[0]
    back = history.as_of(D("2021-01-20"))
    assert back.parties == 1 and back.warnings == ()
    shown = back.participants[0].participant
    assert shown.consent == cell(Column.CONSENT, "2021-01-20", "A")
    # To evaluate: both acts, the old one bracketed.
    (evaluated,) = back.status.participants
    assert sorted((a.date.isoformat(), a.withdrawn) for a in evaluated.actions if a.column is Column.CONSENT) == [
        ("2016-09-03", True),
        ("2021-01-20", False),
    ]  # fmt: skip


def test_withdrawal_then_reaccession_keeps_the_withdrawal_dates():
    ended = Ending("USA", "withdrawal", D("2019-11-04"), D("2020-11-04"), FOOTNOTE)
    out = row(
        "United States of America", "USA", cell(Column.SIGNATURE, "2016-04-22"),
        cell(Column.CONSENT, "2016-09-03", "A", withdrawn=True),
    )  # fmt: skip
    history = derive(
        [printed("2018-01-10", USA_2016), printed("2020-11-18", out), printed("2021-01-21", USA_2021)],
        read=reader({"USA": [ended]}),
    )  # fmt: skip
    old = history.act(OLD)
    assert old is not None and old.ended_by == WITHDRAWN and old.successor == NEW
    assert old.ending == consent(ended)
    assert history.as_of(D("2020-11-03")).parties == 1
    gap = history.as_of(D("2020-12-01"))
    assert gap.parties == 0 and gap.warnings == () and gap.participants[0].standing == "withdrawn"
    assert history.as_of(D("2021-02-01")).parties == 1


def test_rejoined_from_a_footnote_counts_from_its_date():
    from tracker.domain.withdrawals import Rejoined

    ended = Ending("TTO", "denunciation", D("1998-05-26"), D("1998-08-26"), FOOTNOTE)
    tto = row("Trinidad and Tobago", "TTO", cell(Column.CONSENT, "1980-11-14", "a", withdrawn=True))
    history = derive(
        [printed("2026-02-03", tto)],
        read=reader({"TTO": [ended]}, {"TTO": [Rejoined("TTO", "accession", D("1998-08-26"))]}),
    )
    assert history.as_of(D("1998-08-25")).parties == 1
    assert history.as_of(D("1998-08-26")).parties == 1
    rejoined = history.act(("TTO", "consent", "accession", D("1998-08-26")))
    assert rejoined is not None and rejoined.source == "footnote"


# ---- a row the depositary rewrote (a correction: no act behind the old cell) ----------------


def test_rewritten_row_is_replaced_by_the_rewrite_from_its_own_date():
    misprint = row("Austria", "AUT", cell(Column.CONSENT, "2018-05-18"))
    history = derive([printed("2018-06-01", misprint), printed("2018-07-01", AUT)], read=none_read)
    old = history.act(("AUT", "consent", "ratification", D("2018-05-18")))
    assert old is not None and old.ended_by == REWRITTEN and old.ending is None
    assert old.standing(D("2018-06-01")) == NEVER
    assert history.as_of(D("2018-05-10")).parties == 1  # the rewrite's own date counts
    answer = history.as_of(D("2018-06-15"))
    assert answer.parties == 1 and answer.warnings == ()
    assert [a.date for a in answer.status.participants[0].actions] == [D("2018-05-08")]
    assert history.endings() == {}


def test_rewritten_kind_same_date_is_a_rewrite_not_a_new_act():
    accession = row("Austria", "AUT", cell(Column.CONSENT, "2018-05-08", "a"))
    history = derive([printed("2018-06-01", accession), printed("2018-07-01", AUT)], read=none_read)
    old = history.act(("AUT", "consent", "accession", D("2018-05-08")))
    assert old is not None and old.ended_by == REWRITTEN
    answer = history.as_of(D("2018-06-15"))
    assert answer.participants[0].participant.consent == AUT.actions[0]


def test_first_observed_is_the_earliest_observation_of_the_act():
    history = derive(
        [
            printed("2018-06-01", AUT, observed="2018-06-02"),
            printed("2018-07-01", AUT, FRANCE, observed="2018-07-05"),
        ],
        read=none_read,
    )
    act = history.act(("AUT", "consent", "ratification", D("2018-05-08")))
    assert act is not None and act.first_observed == at("2018-06-02")
    assert act.first_printed == at("2018-06-01") and act.last_printed == at("2018-07-01")
    view = history.as_of(D("2019-01-01")).participants[0]
    assert view.first_observed["consent"] == at("2018-06-02")


# ---- the same answers whatever order the pages come in ------------------------------------


def _answers(history, days):
    out = []
    for day in days:
        a = history.as_of(D(day))
        out.append(
            (
                a.signatories,
                a.parties,
                a.warnings,
                tuple((p.participant, p.standing) for p in a.participants),
                a.status,
            )
        )
    return out


def test_order_of_the_pages_does_not_change_the_answers():
    pages = [
        printed("2016-10-01", USA_2016, observed="2026-01-01"),  # an archive, ingested late
        printed("2018-01-15", RUSSIA, FRANCE, USA_2016),
        printed("2020-11-18", RUSSIA, FRANCE, USA_2016, AUT),
        printed("2021-01-21", RUSSIA, FRANCE, USA_2021, AUT),
        printed("2026-02-03", RUSSIA_SIGNED, FRANCE, USA_2021, AUT_OUT),
    ]
    days = ["2000-07-01", "2016-12-01", "2018-06-01", "2020-12-01", "2021-06-01", "2026-03-01"]
    expected = _answers(derive(pages, read=none_read), days)
    for order in itertools.permutations(pages):
        assert _answers(derive(order, read=none_read), days) == expected
    # and the expectation is not empty of meaning
    assert [e[1] for e in expected] == [2, 3, 4, 3, 2, 2]  # 2021-06: RUS, AUT unknown


def test_no_page_is_refused():
    with pytest.raises(ValueError, match="no page"):
        derive([], read=none_read)


# ---- "what we knew on T" -------------------------------------------------------------------


def test_known_at_reads_a_date_as_the_end_of_that_day_utc_and_requires_a_zone():
    end = known_at_moment("2026-02-03")
    assert end.tzinfo is not None and end.date() == D("2026-02-03")
    assert end > at("2026-02-03").replace(hour=23, minute=59, second=59)
    assert known_at_moment("2026-02-03T10:00+02:00") == datetime(2026, 2, 3, 8, tzinfo=UTC)
    assert known_at_moment("2026-02-03T10:00Z") == datetime(2026, 2, 3, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="no time zone"):
        known_at_moment("2026-02-03T10:00")
    with pytest.raises(ValueError):
        known_at_moment("yesterday")


def test_a_misprint_rewritten_back_to_the_earlier_print_is_a_rewrite_not_a_revocation():
    misprint = row("Austria", "AUT", cell(Column.CONSENT, "2018-05-18"))
    history = derive(
        [printed("2018-06-01", AUT), printed("2018-07-01", misprint), printed("2018-08-01", AUT)],
        read=none_read,
    )
    wrong = history.act(("AUT", "consent", "ratification", D("2018-05-18")))
    assert wrong is not None and wrong.ended_by == REWRITTEN
    assert wrong.successor == ("AUT", "consent", "ratification", D("2018-05-08"))
    answer = history.as_of(D("2018-07-15"))
    assert answer.parties == 1 and answer.warnings == ()


@pytest.mark.parametrize("text", ["2020-W01-1", "20200101", "2026-02-03T10:00 UTC", "2026-02-30"])
def test_known_at_refuses_what_is_not_a_plain_date_or_zoned_time(text):
    with pytest.raises(ValueError):
        known_at_moment(text)


def test_known_at_beyond_the_calendar_is_clamped_not_an_error():
    assert known_at_moment("0001-01-01T00:00+05:00") == datetime.min.replace(tzinfo=UTC)
    assert known_at_moment("9999-12-31T23:00-05:00") == datetime.max.replace(tzinfo=UTC)


def test_withdrawal_notified_but_not_yet_bracketed_ends_on_its_effective_date():
    ended = Ending("AUT", "withdrawal", D("2025-06-27"), D("2025-12-27"), FOOTNOTE)
    history = derive([printed("2025-07-01", AUT)], read=reader({"AUT": [ended]}))
    act = history.act(("AUT", "consent", "ratification", D("2018-05-08")))
    assert act is not None and act.ended_by == WITHDRAWN and act.ending == consent(ended)
    assert history.as_of(D("2025-12-26")).parties == 1
    assert history.as_of(D("2025-12-27")).parties == 0
    # Without an effective date, a notification alone ends nothing yet.
    pending = Ending("AUT", "withdrawal", D("2025-06-27"), None, FOOTNOTE)
    history = derive([printed("2025-07-01", AUT)], read=reader({"AUT": [pending]}))
    assert history.as_of(D("2030-01-01")).parties == 1


def test_withdrawal_notified_without_its_effect_date_keeps_the_pages_bounds():
    notified = Ending("AUT", "withdrawal", D("2019-06-01"), None, FOOTNOTE, "notified")
    history = derive(
        [printed("2018-06-01", AUT), printed("2020-01-10", AUT_OUT)],
        read=reader({"AUT": [notified]}),
    )
    act = history.act(("AUT", "consent", "ratification", D("2018-05-08")))
    assert act is not None and act.ending is not None
    assert act.ending.notified_on == D("2019-06-01") and act.ending.basis == FOOTNOTE
    assert (act.ending.not_before, act.ending.not_after) == (D("2018-06-01"), D("2020-01-10"))
    assert act.standing(D("2018-06-01")) == COUNTS and act.standing(D("2019-01-01")) == NOT_KNOWN


# ---- review #5: an ending says the column of the act it ended ---------------------------------


def _aland_pages():
    sig, rat = cell(Column.SIGNATURE, "2001-05-01"), cell(Column.CONSENT, "2003-01-01")
    bland = row("Bland", "BLA", cell(Column.CONSENT, "2004-01-01"))
    cland = row("Cland", "CLA", cell(Column.CONSENT, "2021-01-01"))
    return [
        printed("2010-01-01", row("Aland", "ALA", sig, rat), bland),
        printed("2019-06-01", row("Aland", "ALA", sig, rat), bland),
        printed("2020-01-01", row("Aland", "ALA", rat), bland),  # the signature cell is gone
        printed("2021-06-01", row("Aland", "ALA", rat), bland, cland),
    ]


def test_a_removed_signature_cell_ends_the_signature_not_the_ratification():
    from tracker.domain.evaluate import evaluate
    from tracker.domain.rule_spec import rule_from_spec

    history = derive(_aland_pages(), read=none_read)
    signature = history.act(("ALA", "signature", "signature", D("2001-05-01")))
    assert signature is not None and signature.ended_by == REVOKED
    assert signature.ending is not None and signature.ending.column == "signature"
    (aland,) = history.endings()["ALA"]
    assert aland.column == "signature" and aland.to_dict()["column"] == "signature"
    answer = history.as_of(D("2022-01-01"))
    assert answer.parties == 3 and answer.not_known == 0
    # What the evaluation takes for an instrument's ending: the consent's (column None or
    # "consent") only; the signature's end leaves the ratification of 2003 counting.
    instrument = {
        k: tuple(e for e in v if e.column in (None, "consent")) for k, v in answer.endings.items()
    }
    rule = rule_from_spec("XXVI-4", {"threshold": 3, "delay": {"days": 30}})
    ev = evaluate(
        rule, answer.status, footnotes=FOOTNOTES, as_of=D("2022-01-01"), endings=instrument
    )
    assert ev.threshold_met_on == D("2021-01-01")
    assert ev.qualifying == 3


def test_every_ending_of_the_history_names_its_column():
    ended = Ending("AUT", "withdrawal", D("2019-06-01"), D("2019-12-01"), CLAUSE)
    history = derive(
        [printed("2018-06-01", AUT, USA_2016), printed("2020-01-10", AUT_OUT, USA_2021)],
        read=reader({"AUT": [ended]}),
    )
    columns = {k: [e.column for e in v] for k, v in history.endings().items()}
    assert columns == {"AUT": ["consent"], "USA": ["consent"]}


def test_the_ends_of_instruments_leave_out_a_signature_but_keep_a_definitive_signature():
    history = derive(_aland_pages(), read=none_read)
    assert set(history.endings()) == {"ALA"} and history.endings(instruments=True) == {}
    definitive = Action(Column.SIGNATURE, "definitive_signature", D("2001-05-01"), "s")
    pages = [
        printed("2010-01-01", row("Dland", "DLA", definitive)),
        printed("2020-01-01", row("Dland", "DLA", replace(definitive, withdrawn=True))),
    ]
    (ended,) = derive(pages, read=none_read).endings(instruments=True)["DLA"]
    assert ended.column == "signature" and (ended.not_before, ended.not_after) == (
        D("2010-01-01"),
        D("2020-01-01"),
    )


# ---- review #6: the withdrawal clause, and a footnote that gives the notification only --------

NOTIFIED = (
    "On 1 March 2020, the Government of Austria notified the Secretary-General of its decision "
    "to withdraw from the Convention."
)


def _footnoted(day: str, *, withdrawn: bool = False) -> Printed:
    from tracker.domain.models import Footnote

    aut = replace(AUT_OUT if withdrawn else AUT, footnotes=("1",))
    status = TreatyStatus(
        treaty_id="XXVI-4", title="Test", participants=(aut, FRANCE), status_as_at=at(day),
        footnotes=(Footnote("1", NOTIFIED),),
    )  # fmt: skip
    return Printed(status, at(day))


def test_the_treatys_withdrawal_clause_dates_a_notification_only_footnote():
    from tracker.domain.delays import Delay

    history = derive([_footnoted("2020-06-01")], withdrawal=Delay("months", 12))
    act = history.act(("AUT", "consent", "ratification", D("2018-05-08")))
    assert act is not None and act.ending is not None
    assert (act.ending.notified_on, act.ending.effective_on) == (D("2020-03-01"), D("2021-03-01"))
    assert act.ending.basis == CLAUSE and act.ending.column == "consent"
    assert history.as_of(D("2020-12-01")).parties == 2
    assert history.as_of(D("2021-03-01")).parties == 1
    # Without the clause the notification alone ends nothing yet (the row is still printed bound).
    assert derive([_footnoted("2020-06-01")]).as_of(D("2030-01-01")).parties == 2


def test_a_bracketed_row_keeps_the_notification_date_of_a_footnote_without_its_effect():
    history = derive([printed("2020-01-10", AUT, FRANCE), _footnoted("2020-06-01", withdrawn=True)])
    act = history.act(("AUT", "consent", "ratification", D("2018-05-08")))
    assert act is not None and act.ended_by == WITHDRAWN and act.ending is not None
    assert act.ending.notified_on == D("2020-03-01") and act.ending.effective_on is None
    assert (act.ending.not_before, act.ending.not_after) == (D("2020-01-10"), D("2020-06-01"))
    assert act.standing(D("2020-01-10")) == COUNTS and act.standing(D("2020-04-01")) == NOT_KNOWN
    assert act.standing(D("2020-06-01")) == ENDED


# ---- review #8: a re-accession printed late is no misprint of an act printed before it --------

ALAND_2000 = row("Aland", "ALA", cell(Column.CONSENT, "2000-01-01"))
ALAND_2022 = row("Aland", "ALA", cell(Column.CONSENT, "2022-03-01", "a"))
OLD_ALAND = ("ALA", "consent", "ratification", D("2000-01-01"))
NEW_ALAND = ("ALA", "consent", "accession", D("2022-03-01"))


def test_an_act_printed_before_the_new_acts_date_is_superseded_not_rewritten():
    pages = [
        printed("2005-01-01", ALAND_2000, FRANCE),
        printed("2022-03-05", ALAND_2000, FRANCE),  # printed after the accession: a lag
        printed("2022-03-20", ALAND_2022, FRANCE),
    ]
    history = derive(pages, read=none_read)
    old = history.act(OLD_ALAND)
    assert old is not None and old.ended_by == SUPERSEDED and old.successor == NEW_ALAND
    assert old.ending is not None and old.ending.basis == HISTORY
    # Still bound where a page printed before the accession showed it; the lagging page of
    # 2022-03-05 proves nothing after 2022-03-01, when the new act already existed.
    assert (old.ending.not_before, old.ending.not_after) == (D("2005-01-01"), D("2022-03-01"))
    assert history.as_of(D("2004-06-01")).parties == 2
    then = history.as_of(D("2010-01-01"))
    assert then.parties == 1 and then.not_known == 1
    assert then.warnings == (
        (
            "Aland: ratification of 2000-01-01 ended between 2005-01-01 and 2022-03-01; its "
            "standing on 2010-01-01 is not known"
        ),
    )
    now = history.as_of(D("2022-03-10"))
    assert now.parties == 2 and now.warnings == ()
    assert set(history.endings(instruments=True)) == {"ALA"}


def test_an_act_first_printed_on_or_after_the_new_acts_date_may_be_its_misprint():
    pages = [printed("2022-03-05", ALAND_2000, FRANCE), printed("2022-03-20", ALAND_2022, FRANCE)]
    old = derive(pages, read=none_read).act(OLD_ALAND)
    assert old is not None and old.ended_by == REWRITTEN
