"""The domain's side of footnotes: what it asks of a source's grammar, and what it does with
the answers whatever the source (the UNTC grammar's own wordings: tests/sources/untc/)."""

from __future__ import annotations

import dataclasses
from datetime import date

from statuses import act, status

from tracker.domain.delays import Delay
from tracker.domain.endings import CLAUSE, FOOTNOTE, UNKNOWN, Ending
from tracker.domain.footnotes import SILENT
from tracker.domain.models import Column, Footnote, Participant, TreatyStatus
from tracker.domain.successions import predecessor_instruments
from tracker.domain.withdrawals import read_withdrawals
from tracker.sources import registry
from tracker.sources.untc.footnotes import FOOTNOTES

D = date.fromisoformat


class Grammar:
    """A source's grammar that reads fixed answers, and records what it was asked."""

    def __init__(self, endings=(), predecessors=()):  # type: ignore[no-untyped-def]
        self._endings, self._predecessors = list(endings), list(predecessors)
        self.asked: list[tuple[str, tuple[str, ...]]] = []

    def endings(self, participant, texts):  # type: ignore[no-untyped-def]
        self.asked.append((participant.key, tuple(texts)))
        return [e for e in self._endings if e.participant == participant.key], ()

    def predecessors(self, text, own_names):  # type: ignore[no-untyped-def]
        return self._predecessors if "predecessor" in text else []


def page(*, bracketed: bool, note: str = "words of the depositary") -> TreatyStatus:
    row = Participant(
        "Lithuania",
        "LTU",
        footnotes=("4",),
        actions=(act(Column.CONSENT, "2003-05-12", "", bracketed),),
    )
    return dataclasses.replace(status(row), footnotes=(Footnote("4", note),))


def test_a_silent_source_still_ends_a_withdrawn_row_on_a_date_not_known():
    (ending,) = read_withdrawals(page(bracketed=True), SILENT).endings["LTU"]
    assert (ending.basis, ending.effective_on, ending.notified_on) == (UNKNOWN, None, None)
    assert read_withdrawals(page(bracketed=False), SILENT).endings == {}


def test_the_grammar_is_asked_with_the_rows_own_footnote_texts():
    grammar = Grammar()
    read_withdrawals(page(bracketed=True, note="On 1 May 2020 ..."), grammar)
    assert grammar.asked == [("LTU", ("On 1 May 2020 ...",))]


def test_an_ending_the_words_do_not_date_is_dated_by_the_treatys_clause_not_guessed():
    undated = Ending("LTU", "withdrawal", D("2020-01-10"), None, UNKNOWN, "notified only")
    grammar = Grammar([undated])
    (by_clause,) = read_withdrawals(page(bracketed=True), grammar, Delay("months", 6)).endings[
        "LTU"
    ]
    assert (by_clause.basis, by_clause.effective_on) == (CLAUSE, D("2020-07-10"))
    (unknown,) = read_withdrawals(page(bracketed=True), grammar).endings["LTU"]
    assert (unknown.basis, unknown.effective_on) == (UNKNOWN, None)  # no clause: not known


def test_a_dated_ending_before_the_printed_consent_does_not_end_an_unbracketed_row():
    old = Ending("LTU", "withdrawal", D("1999-01-01"), D("1999-07-01"), FOOTNOTE)
    assert read_withdrawals(page(bracketed=False), Grammar([old])).endings == {}
    late = Ending("LTU", "withdrawal", D("2025-01-01"), D("2025-07-01"), FOOTNOTE)
    assert read_withdrawals(page(bracketed=False), Grammar([late])).endings == {"LTU": (late,)}


def test_a_succession_no_grammar_explains_is_unreadable_not_counted():
    successor = Participant(
        "Slovakia", "SVK", footnotes=("4",), actions=(act(Column.CONSENT, "1993-05-28", "d"),)
    )
    s = dataclasses.replace(status(successor), footnotes=(Footnote("4", "a predecessor"),))
    silent = predecessor_instruments(s, SILENT)
    assert silent.instruments == ()
    assert [u.participant for u in silent.unreadable] == ["SVK"]
    told = predecessor_instruments(
        s, Grammar(predecessors=[("Czechoslovakia", "ratification", D("1975-12-23"))])
    )
    assert [(i.predecessor, i.successors) for i in told.instruments] == [
        ("Czechoslovakia", ("SVK",))
    ]
    assert told.unreadable == ()


def test_each_source_names_its_grammar_in_the_registry():
    assert registry.get("untc").footnotes is FOOTNOTES
    other = registry.Source(
        slug="other", title="Other", parse=lambda *a, **k: None, check_id=str, sort_key=str,
        default_base_url="http://127.0.0.1:1", spider="spiders.other", id_prefix="OTHER-",
    )  # fmt: skip
    assert other.footnotes is SILENT  # a source says nothing until it has a grammar
