"""The wipo spider: navigation only (the configured catalogue, or the treaties asked for), and a
real crawl of a loopback WIPO Lex mirror ingested into the database (`tracker crawl --source
wipo`, TRACKER_BASE_URLS pointing at the mirror), then `tracker status WIPO-843`."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from spiders.items import PageItem
from spiders.wipo import WipoSpider
from tests.support.wipo_render import page
from tracker.devtools.mirror import build_mirror, serve
from tracker.runtime.scheduler import build_scheduler
from tracker.settings import Settings
from tracker.sources.wipo import treaties
from tracker.sources.wipo.ids import BadTreatyId
from tracker.sources.wipo.mirror import RecordedPage, status_target, wipo_site

BASE = "http://127.0.0.1:9"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "wipo"
STATUS = BASE + "/wipolex/en/treaties/ShowResults?search_what=C&treaty_id={}"


def make_spider(**kwargs):
    crawler = get_crawler(WipoSpider, settings_dict={"BASE_URLS": {"wipo": BASE}})
    return WipoSpider.from_crawler(crawler, **kwargs)


def collect_start(spider):
    async def run():
        return [r async for r in spider.start()]

    return asyncio.run(run())


def test_without_treaties_it_asks_for_every_configured_treaty_once():
    requests = collect_start(make_spider())
    assert [r.url for r in requests] == [STATUS.format(t) for t in treaties.treaty_ids()]
    assert [r.meta["treaty"] for r in requests] == list(treaties.treaty_ids())
    assert {r.meta["tracker_kind"] for r in requests} == {"status"}


def test_given_treaties_it_requests_exactly_their_pages():
    requests = collect_start(make_spider(treaty="843,15"))
    assert [r.url for r in requests] == [STATUS.format("843"), STATUS.format("15")]
    assert [r.meta["tracker_page"] for r in requests] == [r.url for r in requests]


def test_a_malformed_treaty_id_fails_fast():
    with pytest.raises(BadTreatyId):
        make_spider(treaty="WIPO-843")


def test_the_status_page_is_passed_on_raw():
    spider = make_spider()
    body = b"<html>anything, even a maintenance page</html>"
    response = HtmlResponse(
        STATUS.format("843"),
        body=body,
        request=Request(STATUS.format("843"), meta={"treaty": "843"}),
    )
    (item,) = spider.parse_status(response, treaty="843")
    assert isinstance(item, PageItem)
    assert (item.source, item.body, item.expected_treaty) == ("wipo", body, "843")


def test_the_mirror_serves_each_page_under_its_wipo_address():
    site = wipo_site([RecordedPage("843", b"x")])
    assert site == [
        (
            "/wipolex/en/treaties/ShowResults?search_what=C&treaty_id=843",
            b"x",
            "text/html; charset=utf-8",
        )
    ]
    assert status_target("15").endswith("treaty_id=15")


def test_the_scheduler_has_a_crawl_job_for_wipo(tmp_path):
    from apscheduler.schedulers.background import BackgroundScheduler

    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    scheduler = build_scheduler(settings, BackgroundScheduler)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {"crawl:untc", "crawl:wipo"} <= set(jobs)
    assert jobs["crawl:wipo"].args[1] == "wipo"


def tracker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracker.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _one_row_page(treaty_id: str) -> bytes:
    name = treaties.name_of(treaty_id) or treaty_id
    row = ("Chile", date(2000, 1, 3), ("Ratification", date(2001, 2, 5)), date(2001, 5, 5))
    return page(treaty_id, name, "(Total Members: 1)", [row])


@pytest.mark.db
@pytest.mark.slow
def test_a_crawl_of_the_mirror_is_ingested_and_answered(cli_env, tmp_path):
    pages = [RecordedPage(t, _one_row_page(t)) for t in treaties.treaty_ids() if t != "843"]
    pages.append(RecordedPage("843", (FIXTURES / "marrakesh_few.html").read_bytes()))
    with serve(build_mirror(tmp_path / "mirror", wipo_site(pages))) as server:
        env = {
            **cli_env,
            "TRACKER_BASE_URLS": json.dumps({"wipo": server.base_url}),
            "TRACKER_DOWNLOAD_DELAY": "0",
            "TRACKER_RETRY_TIMES": "0",
            "TRACKER_LOG_LEVEL": "WARNING",
        }
        first = tracker(env, "crawl", "--source", "wipo")
        assert "crawl wipo: 26 pages, 26 accepted, 0 unchanged, 0 quarantined, 0 failed" in (
            first.stdout
        ), first.stdout + first.stderr
        assert first.returncode == 0
        # The public id names the source: no --source needed; the same page is unchanged.
        again = tracker(env, "crawl", "--treaty", "WIPO-843")
        assert "crawl wipo: 1 page, 0 accepted, 1 unchanged" in again.stdout, again.stderr
    shown = tracker(env, "status", "WIPO-843", "--json")
    assert shown.returncode == 0, shown.stderr
    answer = json.loads(shown.stdout)
    text = json.dumps(answer)
    assert "Marrakesh VIP Treaty" in text and "WIPO-843" in text
    assert "Angola" in text and "European Union (EU)" in text
    listed = tracker(env, "treaties", "--json")
    ids = [t["treaty"] for t in json.loads(listed.stdout)]
    assert ids == [f"WIPO-{t}" for t in treaties.treaty_ids()]
    lower = tracker(env, "status", "wipo-843", "--json")
    assert lower.returncode == 0 and json.loads(lower.stdout) == answer
