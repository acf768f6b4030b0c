"""`tracker crawl --format html|xml`: the format reaches the crawl, sources without it are left out
or refused, and the crawl's line names a format other than the source's default."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tracker.cli import main
from tracker.runtime.crawl_report import CrawlReport
from tracker.sources import registry

pytestmark = pytest.mark.db


@dataclass
class FakeReport:
    returncode: int = 0
    stats: dict = field(default_factory=lambda: {"recorded": True})
    error: str | None = None
    stopped: str | None = None

    def summary(self) -> str:
        return "crawled"


@pytest.fixture
def calls(monkeypatch, settings):
    import tracker.runtime.crawl_runner

    monkeypatch.setenv("TRACKER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DATA_DIR", str(settings.data_dir))
    found: list[dict] = []
    monkeypatch.setattr(
        tracker.runtime.crawl_runner,
        "run_crawl",
        lambda settings, **kw: found.append(kw) or FakeReport(),
    )
    return found


def test_the_format_reaches_the_crawl(calls, capsys):
    assert main(["crawl", "--format", "xml", "--treaty", "XXVI-9"]) == 0
    assert calls == [{"treaties": ["XXVI-9"], "base_url": None, "fmt": "xml", "source": "untc"}]
    calls.clear()
    assert main(["crawl", "--source", "untc"]) == 0  # no --format: the source's default
    assert "fmt" not in calls[0]


def test_without_source_only_the_sources_with_that_format_are_crawled(calls, capsys):
    assert registry.get("untc").formats == ("html", "xml")
    assert registry.get("wipo").formats == ("html",)
    assert main(["crawl", "--format", "xml"]) == 0
    assert [c["source"] for c in calls] == ["untc"]
    calls.clear()
    assert main(["crawl", "--format", "html"]) == 0
    assert [c["source"] for c in calls] == ["untc", "wipo"]
    calls.clear()
    capsys.readouterr()
    assert main(["crawl", "--source", "wipo", "--format", "xml"]) == 2
    assert main(["crawl", "--treaty", "WIPO-843", "--format", "xml"]) == 2  # the id names wipo
    assert calls == []
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["tracker crawl: no xml pages to crawl (wipo: html)"] * 2


def test_the_crawl_line_names_a_format_other_than_the_default():
    stats = {"source": "untc", "asked": 1, "unchanged": 1, "pages": 1}
    assert (
        CrawlReport(0, {**stats, "format": "xml"})
        .summary()
        .startswith("crawl untc (xml): 1 page, 0 accepted, 1 unchanged")
    )
    assert CrawlReport(0, {**stats, "format": "html"}).summary().startswith("crawl untc: 1 page")
    assert CrawlReport(0, stats).summary().startswith("crawl untc: 1 page")


def test_run_crawl_refuses_a_format_the_source_has_not(settings):
    from tracker.runtime.crawl_runner import run_crawl

    with pytest.raises(ValueError, match="untc pages come in html, xml, not pdf"):
        run_crawl(settings, source="untc", fmt="pdf")
