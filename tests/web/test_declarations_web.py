"""The treaty page shows, next to each participant, the footnotes its row points to and its
declarations, reservations and objections (tests/fixtures/untc/viewdetails_declarations.html)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html

from tracker.services.answer_cache import ANSWERS
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.web.app import create_app

pytestmark = pytest.mark.db

PAGE = (
    Path(__file__).parents[1] / "fixtures" / "untc" / "viewdetails_declarations.html"
).read_bytes()
URL = "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=IV-5&chapter=4&clang=_en"


def test_notes_and_declarations_next_to_their_participant(session_factory, settings):
    when = datetime(2026, 2, 3, 12, tzinfo=UTC)
    ingest_page(session_factory, FetchedPage("untc", URL, PAGE, when, when))
    ANSWERS.clear()
    client = TestClient(create_app(session_factory, settings, clock=lambda: when))
    page = lxml_html.fromstring(client.get("/treaties/IV-5").text)
    rows = {
        tr.cssselect("th")[0].get("data-value"): tr
        for tr in page.cssselect("table#participants tbody tr")
    }
    guyana = rows["Guyana"].cssselect("details.notes")[0]
    assert "1 footnote" in guyana.cssselect("summary")[0].text_content()
    (note,) = guyana.cssselect("p.footnote")
    assert note.get("data-ref") == "2" and "initially acceded" in note.text_content()
    (reservation,) = guyana.cssselect(".declaration")
    assert reservation.get("data-section") == "declarations"
    assert "reservation to article 1" in reservation.text_content()
    austria = rows["Austria"].cssselect(".declaration")
    assert [d.get("data-section") for d in austria] == ["declarations", "objections"]
    assert not rows["Albania"].cssselect("details.notes")
    # Not for a past date: the notes are the latest page's.
    past = lxml_html.fromstring(client.get("/treaties/IV-5?as_of=2020-01-01").text)
    assert not past.cssselect("details.notes")
