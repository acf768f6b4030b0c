"""The spider navigates (index -> chapters -> status pages) and hands raw bytes over, unparsed."""

import asyncio

from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from spiders.items import FetchFailure, NavigationPage, PageItem
from spiders.untc import UntcSpider
from tracker.sources.untc.mirror import chapter_page, index_page

BASE = "http://127.0.0.1:9"


def make_spider(**kwargs):
    crawler = get_crawler(UntcSpider, settings_dict={"BASE_URLS": {"untc": BASE}})
    return UntcSpider.from_crawler(crawler, **kwargs)


def collect_start(spider):
    async def run():
        return [r async for r in spider.start()]

    return asyncio.run(run())


def test_without_treaties_it_starts_at_the_catalogue():
    (request,) = collect_start(make_spider())
    assert request.url == BASE + "/Pages/ParticipationStatus.aspx?clang=_en"


def test_given_treaties_it_requests_exactly_their_status_pages():
    requests = collect_start(make_spider(treaty="XXVI-9,IV-4"))
    assert [r.url for r in requests] == [
        BASE + "/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-9&chapter=26&clang=_en",
        BASE + "/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=IV-4&chapter=4&clang=_en",
    ]
    assert [r.meta["treaty"] for r in requests] == ["XXVI-9", "IV-4"]


def test_xml_format_requests_the_mtdsg_files():
    (request,) = collect_start(make_spider(treaty="XXVI-9", format="xml"))
    assert request.url == BASE + "/doc/Publication/MTDSG/Volume%20II/Chapter%20XXVI/XXVI-9.en.xml"


def split(output):
    output = list(output)
    requests = [o for o in output if isinstance(o, Request)]
    (navigation,) = [o for o in output if isinstance(o, NavigationPage)]
    assert len(requests) + 1 == len(output)
    return requests, navigation


def test_index_and_chapter_pages_are_followed_by_link_form():
    spider = make_spider()
    index = HtmlResponse(
        BASE + "/Pages/ParticipationStatus.aspx?clang=_en", body=index_page([26, 4])
    )
    requests, navigation = split(spider.parse_index(index))
    chapters = [r.url for r in requests]
    assert chapters == [
        BASE + "/Pages/Treaties.aspx?id=4&subid=A&clang=_en",
        BASE + "/Pages/Treaties.aspx?id=26&subid=A&clang=_en",
    ]
    assert [r.meta["tracker_kind"] for r in requests] == ["chapter", "chapter"]
    assert (navigation.kind, navigation.outcome) == ("index", "accepted")
    page = chapter_page(26, [("XXVI-9", "TPNW"), ("XXVI-8", "ATT"), ("XXVI-9", "TPNW again")])
    chapter = HtmlResponse(chapters[1], body=page)
    requests, navigation = split(spider.parse_chapter(chapter))
    assert [r.meta["treaty"] for r in requests] == ["XXVI-9", "XXVI-8"]  # duplicates followed once
    assert [r.meta["tracker_page"] for r in requests] == [r.url for r in requests]
    assert (navigation.kind, navigation.outcome) == ("chapter", "accepted")
    # The same chapter again: every treaty already asked for, still a good chapter page.
    requests, navigation = split(spider.parse_chapter(chapter))
    assert requests == [] and navigation.outcome == "accepted"


def test_a_catalogue_page_without_links_is_quarantined_not_followed():
    spider = make_spider()
    index = HtmlResponse(BASE + "/Pages/ParticipationStatus.aspx?clang=_en", body=index_page([]))
    requests, navigation = split(spider.parse_index(index))
    assert requests == [] and navigation.outcome == "quarantined"
    assert "no chapter links" in navigation.reason and navigation.body == index.body
    assert spider.crawler.stats.get_value("tracker/index_empty") == 1
    chapter = HtmlResponse(BASE + "/Pages/Treaties.aspx?id=26&subid=A&clang=_en", body=b"<html/>")
    requests, navigation = split(spider.parse_chapter(chapter))
    assert requests == [] and navigation.outcome == "quarantined"
    assert "no treaty links" in navigation.reason


def test_status_page_is_passed_on_raw_with_the_treaty_asked_for():
    spider = make_spider()
    body = b"<html>anything at all, even a maintenance page</html>"
    response = HtmlResponse(
        BASE + "/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-9&chapter=26&clang=_en",
        body=body,
        headers={"Content-Type": "text/html; charset=utf-8"},
        request=Request(BASE + "/x", meta={"treaty": "XXVI-9"}),
    )
    (item,) = spider.parse_status(response, treaty="XXVI-9")
    assert isinstance(item, PageItem)
    assert item.body == body and item.expected_treaty == "XXVI-9"
    assert item.fetched_at.endswith("+00:00")


def test_a_failed_fetch_becomes_a_failure_item_not_a_page():
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.python.failure import Failure

    spider = make_spider()
    request = Request(
        BASE + "/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=IV-4&chapter=4", meta={"treaty": "IV-4"}
    )
    response = HtmlResponse(request.url, status=503, body=b"Service Unavailable", request=request)
    failure = Failure(HttpError(response, "Ignoring non-200 response"))
    failure.request = request
    (item,) = spider.fetch_failed(failure)
    assert isinstance(item, FetchFailure)
    assert item.reason.startswith("HTTP 503") and item.expected_treaty == "IV-4"
    assert item.body == b"Service Unavailable"


def test_malformed_treaty_id_fails_fast():
    import pytest

    from tracker.sources.untc.urls import BadTreatyId

    with pytest.raises(BadTreatyId):
        make_spider(treaty="not-a-treaty")


def test_a_failed_fetch_says_what_failed_in_one_line():
    from twisted.internet.error import ConnectionDone, ConnectionRefusedError
    from twisted.python.failure import Failure
    from twisted.web._newclient import ResponseNeverReceived

    from spiders.untc import failure_reason

    never = Failure(ResponseNeverReceived([Failure(ConnectionDone())]))
    assert failure_reason(never) == (
        "ResponseNeverReceived (ConnectionDone: Connection was closed cleanly.)"
    )
    refused = Failure(ConnectionRefusedError("111: Connection refused"))
    assert (
        failure_reason(refused) == "Connection was refused by other side: 111: Connection refused."
    )


def test_a_chapter_with_sub_chapters_is_walked_through_every_sub_chapter():
    spider = make_spider()
    index = HtmlResponse(BASE + "/Pages/ParticipationStatus.aspx?clang=_en", body=index_page([11]))
    (chapter_request,), _ = split(spider.parse_index(index))
    assert chapter_request.url == BASE + "/Pages/Treaties.aspx?id=11&subid=A&clang=_en"
    subs = ["A", "B", "E"]
    # The chapter's first page lists sub-chapter A's treaties and links every sub-chapter.
    page_a = chapter_page(11, [("XI-A-16", "TIR"), ("XI-A-2", "Touring")], "A", subs)
    a = HtmlResponse(chapter_request.url, body=page_a, request=chapter_request)
    requests, navigation = split(chapter_request.callback(a, **chapter_request.cb_kwargs))
    status = [r for r in requests if r.meta["tracker_kind"] == "status"]
    follow = [r for r in requests if r.meta["tracker_kind"] == "subchapter"]
    assert [r.meta["treaty"] for r in status] == ["XI-A-16", "XI-A-2"]
    assert status[0].url == (
        BASE + "/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XI-A-16&chapter=11&clang=_en"
    )
    assert [r.url for r in follow] == [
        BASE + "/Pages/Treaties.aspx?id=11&subid=B&clang=_en",
        BASE + "/Pages/Treaties.aspx?id=11&subid=E&clang=_en",
    ]  # A is the page itself: not asked for twice
    assert (navigation.kind, navigation.outcome) == ("chapter", "accepted")
    # A sub-chapter page: its treaties, no sub-chapter asked for again.
    b_request = follow[0]
    b = HtmlResponse(
        b_request.url,
        body=chapter_page(11, [("XI-B-19", "Road traffic"), ("XI-A-16", "TIR")], "B", subs),
        request=b_request,
    )
    requests, navigation = split(b_request.callback(b, **b_request.cb_kwargs))
    assert [r.meta["treaty"] for r in requests] == ["XI-B-19"]  # XI-A-16 was asked for
    assert (navigation.kind, navigation.outcome, navigation.page) == (
        "subchapter",
        "accepted",
        b_request.url,
    )


def test_sub_chapter_links_of_another_chapter_are_not_followed():
    spider = make_spider()
    page = chapter_page(26, [("XXVI-9", "TPNW")]) + (
        b'<a href="Treaties.aspx?id=11&amp;subid=B&amp;clang=_en">XI B</a>'
    )
    response = HtmlResponse(BASE + "/Pages/Treaties.aspx?id=26&subid=A&clang=_en", body=page)
    requests, _ = split(spider.parse_chapter(response))
    assert [r.meta["tracker_kind"] for r in requests] == ["status"]


def test_a_sub_chapter_page_without_treaties_is_quarantined_even_with_its_sub_chapter_links():
    spider = make_spider()
    url = BASE + "/Pages/Treaties.aspx?id=11&subid=C&clang=_en"
    # Only the sub-chapter navigation is left: that is not "sub-chapter C has no treaties".
    response = HtmlResponse(url, body=chapter_page(11, [], "C", ["A", "B", "C"]))
    requests, navigation = split(spider.parse_chapter(response, chapter=11, subchapter="C"))
    assert [r.url for r in requests] == [
        BASE + "/Pages/Treaties.aspx?id=11&subid=A&clang=_en",
        BASE + "/Pages/Treaties.aspx?id=11&subid=B&clang=_en",
    ]
    assert (navigation.kind, navigation.outcome) == ("subchapter", "quarantined")
    assert navigation.reason == "no treaty links on the subchapter page: layout change?"
    assert navigation.body == response.body
