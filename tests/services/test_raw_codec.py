"""Raw pages are stored zstd-compressed since issue 15; pages stored zlib-compressed before stay
readable, by the whole body and by the head the format check sniffs."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from support import own_pages
from support.real import ABSENT, REAL

from db.models import RawPage, Treaty
from tracker.services.format_check import history_format
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.services.repository import (
    RAW_COMPRESSION,
    compress_raw,
    raw_body,
    raw_head,
)

BODY = own_pages.tpnw_page()


def test_a_page_round_trips_and_is_smaller():
    stored = compress_raw(BODY)
    assert RAW_COMPRESSION == "zstd"
    assert raw_body("zstd", stored) == BODY
    assert len(stored) < len(BODY) / 3


@pytest.mark.parametrize("codec", ["zstd", "zlib"])
@pytest.mark.parametrize("size", [0, 1, 512, 4096, 10**7])
def test_the_head_is_the_first_bytes_whatever_the_codec(codec, size):
    stored = compress_raw(BODY) if codec == "zstd" else zlib.compress(BODY, 6)
    assert raw_head(codec, stored, size) == BODY[:size]


def test_an_unknown_codec_is_an_error_never_garbage():
    with pytest.raises(ValueError, match="unknown compression 'lz4'"):
        raw_body("lz4", b"\x00")
    with pytest.raises(ValueError, match="unknown compression 'lz4'"):
        raw_head("lz4", b"\x00", 10)


def test_the_real_pages_round_trip():
    if not (REAL / "index.json").exists():
        pytest.skip(ABSENT)
    for path in sorted((REAL / "untc_viewdetails_html_2026-02-03").glob("*.html"))[:10]:
        body = path.read_bytes()
        assert raw_body("zstd", compress_raw(body)) == body, path.name


@pytest.mark.db
def test_a_history_stored_as_zlib_keeps_its_format_and_its_bytes(session_factory):
    """A database written before the change: its raw pages are zlib; the format check still
    sniffs them, and an identical page is still recognized as unchanged."""
    when = datetime(2026, 2, 3, 12, tzinfo=UTC)
    url = own_pages.url_of("XXVI-9")
    page = FetchedPage("untc", url, BODY, when, expected_treaty="XXVI-9")
    assert ingest_page(session_factory, page).outcome == "accepted"
    with session_factory.begin() as session:
        row = session.query(RawPage).one()
        row.compression, row.body = "zlib", zlib.compress(BODY, 6)
    with session_factory() as session:
        row = session.query(RawPage).one()
        assert raw_body(row.compression, row.body) == BODY
        treaty_id = session.scalars(select(Treaty.id)).one()
        assert history_format(session, "untc", treaty_id) == "html"
    again = FetchedPage("untc", url, BODY, when.replace(hour=18), expected_treaty="XXVI-9")
    assert ingest_page(session_factory, again).outcome == "unchanged"
