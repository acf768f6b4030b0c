"""The untc parser against every real capture: 30 ViewDetails pages (2026) and 407 MTDSG XML (2018).

The files live in shared/fixtures/real beside the repository (see its MANIFEST.md); every test
here skips, with the reason, when that folder is absent.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tracker.sources import untc

# slow: reads the real depositary pages of ../shared (hundreds of files) to set up
pytestmark = pytest.mark.slow

# Every participant of the 30 pages maps to an ISO 3166 code or is a REIO (the European Union).
# Genuine exceptions would be listed here, per page, with the reason; there are none.
HTML_NAMES_WITHOUT_ISO3: dict[str, set[str]] = {}

# Observed on the 407 MTDSG XML files of January 2018 (see tests/fixtures/untc/README.md).
XML_ACCEPTED = 247
XML_REJECTED = 160
XML_REASONS = {
    "header-only MTDSG file: no participants table": 94,
    "printed count of parties missing although the table holds N": 60,
    "participants table has no rows": 2,  # VI-10, XIX-29: <Participants> with an empty table
    "parties disagree: table has N, page prints N": 2,
    "signatories disagree: table has N, page prints N": 1,
    "printed count of signatories missing although the signature column holds N": 1,
}
# The files whose table itself disagrees with the printed counts (the depositary's own data).
XML_COUNT_DISAGREEMENTS = {
    "V-3.en.xml": "signatories disagree: table has 22, page prints 23",
    "VII-9.en.xml": "parties disagree: table has 54, page prints 53",
    "XIX-35.en.xml": "parties disagree: table has 23, page prints 21",
    "X-20.en.xml": "printed count of signatories missing although the signature column holds 5",
}


def _printed(status_line: str, label: str) -> int | None:
    m = re.search(label + r"\s*:\s*(\d+)", status_line)
    return int(m.group(1)) if m else None


def _accepted(outcome: Any):
    assert outcome.status is not None, f"{outcome.entry['path']} rejected: {outcome.reason}"
    return outcome.status


# --- ViewDetails HTML (2026) ---------------------------------------------------------------------


def test_html_page_is_accepted_and_agrees_with_the_index(html_entry: dict, parse_real) -> None:
    status = _accepted(parse_real(html_entry))
    assert status.treaty_id == html_entry["mtdsg"]
    assert status.title == html_entry["treaty"]
    assert len(status.participants) == html_entry["participant_rows"]
    assert status.published_signatories == _printed(html_entry["status_line"], "Signatories")
    assert status.published_parties == _printed(html_entry["status_line"], "Parties")
    assert status.eif_label == html_entry["eif_label"]
    assert status.columns[0] == "Participant"
    assert status.columns[1:] == tuple(html_entry["columns"][1:])
    assert len(status.footnotes) == html_entry["footnotes"]
    bracketed = sum(1 for p in status.participants for a in p.actions if a.withdrawn)
    assert bracketed == html_entry["bracketed_cells"]
    assert status.status_as_at == datetime(2026, 2, 3, 15, 16, 18, tzinfo=UTC)


def test_html_derived_counts_equal_printed(html_entry: dict, parse_real) -> None:
    status = _accepted(parse_real(html_entry))
    assert status.signatories == (status.published_signatories or 0)
    assert status.parties == status.published_parties


def test_html_every_participant_has_iso3_or_is_a_reio(html_entry: dict, parse_real) -> None:
    status = _accepted(parse_real(html_entry))
    unknown = {p.name for p in status.participants if p.iso3 is None and not p.reio}
    assert unknown == HTML_NAMES_WITHOUT_ISO3.get(html_entry["mtdsg"], set())
    assert all(p.iso3 is None for p in status.participants if p.reio)


def test_html_expected_treaty_is_checked(real_root: Path) -> None:
    page = real_root / "untc_viewdetails_html_2026-02-03" / "XXVI-9__tpnw.html"
    status = untc.parse(page.read_bytes(), url=str(page), expected_treaty="XXVI-9")
    assert (status.signatories, status.parties) == (95, 74)


# --- MTDSG XML (2018) ----------------------------------------------------------------------------


def test_xml_file_is_accepted_with_agreeing_counts_or_rejected_with_a_reason(
    xml_entry: dict, parse_real
) -> None:
    outcome = parse_real(xml_entry)  # any exception other than PageRejected fails here
    if outcome.status is None:
        assert isinstance(outcome.reason, str) and outcome.reason.strip()
        return
    status = outcome.status
    assert status.participants
    assert status.treaty_id == xml_entry["mtdsg"]
    assert len(status.participants) == xml_entry["participant_rows"]
    assert status.signatories == (status.published_signatories or 0)
    assert status.parties == (status.published_parties or 0)
    assert str(status.published_signatories or "") == xml_entry["status_signatories"]
    assert str(status.published_parties or "") == xml_entry["status_parties"]


def test_xml_totals_and_reasons(xml_outcomes: list, reasons) -> None:
    accepted = sum(1 for o in xml_outcomes if o.status is not None)
    breakdown = reasons(xml_outcomes)
    print(f"\nMTDSG XML: accepted {accepted}, rejected {len(xml_outcomes) - accepted}")
    for reason, count in breakdown.most_common():
        print(f"  {count:4d}  {reason}")
    assert (accepted, len(xml_outcomes) - accepted) == (XML_ACCEPTED, XML_REJECTED)
    assert dict(breakdown) == XML_REASONS


def test_xml_count_disagreements_are_the_known_ones(xml_outcomes: list) -> None:
    found = {
        Path(o.entry["path"]).name: o.reason
        for o in xml_outcomes
        if o.reason and ("disagree" in o.reason or "signatories missing" in o.reason)
    }
    assert found == XML_COUNT_DISAGREEMENTS


def test_xml_header_only_files_are_all_rejected(xml_outcomes: list) -> None:
    header_only = [o for o in xml_outcomes if o.entry["header_only"]]
    assert len(header_only) == 96
    assert {o.reason for o in header_only} == {
        "header-only MTDSG file: no participants table",
        "participants table has no rows",
    }


def test_xml_malformed_files_are_read(xml_outcomes: list) -> None:
    recovered = [o for o in xml_outcomes if o.entry["well_formed"] == "needs_recovering_parser"]
    assert len(recovered) == 41
    assert sum(1 for o in recovered if o.status is not None) > 0
    for o in recovered:
        if o.status is not None:
            assert not any("superscript" in p.name for p in o.status.participants)


def test_tpnw_2018_xml_is_accepted(real_root: Path) -> None:
    path = real_root / "untc_mtdsg_xml_2018-01-15" / "XXVI-9.en.xml"
    status = untc.parse(path.read_bytes(), url=str(path), expected_treaty="XXVI-9")
    assert (status.published_signatories, status.published_parties) == (56, 3)
    assert (status.signatories, status.parties) == (56, 3)
    assert (
        status.in_force is False and status.title == "Treaty on the Prohibition of Nuclear Weapons"
    )
