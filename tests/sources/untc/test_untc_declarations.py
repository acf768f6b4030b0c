"""Declarations, reservations, objections and notifications on UNTC's status page (after
<a name="EndDec">): the parser (tests/fixtures/untc/viewdetails_declarations.html), the
`declaration` change between two pages, and the event it records (never on the first look,
nor when the previous snapshot was stored before the parser read declarations)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from db.models import Event, Snapshot
from db.vocabulary import ALERT_KINDS, CHANGE_EVENT_KINDS, EventKind
from tracker.domain.changes import ChangeKind, declaration_changes
from tracker.domain.models import Declaration, TreatyStatus
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.services.read.notes import participant_notes
from tracker.sources.documents import html_root
from tracker.sources.untc.declarations import text_lines
from tracker.sources.untc.html import parse_html

FIXTURES = Path(__file__).parents[2] / "fixtures" / "untc"
PAGE = (FIXTURES / "viewdetails_declarations.html").read_bytes()
URL = "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=IV-5&chapter=4&clang=_en"
RESERVATION = "with a reservation to article 1."


def test_the_parser_reads_each_section_in_page_order():
    status = parse_html(PAGE)
    found = [(d.participant, d.iso3, d.section, d.footnotes) for d in status.declarations]
    assert found == [
        ("Austria", "AUT", "declarations", ()),
        ("Guyana", "GUY", "declarations", ("2",)),
        ("Austria", "AUT", "objections", ()),
    ]
    austria, guyana, objection = status.declarations
    # Paragraphs are lines; the hidden repeat of the name, scripts and comments are no text.
    assert austria.text == (
        "10 December 1987\nDeclaration:\n“Austria understands article 5 as follows.”"
    )
    assert guyana.text.startswith("Reservation:\nThe Government of Guyana")
    assert "not text" not in guyana.text and "Guyana" not in guyana.text.split("\n")[0]
    assert objection.text.endswith("Austria objects to that reservation.")
    # A page without the section reads as none (not "not read"); the <template> is inert.
    assert parse_html((FIXTURES / "viewdetails_3col.html").read_bytes()).declarations == ()
    assert all(d.participant != "Albania" for d in status.declarations)


def test_text_lines_breaks_at_blocks_and_br_and_leaves_out_hidden_elements():
    page = (
        "<html><body><div>A<BR>b<P class='x invisible'>hidden</P><i style='DISPLAY: none'>gone"
        "</i><b>bold</b> tail<P>para<br></P><sup>1</sup>\xa0\t<i>x</i> <!-- no --></div>"
        "</body></html>"
    )
    div = html_root(page.encode(), None).find(".//div")
    assert text_lines(div) == "A\nb\nbold tail\npara\n1 x"
    assert text_lines(div, sup=False) == "A\nb\nbold tail\npara\nx"


def test_declarations_round_trip_and_are_hashed():
    status = parse_html(PAGE)
    assert TreatyStatus.from_dict(status.to_dict()) == status
    assert replace(status, declarations=()).content_hash() != status.content_hash()
    # A parser that reads none (None) hashes as before the field existed.
    unread = replace(status, declarations=None)
    assert "declarations" not in unread.to_dict()


def test_a_new_or_reworded_statement_is_a_change_and_a_gone_one_is_not():
    before = parse_html(PAGE)
    _austria, guyana, objection = before.declarations
    reworded = replace(guyana, text=guyana.text.replace("article 1", "articles 1 and 2"))
    albania = Declaration("Albania", "declarations", "Declaration:\nA new one.", "ALB")
    after = replace(before, declarations=(reworded, albania, objection))  # Austria's gone
    changes = declaration_changes(before, after)
    assert [(c.kind, c.participant_key, c.action_kind) for c in changes] == [
        (ChangeKind.DECLARATION, "GUY", "declarations"),
        (ChangeKind.DECLARATION, "ALB", "declarations"),
    ]
    assert changes[0].before["text"] == guyana.text
    assert changes[0].after["text"] == reworded.text and changes[1].before is None
    assert declaration_changes(before, before) == []
    assert declaration_changes(replace(before, declarations=None), after) == []
    assert ChangeKind.DECLARATION in CHANGE_EVENT_KINDS and EventKind.DECLARATION in ALERT_KINDS


def _fetched(body: bytes, day: str) -> FetchedPage:
    when = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
    return FetchedPage("untc", URL, body, when, when)


def _declaration_events(session_factory):
    with session_factory() as session:
        query = select(Event).where(Event.kind == "declaration").order_by(Event.id)
        return [(e.participant_name, e.details) for e in session.scalars(query)]


@pytest.mark.db
def test_a_reworded_reservation_is_an_event_but_not_on_the_first_look(session_factory):
    assert ingest_page(session_factory, _fetched(PAGE, "2026-02-03")).outcome == "accepted"
    assert _declaration_events(session_factory) == []
    changed = PAGE.replace(RESERVATION.encode(), b"with a reservation to articles 1 and 2.")
    assert ingest_page(session_factory, _fetched(changed, "2026-02-10")).outcome == "accepted"
    ((name, details),) = _declaration_events(session_factory)
    assert name == "Guyana" and details["action_kind"] == "declarations"
    assert RESERVATION in details["before"]["text"]
    assert "articles 1 and 2." in details["after"]["text"]


@pytest.mark.db
def test_a_snapshot_stored_before_declarations_were_read_gives_no_events(session_factory):
    ingest_page(session_factory, _fetched(PAGE, "2026-02-03"))
    with session_factory.begin() as session:  # as stored by the parser before this one
        (snapshot,) = session.scalars(select(Snapshot))
        data = {k: v for k, v in snapshot.data.items() if k != "declarations"}
        session.execute(update(Snapshot).where(Snapshot.id == snapshot.id).values(data=data))
    changed = PAGE.replace(RESERVATION.encode(), b"with a reservation to articles 1 and 2.")
    ingest_page(session_factory, _fetched(changed, "2026-02-10"))
    assert _declaration_events(session_factory) == []


def test_the_notes_of_a_participant_are_its_footnotes_and_statements():
    notes = participant_notes(parse_html(PAGE))
    guyana = notes["GUY"]
    assert [f["ref"] for f in guyana["footnotes"]] == ["2"]
    assert guyana["footnotes"][0]["text"].startswith("The Government of Guyana had initially")
    assert [d["words"] for d in guyana["declarations"]] == ["declarations and reservations"]
    assert [d["section"] for d in notes["AUT"]["declarations"]] == ["declarations", "objections"]
    assert "ALB" not in notes  # no footnote, no statement
