"""Chapter XI's sub-chapters in a real crawl: every sub-chapter page is walked and accounted for.

`tracker crawl` subprocesses (Scrapy) against a loopback mirror whose chapter XI lists sub-chapters
A, B and C (tracker.sources.untc.mirror), with a real database. A sub-chapter page that fails is
a failed page; one that lists no treaty after listing some is quarantined, not read as "none";
every crawl's sums balance (asked = accepted + unchanged + quarantined + failed, per kind too).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from support.fetch_faults import crawl, crawl_env, send, status_body, tracker

from db.models import Quarantine, Treaty
from tracker.devtools.mirror import build_mirror, serve
from tracker.sources.untc.mirror import RecordedPage, chapter_page, untc_site
from tracker.sources.untc.urls import chapter_url

pytestmark = [pytest.mark.db, pytest.mark.slow]

XI = ["XI-A-16", "XI-A-2", "XI-B-1", "XI-C-3"]
ALL = [*XI, "XXVI-9"]
SUB_B = "subid=B"


def kind(summary: dict, name: str) -> dict[str, int]:
    return summary["by_kind"][name]


def counts(
    asked: int, accepted: int = 0, unchanged: int = 0, quarantined: int = 0, failed: int = 0
):
    return {
        "asked": asked,
        "accepted": accepted,
        "unchanged": unchanged,
        "quarantined": quarantined,
        "failed": failed,
    }


def test_every_sub_chapter_is_crawled_and_each_of_its_pages_is_accounted_for(
    cli_env, tmp_path, session_factory
):
    env = crawl_env(cli_env, tmp_path / "data")
    site = untc_site([RecordedPage(t, status_body(t), f"Treaty {t}") for t in ALL])
    with serve(build_mirror(tmp_path / "mirror", site)) as server:
        base = server.base_url
        b_page = chapter_url(base, 11, "B")[len(base) :]

        # The whole catalogue: index, chapters XI and XXVI, sub-chapters B and C, 5 treaties.
        good = crawl(env, base)
        s = good.summary
        good.assert_balanced()
        assert good.returncode == 0, s
        assert (s["asked"], s["accepted"], s["pages"]) == (10, 10, 5), s
        assert kind(s, "chapter") == counts(2, accepted=2)
        assert kind(s, "subchapter") == counts(2, accepted=2)
        assert kind(s, "status") == counts(5, accepted=5)
        with session_factory() as session:
            stored = set(session.scalars(select(Treaty.external_id)))
        assert stored == set(ALL)

        # Sub-chapter B does not load: a failed page (not unchanged from the last crawl), its
        # treaty is not asked for, and the crawl is not a good one.
        server.respond(b_page, lambda h: send(h, 503, b"Service Unavailable"))
        failed = crawl(env, base)
        s = failed.summary
        failed.assert_balanced()
        assert failed.returncode != 0 and s["ok"] is False, s
        assert kind(s, "subchapter") == counts(2, unchanged=1, failed=1), s
        assert (s["asked"], s["failed"], s["pages"]) == (9, 1, 4), s
        assert "503" in failed.problem(SUB_B)["reason"]

        # Sub-chapter B answers, listing no treaty although it listed XI-B-1 before (only its
        # sub-chapter links are left): quarantined with its reason, never "B has none".
        empty = chapter_page(11, [], "B", ["A", "B", "C"])
        server.respond(b_page, lambda h: send(h, 200, empty))
        none = crawl(env, base)
        s = none.summary
        none.assert_balanced()
        assert none.returncode != 0 and s["ok"] is False, s
        assert kind(s, "subchapter") == counts(2, unchanged=1, quarantined=1), s
        assert (s["asked"], s["quarantined"], s["pages"]) == (9, 1, 4), s
        reason = none.problem(SUB_B)["reason"]
        assert reason == "no treaty links on the subchapter page: layout change?"
        with session_factory() as session:
            kept = session.scalars(select(Quarantine).where(Quarantine.reason == reason)).one()
            assert SUB_B in kept.url

        # B is back: the whole catalogue again, and a good crawl.
        server.respond(b_page, None)
        back = crawl(env, base)
        back.assert_balanced()
        assert back.returncode == 0 and back.summary["pages"] == 5, back.summary
        assert kind(back.summary, "subchapter")["asked"] == 2


def test_a_sub_chapter_number_can_be_crawled_alone_and_a_bad_one_is_refused(cli_env, tmp_path):
    env = crawl_env(cli_env, tmp_path / "data")
    site = untc_site([RecordedPage("XI-A-16", status_body("XI-A-16"), "TIR Convention")])
    with serve(build_mirror(tmp_path / "mirror", site)) as server:
        one = crawl(env, server.base_url, "XI-A-16")
        refused = tracker(env, "crawl", "--base-url", server.base_url, "--treaty", "XI-F-16")
    assert one.returncode == 0 and (one.summary["asked"], one.summary["accepted"]) == (1, 1)
    assert refused.returncode == 2
    assert "not an MTDSG treaty number: 'XI-F-16'" in refused.stderr
    assert "XI-A-16" in refused.stderr and "XXVII-7-d" in refused.stderr
