"""Fetch faults are failures, never "unchanged", and every page a crawl asked for is accounted for.

Real `tracker crawl` subprocesses (Scrapy) against a real HTTP server on 127.0.0.1 whose answers
the tests replace (tests/support/fetch_faults.py), and a real database.
"""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from support.fetch_faults import (
    InTurn,
    Validating,
    crawl,
    crawl_env,
    hang,
    redirect,
    reset_mid_body,
    send,
    status_body,
    target,
    tracker,
)

from db.models import Quarantine, Snapshot, Source
from tracker.devtools.mirror import build_mirror, serve
from tracker.sources.untc.mirror import RecordedPage, chapter_page, index_page, untc_site
from tracker.sources.untc.urls import chapter_url, index_url

pytestmark = [pytest.mark.db, pytest.mark.slow]

T = "XXVI-9"


def source_row(session_factory) -> Source:
    with session_factory() as session:
        return session.scalars(select(Source).where(Source.slug == "untc")).one()


def snapshots(session_factory) -> list[Snapshot]:
    with session_factory() as session:
        return list(session.scalars(select(Snapshot).order_by(Snapshot.id)))


def mirror_of(tmp_path, *treaties: str):
    return build_mirror(
        tmp_path / "mirror",
        untc_site([RecordedPage(t, status_body(t), f"Treaty {t}") for t in treaties]),
    )


def assert_failed_not_unchanged(
    result, session_factory, good_success, reason_part, *, exception=True
):
    """The page is a failed fetch: not unchanged, no cached copy served, last success kept."""
    s = result.summary
    assert result.returncode != 0, s
    assert (s["asked"], s["failed"], s["unchanged"], s["accepted"]) == (1, 1, 0, 0), s
    assert s["revalidated"] == 0 and s["not_modified"] == 0, s
    if exception:  # a download error while a cached copy was there: the copy was refused
        assert s["cache"]["errorrecovery_refused"] >= 1, s
    else:  # an error answer while a cached copy was there: not replaced by it
        assert s["cache"]["invalidate"] >= 1, s
    assert s["ok"] is False and s["pages"] == 1
    result.assert_balanced()
    assert reason_part in result.problem(T)["reason"].lower(), result.problem(T)
    row = source_row(session_factory)
    assert row.last_success_at == good_success
    assert row.last_crawl["ok"] is False
    assert len(snapshots(session_factory)) == 1


def test_a_timeout_or_a_reset_with_a_cached_copy_is_a_failed_fetch(
    cli_env, tmp_path, session_factory
):
    env = crawl_env(cli_env, tmp_path / "data", TRACKER_DOWNLOAD_TIMEOUT="1")
    with serve(mirror_of(tmp_path, T)) as server:
        first = crawl(env, server.base_url, T)
        assert (first.returncode, first.summary["accepted"]) == (0, 1), first
        assert first.summary["cache"]["store"] == 1  # the copy that must not stand in later
        good = source_row(session_factory).last_success_at
        assert good is not None

        server.respond(target(T), hang(4))
        timed_out = crawl(env, server.base_url, T)
        assert_failed_not_unchanged(timed_out, session_factory, good, "took longer than")

        server.respond(target(T), reset_mid_body(status_body(T)))
        reset = crawl(env, server.base_url, T)
        assert_failed_not_unchanged(reset, session_factory, good, "")


def test_a_refused_connection_with_a_cached_copy_is_a_failed_fetch_until_the_site_is_back(
    cli_env, tmp_path, session_factory
):
    env = crawl_env(cli_env, tmp_path / "data")
    mirror = mirror_of(tmp_path, T)
    with serve(mirror) as server:
        base = server.base_url
        assert crawl(env, base, T).returncode == 0
    good = source_row(session_factory).last_success_at

    refused = crawl(env, base, T)  # nothing listens on that port any more
    assert_failed_not_unchanged(refused, session_factory, good, "refused")

    with serve(mirror, port=urlsplit(base).port or 0) as server:  # the same site, back
        back = crawl(env, server.base_url, T)
    s = back.summary
    assert back.returncode == 0 and (s["unchanged"], s["revalidated"], s["not_modified"]) == (
        1,
        1,
        1,
    )
    assert source_row(session_factory).last_success_at > good


def test_redirects_that_cannot_lead_to_the_page_fail_it_with_their_reason(
    cli_env, tmp_path, session_factory
):
    env = crawl_env(cli_env, tmp_path / "data")
    treaties = [f"XXVI-{n}" for n in range(1, 8)]
    with serve(mirror_of(tmp_path, *treaties)) as server:
        base = server.base_url
        other_host = base.replace("127.0.0.1", "localhost")
        server.respond(target("XXVI-1"), redirect(base + target("XXVI-1")))  # to itself
        server.respond(target("XXVI-2"), redirect("/Pages/B.aspx"))  # A -> B -> A
        server.respond("/Pages/B.aspx", redirect(base + target("XXVI-2"), 301))
        server.respond(target("XXVI-3"), redirect(other_host + target("XXVI-3")))
        server.respond(target("XXVI-4"), redirect("/Pages/Endless.aspx?n=0"))

        def endless(handler):
            if not handler.path.startswith("/Pages/Endless.aspx"):
                return False
            n = int(handler.path.rsplit("=", 1)[1])
            return send(handler, 302, b"", {"Location": f"/Pages/Endless.aspx?n={n + 1}"})

        server.respond("*", endless)
        # Two pages redirected to one URL: the second is a duplicate the scheduler drops.
        server.respond(target("XXVI-5"), redirect("/Pages/Same.aspx"))
        server.respond(target("XXVI-6"), redirect("/Pages/Same.aspx"))
        server.respond("/Pages/Same.aspx", lambda h: send(h, 200, status_body("XXVI-5")))
        # A redirect on the same site to the page itself is followed.
        server.respond(target("XXVI-7"), redirect("/Pages/Moved.aspx", 301))
        server.respond("/Pages/Moved.aspx", lambda h: send(h, 200, status_body("XXVI-7")))
        result = crawl(env, base, *treaties)

    s = result.summary
    assert result.returncode != 0 and s["ok"] is False
    result.assert_balanced()
    assert (s["asked"], s["pages"]) == (7, 7), s
    assert "redirect loop" in result.problem("XXVI-1&")["reason"]
    loop = result.problem("XXVI-2&")["reason"]
    assert "redirect loop" in loop and "/Pages/B.aspx" in loop
    assert "redirect to another host" in result.problem("XXVI-3&")["reason"]
    assert "too many redirects" in result.problem("XXVI-4&")["reason"]
    pair = [p for p in s["problems"] if "XXVI-5&" in p["page"] or "XXVI-6&" in p["page"]]
    dropped = [p for p in pair if p["detail"] == "dropped"]
    assert len(dropped) == 1 and "already requested" in dropped[0]["reason"], pair
    assert not [p for p in s["problems"] if "XXVI-7&" in p["page"]]
    with_7 = [snap for snap in snapshots(session_factory) if snap.url.endswith("/Moved.aspx")]
    assert len(with_7) == 1
    # 1-4 and the dropped one failed; of 5 and 6 the one that reached Same.aspx is ingested.
    assert s["failed"] == 5 and s["accepted"] + s["quarantined"] == 2, s
    row = source_row(session_factory)
    assert row.last_success_at is None and row.last_crawl["failed"] == 5


def test_without_the_redirect_guard_the_ledger_still_counts_dropped_and_lost_pages(
    cli_env, tmp_path
):
    """Scrapy's own redirect handling drops a redirect to the page itself (duplicate filter)
    and a redirect to another host (offsite filter) without calling any errback: Scrapy's
    signals still settle the first as failed, and the second ends as failed "lost"."""
    env = crawl_env(cli_env, tmp_path / "data")
    summary_file = tmp_path / "summary.json"
    from spiders import settings as project

    stock = {
        **project.DOWNLOADER_MIDDLEWARES,
        "spiders.middlewares.GuardedRedirectMiddleware": None,
        "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": 600,
    }
    with serve(mirror_of(tmp_path, "XXVI-1", "XXVI-3", "XXVI-8")) as server:
        base = server.base_url
        server.respond(target("XXVI-1"), redirect(base + target("XXVI-1")))
        offsite = base.replace("127.0.0.1", "localhost") + target("XXVI-3")
        server.respond(target("XXVI-3"), redirect(offsite))
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "scrapy",
                "crawl",
                "untc",
                "-a",
                "treaty=XXVI-1,XXVI-3,XXVI-8",
                "-s",
                f"TRACKER_SUMMARY_FILE={summary_file}",
                "-s",
                f"DOWNLOADER_MIDDLEWARES={json.dumps(stock)}",
            ],
            env={
                **env,
                "SCRAPY_SETTINGS_MODULE": "spiders.settings",
                "TRACKER_UNTC_BASE_URL": base,
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr  # scrapy itself; `tracker crawl` judges the summary
    s = json.loads(summary_file.read_text())
    assert (s["asked"], s["accepted"], s["failed"], s["balanced"]) == (3, 1, 2, True), s
    by_page = {p["page"].split("mtdsg_no=")[1].split("&")[0]: p for p in s["problems"]}
    assert by_page["XXVI-1"]["detail"] == "dropped"
    assert by_page["XXVI-3"]["detail"] == "lost" and s["lost"] == 1
    assert offsite in by_page["XXVI-3"]["reason"] and "never sent" in by_page["XXVI-3"]["reason"]
    assert s["lost_urls"] == [offsite]
    assert s["ok"] is False and "1 lost" in s["error"]


def test_every_catalogue_page_is_accounted_for(cli_env, tmp_path):
    env = crawl_env(cli_env, tmp_path / "data")
    with serve(mirror_of(tmp_path, "XXVI-9", "IV-4")) as server:
        base = server.base_url
        chapter_26 = chapter_url(base, 26)[len(base) :]
        server.respond(chapter_26, redirect(base.replace("127.0.0.1", "localhost") + chapter_26))
        result = crawl(env, base)
        line = tracker(env, "crawl", "--source", "untc", "--base-url", base)
    s = result.summary
    result.assert_balanced()
    assert result.returncode != 0
    assert s["by_kind"]["index"] == {
        "asked": 1,
        "accepted": 1,
        "unchanged": 0,
        "quarantined": 0,
        "failed": 0,
    }
    assert s["by_kind"]["chapter"]["asked"] == 2 and s["by_kind"]["chapter"]["failed"] == 1
    assert s["by_kind"]["status"] == {
        "asked": 1,
        "accepted": 1,
        "unchanged": 0,
        "quarantined": 0,
        "failed": 0,
    }
    assert "redirect to another host" in result.problem("id=26")["reason"]
    assert (s["asked"], s["accepted"], s["failed"]) == (4, 3, 1), s
    # The same accounting on the command line; the second time the pages that were accepted
    # are revalidated (304): 4 pages = 0 accepted + 3 unchanged + 1 failed.
    assert "crawl untc: 4 pages, 0 accepted, 3 unchanged, 0 quarantined, 1 failed" in line.stdout, (
        line.stdout + line.stderr
    )
    assert line.returncode != 0 and "not ok: 0 quarantined, 1 failed" in line.stdout


def test_an_empty_catalogue_index_or_no_status_page_exits_non_zero(
    cli_env, tmp_path, session_factory
):
    env = crawl_env(cli_env, tmp_path / "data")
    with serve(mirror_of(tmp_path, T)) as server:
        base = server.base_url
        index = Validating(index_page([]))
        server.respond(index_url(base)[len(base) :], index)
        empty = crawl(env, base)
        s = empty.summary
        assert empty.returncode != 0 and s["ok"] is False and s["index_empty"] is True
        assert (s["asked"], s["quarantined"], s["pages"]) == (1, 1, 0), s
        assert "catalogue index empty" in s["error"] and "no status pages" in s["error"]
        assert s["cache"]["rejected"] == 1 and s["cache"]["store"] == 0
        with session_factory() as session:
            kept = session.scalars(select(Quarantine)).one()
            assert kept.kind == "rejected_page" and "no chapter links" in kept.reason

        # A chapter that lists no treaty: no status page at all, not a good crawl either.
        index.set(index_page([26]))
        server.respond(
            chapter_url(base, 26)[len(base) :], lambda h: send(h, 200, chapter_page(26, []))
        )
        no_treaty = crawl(env, base)
        s = no_treaty.summary
        assert no_treaty.returncode != 0 and (s["pages"], s["quarantined"]) == (0, 1), s
        assert "no treaty links" in no_treaty.problem("id=26")["reason"]
        assert index.seen.requests[1]["if_none_match"] is None  # the empty index was not cached

        server.respond(chapter_url(base, 26)[len(base) :], None)
        good = crawl(env, base)
        s = good.summary
        assert good.returncode == 0 and (s["asked"], s["pages"]) == (3, 1), s
        # The good index was stored once accepted (last crawl): now a 304. The quarantined
        # chapter page was not stored: fetched in full and accepted.
        assert index.seen.requests[-1]["if_none_match"] == index.etag
        assert s["by_kind"]["index"]["unchanged"] == 1 and s["by_kind"]["chapter"]["accepted"] == 1


def test_a_rejected_first_answer_is_not_cached(cli_env, tmp_path, session_factory):
    env = crawl_env(cli_env, tmp_path / "data")
    page = Validating(b"")  # an empty 200 carrying an ETag and a Last-Modified
    with serve(mirror_of(tmp_path, T)) as server:
        server.respond(target(T), page)
        first = crawl(env, server.base_url, T)
        assert first.returncode != 0 and first.summary["quarantined"] == 1
        assert first.summary["cache"] == {**first.summary["cache"], "store": 0, "rejected": 1}

        page.set(status_body(T))
        second = crawl(env, server.base_url, T)
        assert page.seen.requests[-1]["if_none_match"] is None  # nothing was cached
        assert page.seen.requests[-1]["if_modified_since"] is None
        assert second.returncode == 0 and second.summary["accepted"] == 1
    assert len(snapshots(session_factory)) == 1


def test_a_rejected_response_is_never_cached_so_a_later_304_cannot_serve_it(
    cli_env, tmp_path, session_factory
):
    env = crawl_env(cli_env, tmp_path / "data")
    page = Validating(status_body(T))
    with serve(mirror_of(tmp_path, T)) as server:
        server.respond(target(T), page)
        assert crawl(env, server.base_url, T).summary["accepted"] == 1
        good_etag = page.etag

        page.set(b"", etag='"empty"')  # the server now answers an empty 200 with its own ETag
        empty = crawl(env, server.base_url, T)
        assert empty.returncode != 0 and empty.summary["quarantined"] == 1
        assert empty.summary["cache"]["rejected"] == 1 and empty.summary["cache"]["store"] == 0

        page.set(status_body(T), etag=good_etag)  # the good page is back, unchanged
        back = crawl(env, server.base_url, T)
        # The validators sent are the accepted page's, never the empty page's: the server's
        # 304 confirms the good copy, and no one can re-serve the empty one.
        assert page.seen.requests[-1]["if_none_match"] == good_etag
        s = back.summary
        assert back.returncode == 0 and (s["unchanged"], s["revalidated"]) == (1, 1), s
    assert len(snapshots(session_factory)) == 1


def test_a_304_naming_another_etag_does_not_confirm_the_cached_copy(
    cli_env, tmp_path, session_factory
):
    env = crawl_env(cli_env, tmp_path / "data")
    page = Validating(status_body(T))
    with serve(mirror_of(tmp_path, T)) as server:
        base = server.base_url
        server.respond(target(T), page)
        assert crawl(env, base, T).returncode == 0
        old_etag = page.etag

        page.set(status_body(T, "Brazil"))  # the page changed...
        page.bad_304 = True  # ...but the server answers 304 (with the new ETag) to the old one
        changed = crawl(env, base, T)
        s = changed.summary
        assert changed.returncode == 0 and (s["accepted"], s["unchanged"]) == (1, 0), s
        assert s["cache"]["etag_mismatch"] == 1
        asked = page.seen.requests[-2:]
        assert [r["if_none_match"] for r in asked] == [old_etag, None]  # fetched again, plainly
        assert len(snapshots(session_factory)) == 2  # the change is seen, not hidden by the copy

        page.bad_304 = False
        assert crawl(env, base, T).summary["unchanged"] == 1  # the new copy is the cached one
    assert len(snapshots(session_factory)) == 2


def test_a_304_to_a_request_without_validators_is_a_failed_fetch(
    cli_env, tmp_path, session_factory
):
    env = crawl_env(cli_env, tmp_path / "data")
    with serve(mirror_of(tmp_path, T)) as server:
        assert crawl(env, server.base_url, T).returncode == 0
        nonsense = InTurn(lambda h: send(h, 304, b"", {"ETag": '"nonsense"'}))
        server.respond(target(T), nonsense)
        broken = crawl(env, server.base_url, T)
    assert broken.returncode != 0 and broken.summary["failed"] == 1
    assert broken.summary["cache"]["etag_mismatch"] == 1
    assert "HTTP 304" in broken.problem(T)["reason"]
    assert [r["if_none_match"] is None for r in nonsense.seen.requests] == [False, True]
    assert len(snapshots(session_factory)) == 1


def test_a_server_with_only_last_modified_is_revalidated_with_if_modified_since(
    cli_env, tmp_path, session_factory
):
    env = crawl_env(cli_env, tmp_path / "data")
    page = Validating(status_body(T), etag=False)
    with serve(mirror_of(tmp_path, T)) as server:
        server.respond(target(T), page)
        assert crawl(env, server.base_url, T).summary["accepted"] == 1
        same = crawl(env, server.base_url, T)
        sent = page.seen.requests[-1]
        assert sent["if_none_match"] is None and sent["if_modified_since"] is not None
        s = same.summary
        assert same.returncode == 0 and (s["unchanged"], s["revalidated"], s["not_modified"]) == (
            1,
            1,
            1,
        ), s
        page.set(status_body(T, "Brazil"))  # modified later: a full answer
        changed = crawl(env, server.base_url, T)
        assert changed.returncode == 0 and changed.summary["accepted"] == 1
        assert changed.summary["revalidated"] == 0
    assert len(snapshots(session_factory)) == 2


def test_retry_after_is_honoured_up_to_its_cap(cli_env, tmp_path):
    env = crawl_env(
        cli_env, tmp_path / "data", TRACKER_RETRY_TIMES="2", TRACKER_RETRY_AFTER_MAX="4"
    )
    import email.utils
    import time

    with serve(mirror_of(tmp_path, "XXVI-1", "XXVI-2", "XXVI-3")) as server:
        ok_1 = lambda h: send(h, 200, status_body("XXVI-1"))
        ok_2 = lambda h: send(h, 200, status_body("XXVI-2"))
        seconds = InTurn(lambda h: send(h, 503, b"busy", {"Retry-After": "3"}), ok_1)
        server.respond(target("XXVI-1"), seconds)

        def dated(handler):
            when = email.utils.formatdate(time.time() + 2, usegmt=True)
            return send(handler, 429, b"slow down", {"Retry-After": when})

        date = InTurn(dated, ok_2)
        server.respond(target("XXVI-2"), date)
        too_long = InTurn(lambda h: send(h, 503, b"back tomorrow", {"Retry-After": "86400"}))
        server.respond(target("XXVI-3"), too_long)
        result = crawl(env, server.base_url, "XXVI-1", "XXVI-2", "XXVI-3")

    s = result.summary
    assert (s["accepted"], s["failed"]) == (2, 1), s
    assert result.returncode != 0
    first, again = seconds.seen.requests
    # Waited what the server asked (3 s), not the exponential backoff (2 s +-20%)...
    assert again["at"] - first["at"] >= 2.95
    first, again = date.seen.requests
    assert again["at"] - first["at"] >= 0.95  # ...and until the HTTP-date (1-2 s away)
    assert len(too_long.seen.requests) == 1  # above the cap: given up at once, not retried
    reason = result.problem("XXVI-3&")["reason"]
    assert "HTTP 503" in reason and "above the cap of 4 s" in reason
    assert s["retries"]["retry_after"] == 2 and s["retries"]["retry_after_over_cap"] == 1
    assert result.seconds < 60


def test_a_server_error_or_an_oversized_answer_with_a_cached_copy_is_a_failed_fetch(
    cli_env, tmp_path, session_factory
):
    env = crawl_env(cli_env, tmp_path / "data")
    with serve(mirror_of(tmp_path, T)) as server:
        assert crawl(env, server.base_url, T).returncode == 0
        good = source_row(session_factory).last_success_at
        server.respond(target(T), lambda h: send(h, 503, b"Service Unavailable"))
        down = crawl(env, server.base_url, T)
        assert_failed_not_unchanged(down, session_factory, good, "http 503", exception=False)
        assert down.summary["cache"]["store"] == 0

        big = status_body(T, *(f"State {n}" for n in range(200)))
        server.respond(target(T), lambda h: send(h, 200, big))
        limit = str(len(big) // 2)
        oversized = crawl(env, server.base_url, T, TRACKER_MAX_RESPONSE_SIZE=limit)
    s = oversized.summary
    assert oversized.returncode != 0 and (s["failed"], s["unchanged"], s["accepted"]) == (
        1,
        0,
        0,
    ), s
    assert source_row(session_factory).last_success_at == good
    assert len(snapshots(session_factory)) == 1


def test_a_page_older_than_what_is_stored_counts_as_quarantined_out_of_order(
    cli_env, tmp_path, session_factory
):
    """A status page observed before the latest snapshot (here: an archive ingested with a later
    observation date) is kept as out of order: quarantined in the four-way sum, shown apart."""
    env = crawl_env(cli_env, tmp_path / "data")
    archive = tmp_path / "archive.html"
    archive.write_bytes(status_body(T, "Brazil"))
    ingested = tracker(
        env, "ingest", "--source", "untc", "--observed-at", "2099-01-01", str(archive)
    )
    assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    with serve(mirror_of(tmp_path, T)) as server:
        result = crawl(env, server.base_url, T)
        line = tracker(env, "crawl", "--base-url", server.base_url, "--treaty", T)
    s = result.summary
    assert result.returncode != 0 and (s["quarantined"], s["rejected"], s["asked"]) == (1, 1, 1), s
    assert result.problem(T)["detail"] == "rejected" and "older than" in result.problem(T)["reason"]
    assert "1 page, 0 accepted, 0 unchanged, 1 quarantined, 0 failed" in line.stdout
    assert "1 out of order" in line.stdout and line.returncode != 0
