"""The API contract of tests/web/test_api_contract.py over the 30 real UNTC status pages of
Feb 2026 (plus the same rendered Cybercrime Convention history).

The contract's figures (TPNW's 95 signatories and 74 parties, the 50th instrument on
24 Oct 2020, the CTBT, the Ottawa withdrawals, ...) were read from these pages; the project's
own pages (`support.own_pages`) are built to them. Here every test of the contract that reads
the shared database runs again on the real pages, so the figures stay checked against the
depositary. Skips, with the reason, when shared/fixtures/real is absent.
"""

from __future__ import annotations

import inspect
import json

import pytest
from support.real import ABSENT, REAL
from web import test_api_contract as contract

# slow: builds a database from the 30 real pages (8-9 s of set-up); the fast loop (make test-fast) leaves it to make test
pytestmark = [pytest.mark.db, pytest.mark.slow]


@pytest.fixture(scope="module")
def pages() -> list[tuple[str, str, bytes]]:
    """(treaty, URL, page) of the real ViewDetails captures listed in index.json."""
    index = REAL / "index.json"
    if not index.exists():
        pytest.skip(ABSENT)
    entries = [
        e for e in json.loads(index.read_text("utf-8")) if e["kind"] == "untc_viewdetails_html"
    ]
    return [
        (e["mtdsg"], e["original_url"], (REAL.parent.parent / e["path"]).read_bytes())
        for e in entries
    ]


database = contract.database
api = contract.api

# The contract's tests over the module's database (those taking `api`), collected here again.
for _name, _test in vars(contract).copy().items():
    if _name.startswith("test_") and "api" in inspect.signature(_test).parameters:
        globals()[_name] = _test
