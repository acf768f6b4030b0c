"""extract_rule_spec on the entry-into-force texts of the real UNTC captures (30 HTML, 407 XML).

The files live in shared/fixtures/real beside the repository; every test here skips, with the
reason, when that folder is absent (the html_outcomes / xml_outcomes fixtures of conftest.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tracker.domain.rule_text import extract_rule_spec
from tracker.domain.rules import rule_from_spec
from tracker.sources.untc import xml as untc_xml

FOUR = ["ratification", "acceptance", "approval", "accession"]

# Treaties whose printed text yields a spec (checked by eye against the text, January 2018 files).
XML_EXTRACTED = {
    "III-11", "III-13", "IV-16", "IV-9-b", "IX-4", "IX-4-a", "X-12", "X-13", "X-17", "X-19", "X-7",
    "XII-2", "XII-8", "XVIII-12-a", "XVIII-12-b", "XVIII-12-c", "XVIII-8", "XVIII-8-a", "XXI-9",
    "XXII-3", "XXIII-3", "XXIX-1", "XXV-4", "XXVI-2-c", "XXVI-7", "XXVI-9", "XXVII-1-f",
    "XXVII-1-g", "XXVII-1-h", "XXVII-14", "XXVII-15", "XXVII-16", "XXVII-17", "XXVII-3-b",
    "XXVII-5-a", "XXVII-8-c", "XXVIII-1",
}  # fmt: skip
# Files the parser rejects (no participants table) whose EIF text still holds a rule.
XML_REJECTED_EXTRACTED = {"XVIII-11", "XVIII-9"}
HTML_EXTRACTED = {"IV-16", "IV-9-b", "XXVI-2-c"}


def _spec(outcomes: list[Any], treaty: str) -> dict[str, Any] | None:
    found = [o for o in outcomes if o.entry["mtdsg"] == treaty]
    assert len(found) == 1 and found[0].status is not None, treaty
    return extract_rule_spec(found[0].status.eif_text or "")


def _extracted(outcomes: list[Any]) -> dict[str, dict[str, Any]]:
    specs = {
        o.entry["mtdsg"]: extract_rule_spec(o.status.eif_text or "") for o in outcomes if o.status
    }
    return {treaty: spec for treaty, spec in specs.items() if spec is not None}


def _rejected_eif_text(outcome: Any, real_root: Path) -> str:
    """The EIF text of a file the parser rejected, read with the XML parser's own repairs."""
    root = untc_xml._root((real_root.parent.parent / outcome.entry["path"]).read_bytes())
    return untc_xml._plain(root.find(".//EIF/Labeltext"))


def test_ced_html(html_outcomes: list[Any]) -> None:
    spec = _spec(html_outcomes, "IV-16")
    assert spec == {
        "threshold": 20,
        "counts": ["ratification", "accession"],
        "delay": {"days": 30},
        "citation": "article 39(1)",
        "notes": "extracted from: This Convention shall enter into force on the thirtieth day "
        "after the date of deposit with the Secretary-General of the United Nations of the "
        "twentieth instrument of ratification or accession.",
    }


def test_opcat_html_has_a_later_paragraph(html_outcomes: list[Any]) -> None:
    spec = _spec(html_outcomes, "IV-9-b")
    assert spec == {
        "threshold": 20,
        "counts": ["ratification", "accession"],
        "delay": {"days": 30},
        "later": {"days": 30},
        "citation": "article 28(1)",
        "notes": "extracted from: The present Protocol shall enter into force on the thirtieth day "
        "after the date of deposit with the Secretary-General of the United Nations of the "
        "twentieth instrument of ratification or accession.",
    }


def test_ccw_amendment_html(html_outcomes: list[Any]) -> None:
    spec = _spec(html_outcomes, "XXVI-2-c")
    assert spec is not None
    assert spec.pop("notes").startswith("extracted from: amendments ... shall enter into force")
    assert spec == {
        "threshold": 20,
        "counts": FOUR,
        "delay": {"months": 6},
        "citation": "article 8, paragraph 1 (b)",
    }


def test_ctbt_needs_the_catalogue(html_outcomes: list[Any], xml_outcomes: list[Any]) -> None:
    assert _spec(html_outcomes, "XXVI-4") is None
    assert _spec(xml_outcomes, "XXVI-4") is None


def test_html_totals(html_outcomes: list[Any]) -> None:
    extracted = _extracted(html_outcomes)
    assert set(extracted) == HTML_EXTRACTED
    assert len(extracted) == 3


def test_xml_totals(xml_outcomes: list[Any]) -> None:
    extracted = _extracted(xml_outcomes)
    assert set(extracted) == XML_EXTRACTED
    assert len(extracted) == 37


def test_xml_rejected_files_with_a_rule(xml_outcomes: list[Any], real_root: Path) -> None:
    rejected = [o for o in xml_outcomes if o.status is None]
    found = {
        o.entry["mtdsg"]: extract_rule_spec(_rejected_eif_text(o, real_root)) for o in rejected
    }
    assert {t for t, spec in found.items() if spec} == XML_REJECTED_EXTRACTED
    assert found["XVIII-9"] is not None and found["XVIII-9"]["threshold"] == 22


def test_xml_examples(xml_outcomes: list[Any]) -> None:
    paris, tpnw = _spec(xml_outcomes, "XXVII-7-d"), _spec(xml_outcomes, "XXVI-9")
    assert paris is None  # 55 Parties and 55 per cent of emissions: a curated rule
    assert tpnw is not None
    assert (tpnw["threshold"], tpnw["delay"], tpnw["citation"]) == (
        50,
        {"days": 90},
        "article 15(1)",
    )
    fctc = _spec(xml_outcomes, "IX-4")
    assert fctc is not None and fctc["reio"] == "not_additional"
    assert fctc["counts"] == FOUR + ["formal_confirmation"]
    hague = _spec(xml_outcomes, "X-13")  # "the expiration of one year from"
    assert hague is not None and hague["delay"] == {"first_of_month_after_months": 12}
    assert _spec(xml_outcomes, "XII-2") is not None and _spec(xml_outcomes, "XII-2")["later"] == {
        "days": 90
    }


def test_every_real_spec_builds_a_rule(html_outcomes: list[Any], xml_outcomes: list[Any]) -> None:
    specs = {**_extracted(xml_outcomes), **_extracted(html_outcomes)}
    assert specs
    for treaty, spec in specs.items():
        rule = rule_from_spec(treaty, spec, origin="extracted")
        assert rule.threshold == spec["threshold"] and rule.citation, treaty
        assert spec["notes"].startswith("extracted from: "), treaty
