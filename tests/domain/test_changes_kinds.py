"""Change kinds of a replaced or vanished consent cell: `reaccession`, `revocation`,
`correction` and `action_disappeared`, decided by the evidence the two pages give."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tracker.domain.changes import ABSENCES, ChangeKind, diff
from tracker.domain.endings import FOOTNOTE, UNKNOWN, Ending
from tracker.domain.footnotes import SILENT
from tracker.domain.models import Action, Column, Participant, TreatyStatus
from tracker.sources.untc.letters import kind_for

D = date.fromisoformat


def cell(column: Column, day: str, letter: str = "", withdrawn: bool = False) -> Action:
    return Action(column, kind_for(column, letter), D(day), letter, withdrawn)


def usa(*consents: Action) -> Participant:
    return Participant(
        "United States of America", "USA", actions=(cell(Column.SIGNATURE, "2016-04-22"), *consents)
    )


def page(*rows: Participant, printed: str | None = None) -> TreatyStatus:
    stamp = datetime.fromisoformat(printed).replace(tzinfo=UTC) if printed else None
    return TreatyStatus("XXVII-7-d", "Paris Agreement", participants=rows, status_as_at=stamp)


OLD = cell(Column.CONSENT, "2016-09-03", "A")
NEW = cell(Column.CONSENT, "2021-01-20", "A")


def kinds(changes):
    return [(c.kind, c.legal_date) for c in changes]


def test_consent_replaced_by_one_dated_after_the_previous_print_is_a_reaccession():
    changes = diff(page(usa(OLD), printed="2020-11-18T17:00"), page(usa(NEW)), endings={})
    assert kinds(changes) == [(ChangeKind.REACCESSION, D("2021-01-20"))]
    (c,) = changes
    assert c.before == OLD.to_dict() and c.after == NEW.to_dict()
    assert c.details()["ended"] == OLD.to_dict()
    assert ChangeKind.REACCESSION not in ABSENCES


def test_the_print_time_given_wins_over_a_missing_stamp():
    previous = page(usa(OLD))  # no stamp: the caller passes its observation
    seen = datetime(2020, 11, 18, 12, tzinfo=UTC)
    assert kinds(diff(previous, page(usa(NEW)), previous_printed=seen, endings={})) == [
        (ChangeKind.REACCESSION, D("2021-01-20"))
    ]
    # Without any print time, a replacement is a correction, as before.
    assert kinds(diff(previous, page(usa(NEW)), endings={})) == [
        (ChangeKind.CORRECTION, D("2021-01-20"))
    ]


def test_consent_replaced_by_one_dated_before_the_previous_print_is_a_correction():
    misprint = cell(Column.CONSENT, "2016-09-30", "A")
    changes = diff(page(usa(misprint), printed="2018-01-10T12:00"), page(usa(OLD)), endings={})
    assert kinds(changes) == [(ChangeKind.CORRECTION, D("2016-09-03"))]
    assert "ended" not in changes[0].details()


def test_replacement_dated_on_the_print_day_is_still_a_correction():
    same_day = cell(Column.CONSENT, "2020-11-18", "A")
    changes = diff(page(usa(OLD), printed="2020-11-18T23:00"), page(usa(same_day)), endings={})
    assert kinds(changes) == [(ChangeKind.CORRECTION, D("2020-11-18"))]


def test_signature_replaced_later_stays_a_correction():
    old = Participant("X", "XXX", actions=(cell(Column.SIGNATURE, "2016-04-22"),))
    new = Participant("X", "XXX", actions=(cell(Column.SIGNATURE, "2021-04-22"),))
    changes = diff(page(old, printed="2020-01-01T00:00"), page(new), endings={})
    assert kinds(changes) == [(ChangeKind.CORRECTION, D("2021-04-22"))]


def test_new_consent_after_a_bracketed_one_is_a_reaccession():
    out = cell(Column.CONSENT, "2016-09-03", "A", withdrawn=True)
    changes = diff(page(usa(out), printed="2021-02-01T00:00"), page(usa(out, NEW)), endings={})
    assert kinds(changes) == [(ChangeKind.REACCESSION, D("2021-01-20"))]
    assert changes[0].details()["ended"] == out.to_dict()
    # ... and replacing it (the old row dropped) too, even if printed late.
    changes = diff(page(usa(out), printed="2021-02-01T00:00"), page(usa(NEW)), endings={})
    assert kinds(changes) == [(ChangeKind.REACCESSION, D("2021-01-20"))]


def test_new_consent_beside_a_standing_one_is_a_consent():
    other = cell(Column.CONSENT, "2021-01-20", "AA")
    changes = diff(page(usa(OLD), printed="2020-01-01T00:00"), page(usa(OLD, other)), endings={})
    assert kinds(changes) == [(ChangeKind.CONSENT, D("2021-01-20"))]


RUS = Participant("Russian Federation", "RUS", actions=(cell(Column.SIGNATURE, "1996-09-24"),))
RATIFIED = Participant(
    "Russian Federation",
    "RUS",
    actions=(cell(Column.SIGNATURE, "1996-09-24"), cell(Column.CONSENT, "2000-06-30")),
)


def test_consent_gone_with_a_footnote_saying_it_was_revoked_is_a_revocation():
    ended = Ending("RUS", "revocation", D("2023-11-01"), D("2023-11-02"), FOOTNOTE, "revoked")
    changes = diff(page(RATIFIED), page(RUS, printed="2026-02-03T12:00"), endings={"RUS": [ended]})
    # Dated by the ending's notification, never by the deposit it ended (2000-06-30).
    assert kinds(changes) == [(ChangeKind.REVOCATION, D("2023-11-01"))]
    assert changes[0].details()["ending"]["effective_on"] == "2023-11-02"
    assert changes[0].details()["before"]["date"] == "2000-06-30"
    # One page's missing cell is no proof (a faulty page drops cells while the footnote
    # stays): a revocation is an absence, suspicious until a second page confirms it.
    assert ChangeKind.REVOCATION in ABSENCES


ALAND = Participant(
    "Aland",
    None,
    actions=(cell(Column.SIGNATURE, "1999-01-01"), cell(Column.CONSENT, "2000-01-01")),
)
ALAND_SIGNED = Participant("Aland", None, actions=(cell(Column.SIGNATURE, "1999-01-01"),))
# Notified on 1 March 2024, in effect on 1 March 2025.
ALAND_OUT = Ending("name:aland", "withdrawal", D("2024-03-01"), D("2025-03-01"), FOOTNOTE)


def test_an_ending_not_yet_in_effect_on_the_pages_day_cannot_explain_a_cell_gone():
    endings = {"name:aland": [ALAND_OUT]}
    early = diff(page(ALAND), page(ALAND_SIGNED, printed="2024-06-02T12:00"), endings=endings)
    assert kinds(early) == [(ChangeKind.ACTION_DISAPPEARED, D("2000-01-01"))]
    assert early[0].ending is None
    # On the day it takes effect (and after), it can.
    for printed in ("2025-03-01T09:00", "2025-06-02T12:00"):
        later = diff(page(ALAND), page(ALAND_SIGNED, printed=printed), endings=endings)
        assert kinds(later) == [(ChangeKind.REVOCATION, D("2024-03-01"))]
        assert later[0].details()["ending"]["effective_on"] == "2025-03-01"
    # The day given wins over the page's stamp.
    seen = datetime(2024, 6, 2, 12, tzinfo=UTC)
    stamped = page(ALAND_SIGNED, printed="2025-06-02T12:00")
    assert kinds(diff(page(ALAND), stamped, endings=endings, current_printed=seen)) == [
        (ChangeKind.ACTION_DISAPPEARED, D("2000-01-01"))
    ]


def test_a_page_of_unknown_day_cannot_show_an_ending_in_effect():
    ended = Ending("RUS", "revocation", D("2023-11-02"), D("2023-11-02"), FOOTNOTE, "revoked")
    changes = diff(page(RATIFIED), page(RUS), endings={"RUS": [ended]})
    assert kinds(changes) == [(ChangeKind.ACTION_DISAPPEARED, D("2000-06-30"))]


def test_an_ending_of_another_column_does_not_revoke_a_consent():
    signature_ended = Ending(
        "RUS", "withdrawal", D("2023-11-02"), D("2023-11-02"), FOOTNOTE, column="signature"
    )
    changes = diff(
        page(RATIFIED), page(RUS, printed="2026-02-03T12:00"), endings={"RUS": [signature_ended]}
    )
    assert kinds(changes) == [(ChangeKind.ACTION_DISAPPEARED, D("2000-06-30"))]


def test_consent_gone_without_evidence_stays_a_suspicious_disappearance():
    for endings in ({}, {"RUS": [Ending("RUS", "withdrawal", None, None, UNKNOWN)]}):
        changes = diff(page(RATIFIED), page(RUS), endings=endings)
        assert kinds(changes) == [(ChangeKind.ACTION_DISAPPEARED, D("2000-06-30"))]
    # An ending dated before the act is another act's.
    old = Ending("RUS", "withdrawal", D("1999-01-01"), D("1999-06-01"), FOOTNOTE)
    assert kinds(diff(page(RATIFIED), page(RUS), endings={"RUS": [old]})) == [
        (ChangeKind.ACTION_DISAPPEARED, D("2000-06-30"))
    ]


class _Says:
    """A source's footnote grammar that reads one ending for RUS (tracker.domain.footnotes)."""

    def __init__(self, ending: Ending) -> None:
        self.ending = ending

    def endings(self, participant, texts):
        return ([self.ending] if participant.key == "RUS" else []), ()

    def predecessors(self, text, own_names):
        return ()


def test_the_endings_a_sources_grammar_reads_are_the_ones_diff_shows():
    from tracker.domain.withdrawals import read_withdrawals

    ended = Ending("RUS", "revocation", D("2023-11-02"), D("2023-11-02"), FOOTNOTE)
    current = page(RUS, printed="2026-02-03T12:00")
    endings = read_withdrawals(current, _Says(ended)).endings
    assert kinds(diff(page(RATIFIED), current, endings=endings)) == [
        (ChangeKind.REVOCATION, D("2023-11-02"))
    ]
    silent = read_withdrawals(current, SILENT).endings  # a source whose footnotes say nothing
    assert kinds(diff(page(RATIFIED), current, endings=silent)) != [
        (ChangeKind.REVOCATION, D("2023-11-02"))
    ]


# ---- review #8: an old act first observed before the new act's date is no misprint of it ------

ALAND_NAME = "Aland"
RATIFIED_2000 = cell(Column.CONSENT, "2000-01-01")
ACCEDED_2022 = cell(Column.CONSENT, "2022-03-01", "a")


def aland(*cells: Action) -> Participant:
    return Participant(ALAND_NAME, "ALA", actions=cells)


def test_a_replacement_dated_after_the_old_acts_first_observation_is_a_reaccession():
    previous = page(aland(RATIFIED_2000), printed="2022-03-05T12:00")  # printed late: a lag
    current = page(aland(ACCEDED_2022))
    first = {("ALA", "consent", "ratification", D("2000-01-01")): datetime(2005, 1, 1, tzinfo=UTC)}
    changes = diff(previous, current, endings={}, first_seen=first)
    assert kinds(changes) == [(ChangeKind.REACCESSION, D("2022-03-01"))]
    assert changes[0].details()["ended"] == RATIFIED_2000.to_dict()
    # Without the first observation, the previous print is all there is: it may be a misprint.
    assert kinds(diff(previous, current, endings={})) == [(ChangeKind.CORRECTION, D("2022-03-01"))]


def test_an_old_act_first_observed_on_or_after_the_new_acts_date_may_be_its_misprint():
    previous = page(aland(RATIFIED_2000), printed="2022-03-05T12:00")
    for seen in (datetime(2022, 3, 1, 23, tzinfo=UTC), datetime(2022, 3, 5, tzinfo=UTC)):
        first = {("ALA", "consent", "ratification", D("2000-01-01")): seen}
        changes = diff(previous, page(aland(ACCEDED_2022)), endings={}, first_seen=first)
        assert kinds(changes) == [(ChangeKind.CORRECTION, D("2022-03-01"))], seen
    # Another act's first observation says nothing of this one.
    other = {("ALA", "signature", "signature", D("2000-01-01")): datetime(2005, 1, 1, tzinfo=UTC)}
    changes = diff(previous, page(aland(ACCEDED_2022)), endings={}, first_seen=other)
    assert kinds(changes) == [(ChangeKind.CORRECTION, D("2022-03-01"))]
