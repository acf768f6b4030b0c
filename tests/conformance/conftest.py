"""Real UNTC captures (shared/fixtures/real beside the repo): parametrization, cached parses."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from support.real import ABSENT, REAL, TPNW_HTML, TPNW_XML

from tracker.domain.models import TreatyStatus
from tracker.sources import PageRejected, untc

KINDS = {"html_entry": "untc_viewdetails_html", "xml_entry": "untc_mtdsg_xml"}


@dataclass(frozen=True)
class Outcome:
    """What parse() made of one real file: a status, or the reason it was rejected."""

    entry: dict[str, Any]
    status: TreatyStatus | None = None
    reason: str | None = None


@cache
def entries(kind: str) -> tuple[dict[str, Any], ...]:
    """index.json entries of one kind (empty when the real fixtures are absent)."""
    index = REAL / "index.json"
    if not index.exists():
        return ()
    return tuple(e for e in json.loads(index.read_text("utf-8")) if e["kind"] == kind)


def file_of(entry: dict[str, Any]) -> Path:
    """index.json paths are relative to shared/ (`fixtures/real/...`)."""
    return REAL.parent.parent / entry["path"]


_RESULTS: dict[str, Outcome] = {}


def outcome(entry: dict[str, Any]) -> Outcome:
    """Parse one real file once per session; PageRejected becomes a reason, anything else raises."""
    if entry["path"] not in _RESULTS:
        try:
            status = untc.parse(file_of(entry).read_bytes(), url=entry["original_url"])
            _RESULTS[entry["path"]] = Outcome(entry, status=status)
        except PageRejected as exc:
            _RESULTS[entry["path"]] = Outcome(entry, reason=exc.reason)
    return _RESULTS[entry["path"]]


def reason_group(reason: str) -> str:
    """A reason with its numbers blanked, to count reasons by kind."""
    return re.sub(r"\d+", "N", reason)


def breakdown(outcomes: list[Outcome]) -> Counter[str]:
    return Counter(reason_group(o.reason) for o in outcomes if o.reason is not None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for fixture, kind in KINDS.items():
        if fixture not in metafunc.fixturenames:
            continue
        found = entries(kind)
        if found:
            ids = [Path(e["path"]).name for e in found]
            metafunc.parametrize(fixture, found, ids=ids)
        else:
            metafunc.parametrize(
                fixture, [pytest.param(None, marks=pytest.mark.skip(reason=ABSENT))]
            )


@pytest.fixture(scope="session")
def real_root() -> Path:
    """shared/fixtures/real (skips when absent)."""
    if not (REAL / "index.json").exists():
        pytest.skip(ABSENT)
    return REAL


@pytest.fixture(scope="session")
def parse_real() -> Any:
    """outcome(entry): the cached parse of one real file."""
    return outcome


@pytest.fixture(scope="session")
def xml_outcomes() -> list[Outcome]:
    """Outcomes of all MTDSG XML files (skips when the real fixtures are absent)."""
    if not entries(KINDS["xml_entry"]):
        pytest.skip(ABSENT)
    return [outcome(e) for e in entries(KINDS["xml_entry"])]


@pytest.fixture(scope="session")
def html_outcomes() -> list[Outcome]:
    """Outcomes of all ViewDetails HTML pages (skips when the real fixtures are absent)."""
    if not entries(KINDS["html_entry"]):
        pytest.skip(ABSENT)
    return [outcome(e) for e in entries(KINDS["html_entry"])]


@pytest.fixture(scope="session")
def reasons() -> Any:
    """breakdown(outcomes): rejection reasons with numbers blanked, counted."""
    return breakdown


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the MTDSG XML accepted/rejected totals and reasons of the files parsed in this run."""
    xml = [o for o in _RESULTS.values() if o.entry["kind"] == KINDS["xml_entry"]]
    if not xml:
        return
    accepted = sum(1 for o in xml if o.status is not None)
    terminalreporter.write_sep("-", "MTDSG XML conformance (real files)")
    terminalreporter.write_line(
        f"accepted {accepted}, rejected {len(xml) - accepted} of {len(xml)}"
    )
    for reason, count in breakdown(xml).most_common():
        terminalreporter.write_line(f"  {count:4d}  {reason}")


@pytest.fixture
def tpnw() -> tuple[Path, Path]:
    """TPNW's MTDSG XML of Jan 2018 (3 parties) and its status page of Feb 2026 (74): the real
    files, for the replays of tests/alerts and tests/e2e run here over the real captures."""
    if not (TPNW_XML.exists() and TPNW_HTML.exists()):
        pytest.skip(ABSENT)
    return TPNW_XML, TPNW_HTML
