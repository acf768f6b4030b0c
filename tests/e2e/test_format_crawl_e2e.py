"""End to end: `tracker crawl --format xml` on the loopback mirror, then the HTML of the same
treaties as cross-checks (agreeing: unchanged; disagreeing: quarantined, no event, the source
unhealthy). Real subprocesses, a real HTTP server on 127.0.0.1 and a real database."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest
from support.untc_render import Page, Row, render, render_xml

from tracker.devtools.mirror import build_mirror, serve
from tracker.sources.untc.mirror import RecordedPage, untc_site

pytestmark = [pytest.mark.db, pytest.mark.slow]

TPNW = "XXVI-9"
PARIS = "XXVII-7-d"


def tpnw(austria: date = date(2018, 5, 8)) -> Page:
    rows = [
        Row("Algeria", signature=date(2017, 9, 20)),
        Row("Austria", signature=date(2017, 9, 20), consent=austria),
        Row("Cook Islands", consent=date(2018, 9, 4), letter="a"),
    ]
    return Page(TPNW, "Treaty on the Prohibition of Nuclear Weapons", rows)


def paris() -> Page:
    rows = [
        Row("Denmark", signature=date(2016, 4, 22), consent=date(2016, 11, 1), letter="AA"),
        Row("Morocco", signature=date(2016, 4, 22), consent=date(2016, 9, 21)),
    ]
    return Page(PARIS, "Paris Agreement", rows, in_force="4 November 2016, in accordance with ...")


def tracker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracker.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def crawl_env(cli_env, tmp_path):
    return {
        **cli_env,
        "TRACKER_DATA_DIR": str(tmp_path / "data"),
        "TRACKER_DOWNLOAD_DELAY": "0",
        "TRACKER_RETRY_TIMES": "0",
        "TRACKER_LOG_LEVEL": "WARNING",
    }


def site(tpnw_html: Page) -> list[tuple[str, bytes, str]]:
    """TPNW in both formats (the HTML as given), the Paris Agreement as XML only."""
    return untc_site(
        [
            RecordedPage(TPNW, render(tpnw_html), "TPNW"),
            RecordedPage(TPNW, render_xml(tpnw()), "TPNW", fmt="xml"),
            RecordedPage(PARIS, render_xml(paris()), "Paris Agreement", fmt="xml"),
        ]
    )


def test_crawl_format_xml_then_the_html_cross_checks(crawl_env, tmp_path):
    with serve(build_mirror(tmp_path / "m1", site(tpnw()))) as server:
        first = tracker(
            crawl_env, "crawl", "--source", "untc", "--format", "xml", "--base-url",
            server.base_url, "--json",
        )  # fmt: skip
        summary = json.loads(first.stdout)
        assert first.returncode == 0, first.stdout + first.stderr
        # The index, chapters 26 and 27, and the two XML files: every page accounted for.
        assert summary["format"] == "xml"
        assert (summary["asked"], summary["accepted"], summary["pages"]) == (5, 5, 2)
        assert summary["balanced"] is True and summary["problems"] == []
        xml_asked = [r for r in server.requests if ".en.xml" in r]
        assert len(xml_asked) == 2 and not any("ViewDetails" in r for r in server.requests)

        again = tracker(
            crawl_env, "crawl", "--source", "untc", "--format", "xml", "--treaty", PARIS,
            "--base-url", server.base_url,
        )  # fmt: skip
        assert "crawl untc (xml): 1 page, 0 accepted, 1 unchanged, 0 quarantined" in again.stdout

        # The Paris Agreement was only ever crawled as XML: its history is the XML's.
        status = json.loads(tracker(crawl_env, "status", PARIS, "--json").stdout)
        assert (status["signatories"], status["parties"]) == (2, 2)
        assert status["source_url"].endswith("XXVII-7-d.en.xml")

        # The HTML of TPNW agrees with its XML history: unchanged, nothing written.
        line = tracker(
            crawl_env, "crawl", "--source", "untc", "--treaty", TPNW, "--base-url",
            server.base_url,
        )  # fmt: skip
        assert line.returncode == 0, line.stdout + line.stderr
        assert "crawl untc: 1 page, 0 accepted, 1 unchanged, 0 quarantined, 0 failed" in (
            line.stdout
        )

    # The HTML now prints Austria's ratification a day later: a disagreement, not an event.
    with serve(build_mirror(tmp_path / "m2", site(tpnw(austria=date(2018, 5, 9))))) as server:
        bad = tracker(
            crawl_env, "crawl", "--source", "untc", "--treaty", TPNW, "--base-url",
            server.base_url, "--json",
        )  # fmt: skip
    summary = json.loads(bad.stdout)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert (summary["asked"], summary["quarantined"], summary["balanced"]) == (1, 1, True)
    (problem,) = summary["problems"]
    assert problem["reason"].startswith(
        "format disagreement: the html page says otherwise than the treaty's xml history"
    )
    assert (
        "Austria (AUT), consent: dated 8 May 2018 in the xml, 9 May 2018 in the html"
        in (problem["reason"])
    )
    history = json.loads(tracker(crawl_env, "history", TPNW, "--json").stdout)
    assert len(history["snapshots"]) == 1 and history["events"] == []
    sources = json.loads(tracker(crawl_env, "sources", "--json").stdout)
    (untc,) = [s for s in sources if s["slug"] == "untc"]
    # Unhealthy at once, as for a page that failed validation (the crawl's summary, above,
    # keeps the page's reason; the source's last error is the crawl's).
    assert untc["healthy"] is False
    assert any("a page failed validation" in r for r in untc["reasons"]), untc


def test_crawl_format_refuses_a_format_the_source_has_not(crawl_env):
    bad = tracker(crawl_env, "crawl", "--format", "pdf")
    assert bad.returncode == 2 and "invalid choice: 'pdf'" in bad.stderr
