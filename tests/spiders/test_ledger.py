"""The crawl's ledger: every page ends as exactly one of four outcomes, and the sum holds."""

import pytest

from spiders.ledger import Ledger


def test_every_page_is_counted_once_and_the_sum_holds():
    ledger = Ledger()
    for n, kind in enumerate(["index", "chapter", "status", "status", "status", "status"]):
        ledger.scheduled(f"p{n}", kind, f"http://x/p{n}")
    ledger.settle("p0", "accepted", kind="index")
    ledger.settle("p1", "unchanged", kind="chapter")
    ledger.settle("p2", "quarantined", kind="status", reason="maintenance page")
    ledger.settle("p3", "quarantined", kind="status", reason="older", detail="rejected")
    ledger.settle("p4", "failed", kind="status", reason="HTTP 503")
    ledger.close()  # p5 never came back: lost
    s = ledger.summary()
    assert (s["asked"], s["accepted"], s["unchanged"], s["quarantined"], s["failed"]) == (
        6,
        1,
        1,
        2,
        2,
    )
    assert (s["rejected"], s["lost"], s["balanced"]) == (1, 1, True)
    assert s["by_kind"]["status"] == {
        "asked": 4,
        "accepted": 0,
        "unchanged": 0,
        "quarantined": 2,
        "failed": 2,
    }
    assert s["lost_urls"] == ["http://x/p5"]
    lost = [p for p in s["problems"] if p["page"] == "p5"]
    assert lost[0]["detail"] == "lost" and "scheduled but never sent" in lost[0]["reason"]
    assert {p["page"] for p in s["problems"]} == {"p2", "p3", "p4", "p5"}


def test_a_lost_page_says_how_far_its_last_request_got():
    ledger = Ledger()
    for page in ("sent", "answered"):
        ledger.scheduled(page, "status", f"http://x/{page}")
        ledger.sent(page)
    ledger.answered("answered")
    ledger.scheduled("answered", "status", "http://x/redirected")  # a redirect, then nothing
    ledger.sent("robots")  # never scheduled: not a page of the crawl
    ledger.close()
    s = ledger.summary()
    assert s["asked"] == 2 and s["lost"] == 2
    reasons = {p["page"]: p["reason"] for p in s["problems"]}
    assert "sent but no answer came back" in reasons["sent"]
    assert reasons["answered"].startswith("lost: http://x/redirected: scheduled but never sent")


def test_a_page_settles_once_but_a_later_failure_wins():
    ledger = Ledger()
    ledger.scheduled("p", "index", "http://x/p")
    ledger.settle("p", "accepted")
    ledger.settle("p", "unchanged")  # ignored
    assert ledger.pages["p"].outcome == "accepted"
    ledger.settle("p", "failed", reason="spider error", detail="error")  # the callback crashed
    ledger.settle("p", "accepted")  # nothing overrides a failure
    assert (ledger.pages["p"].outcome, ledger.pages["p"].detail) == ("failed", "error")
    s = ledger.summary()
    assert (s["asked"], s["failed"], s["settled_twice"]) == (1, 1, 1)


def test_an_unsettled_page_is_not_balanced_before_close_and_outcomes_are_checked():
    ledger = Ledger()
    ledger.scheduled("p", "status", "http://x/p")
    assert ledger.summary()["balanced"] is False
    with pytest.raises(ValueError):
        ledger.settle("p", "rejected")
    ledger.close()
    assert ledger.summary()["balanced"] is True
