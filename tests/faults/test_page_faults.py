"""Page-level faults: one treaty per fault, all in one crawl (assertions stay per treaty).

The story, on a real database with a webhook subscriber:
1. baseline: every treaty's good page is crawled and accepted; the subscription is made;
2. fault: each treaty's status page answers its fault (an HTTP error, a broken transfer, a wrong
   page...); `tracker crawl`, then `tracker dispatch`;
3. restore: every page is good again; crawl and dispatch again.

Per fault: the page's outcome and reason, the previous data intact (`tracker status --json`
equal to the baseline's), the page back to normal after the restore, no page lost, and no
delivery about the treaty at the receiver (nothing really changed, so any alert is false).
Per crawl (`test_the_crawl_*`): exit status, the summary's accounting, source health and
`last_success_at`, and no operator alert for a bad state that held one crawl only.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from support import wrong_pages as pages
from support.fault_scenario import Observation, Scenario
from support.hostile import (
    Body,
    CloseWithoutAnswer,
    EmptyWithEtag,
    GzipBomb,
    HostileSite,
    NotModifiedOtherEtag,
    Oversized,
    Redirect,
    Reset,
    Status,
    Truncate,
)

pytestmark = [pytest.mark.db, pytest.mark.slow, pytest.mark.xdist_group("faults-pages")]

GROUP = "page faults"
DECODING = r"(?i)decod|encod|charset|utf|byte|unreadable|replacement|invalid"
LIMIT = 256 * 1024  # TRACKER_MAX_RESPONSE_SIZE of the suite (support.tracker_run.base_env)


@dataclass(frozen=True)
class PageFault:
    name: str
    make: Any  # (treaty) -> Fault, or None for the control page
    expect: frozenset[str]  # outcomes allowed for the faulty page
    reason: str | None = None  # regex the quarantine / failure reason must match
    restore: str = "unchanged"  # outcome of the good page, crawled again
    intact: bool = True  # the status answer stays the baseline's during the fault
    revalidation: bool = False  # "unchanged" only if re-fetched without a condition


def _f(name: str, make: Any, expect: str, reason: str | None = None, **kw: Any) -> PageFault:
    return PageFault(name, make, frozenset(expect.split("|")), reason, **kw)


FAULTS: list[PageFault] = [
    _f("control: good page", None, "unchanged"),
    _f("500 Internal Server Error", lambda t: Status(500), "failed", r"500"),
    _f("502 Bad Gateway", lambda t: Status(502), "failed", r"502"),
    _f("503 without Retry-After", lambda t: Status(503), "failed", r"503"),
    _f("reset mid-body", lambda t: Reset(0.5), "failed"),
    _f(
        "truncated body (Content-Length says more)",
        lambda t: Truncate(0.6, declared=True),
        "failed",
    ),
    _f(
        "truncated body (no length, connection closed)",
        lambda t: Truncate(0.6, declared=False),
        "quarantined|failed",
    ),
    _f("connection closed without an answer", lambda t: CloseWithoutAnswer(), "failed"),
    _f(
        "maintenance page at 200",
        lambda t: Body(pages.MAINTENANCE, name="maintenance"),
        "quarantined",
        r"(?i)not a (treaty )?status page|maintenance",
    ),
    _f(
        "layout change (participants table renamed)",
        lambda t: Body(pages.layout_change(t), name="layout"),
        "quarantined",
        r"(?i)table",
    ),
    _f(
        "empty participants table",
        lambda t: Body(pages.empty_table(t), name="empty table"),
        "quarantined",
        r"(?i)no rows|empty|no participants",
    ),
    _f(
        "shrunken table (printed counts unchanged)",
        lambda t: Body(pages.shrunken(t), name="shrunken"),
        "quarantined",
        r"(?i)disagree",
    ),
    _f(
        "another treaty's page",
        lambda t: Body(pages.another_treaty(t, "XXVI-9"), name="other"),
        "quarantined",
        r"(?i)wrong treaty|XXVI-9",
    ),
    _f(
        "charset header utf-8 on a Latin-1 body",
        lambda t: Body(pages.latin1(t), "text/html; charset=utf-8", name="latin1"),
        "quarantined",
        DECODING,
    ),
    _f(
        "meta charset utf-8 on a Latin-1 body (no charset header)",
        lambda t: Body(pages.latin1(t, meta="utf-8"), "text/html", name="latin1+meta"),
        "quarantined",
        DECODING,
    ),
    _f(
        "charset header iso-8859-1 on a UTF-8 body",
        lambda t: Body(pages.good(t), "text/html; charset=iso-8859-1", name="utf8 as latin1"),
        "quarantined|unchanged",
    ),  # never stored as mojibake names
    _f(
        "UTF-16 page with its byte-order mark",
        lambda t: Body(pages.utf16(t), "text/html", name="utf-16"),
        "unchanged",
    ),
    _f("names in Unicode NFD", lambda t: Body(pages.nfd(t), name="nfd"), "unchanged"),
    _f(
        "script, style, comments and control characters in names, cells and footnotes",
        lambda t: Body(pages.scripted(t), name="scripted"),
        "unchanged",
    ),
    _f("oversized body (declared)", lambda t: Oversized(LIMIT + 50_000, declared=True), "failed"),
    _f(
        "oversized body (streamed, no length)",
        lambda t: Oversized(LIMIT + 50_000, declared=False),
        "failed",
    ),
    _f("gzip bomb", lambda t: GzipBomb(64 << 20), "failed"),
    _f("redirect to itself", lambda t: Redirect("self"), "failed"),
    _f("redirect ping-pong (A -> B -> A)", lambda t: Redirect("ping-pong"), "failed"),
    _f("redirect to another host", lambda t: Redirect("other-host"), "failed"),
    _f("endless redirects", lambda t: Redirect("endless"), "failed"),
    _f("empty 200 carrying the page's ETag", lambda t: EmptyWithEtag(), "quarantined"),
    _f(
        "304 carrying another ETag",
        lambda t: NotModifiedOtherEtag(),
        "failed|unchanged",
        revalidation=True,
    ),
    _f(
        "shrunken table with edited counts (plausible wrong page)",
        lambda t: Body(pages.shrunken_with_counts(t), name="shrunken+counts"),
        "accepted",
        restore="accepted",
        intact=False,
    ),
]
TREATIES = {f.name: f"XXVI-{101 + i}" for i, f in enumerate(FAULTS)}


@pytest.fixture(scope="module")
def story(new_database, receiver, tmp_path_factory) -> dict[str, Any]:
    good = {TREATIES[f.name]: pages.good(TREATIES[f.name]) for f in FAULTS}
    with HostileSite(good) as site:
        scenario = Scenario(
            site, new_database("pages"), tmp_path_factory.mktemp("pages-data"), receiver
        ).begin()
        for f in FAULTS:
            if f.make is not None:
                site.inject(TREATIES[f.name], f.make(TREATIES[f.name]))
        fault = scenario.step("fault")
        site.restore()
        restored = scenario.step("restore")
        return {"scenario": scenario, "fault": fault, "restore": restored}


def _reason_ok(fault: PageFault, obs: Observation, treaty: str) -> bool:
    found = obs.outcome(treaty)
    if fault.reason is None or found.outcome not in ("quarantined", "failed"):
        return True
    return bool(found.reason and re.search(fault.reason, found.reason))


def _refetched_unconditionally(obs: Observation, treaty: str) -> bool:
    """After the 304 with a foreign ETag, did the crawler ask for the page without a condition?"""
    hits = obs.hits_for(treaty)
    answered = [i for i, h in enumerate(hits) if "304-other-etag" in h.answer]
    return bool(answered) and any(not h.request.conditional for h in hits[answered[0] + 1 :])


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_page_fault(story: dict[str, Any], fault: PageFault, verdict) -> None:
    scenario: Scenario = story["scenario"]
    bad: Observation = story["fault"]
    good: Observation = story["restore"]
    treaty = TREATIES[fault.name]
    v = verdict(
        fault.name, GROUP, expected=" or ".join(sorted(fault.expect)) + f", then {fault.restore}"
    )
    got = bad.outcome(treaty)

    v.check(
        got.outcome in fault.expect,
        f"the faulty page ends as {' or '.join(sorted(fault.expect))}, not {got}",
    )
    v.check(
        _reason_ok(fault, bad, treaty),
        f"the reason says what happened (/{fault.reason}/), got {got.reason!r}",
    )
    if fault.revalidation and got.outcome == "unchanged":
        v.check(
            _refetched_unconditionally(bad, treaty),
            "a 304 whose ETag matches no stored copy does not make the cached copy current: "
            "the page is re-fetched without a condition or counted as failed",
        )
    if fault.intact:
        v.check(
            scenario.same_as_baseline(bad, treaty),
            "the previous data stays intact during the fault (`tracker status --json` "
            "equal to the baseline's)",
        )
    again = good.outcome(treaty)
    v.check(
        again.outcome == fault.restore,
        f"the good page, served again, is {fault.restore}, not {again}",
    )
    v.check(
        scenario.same_as_baseline(good, treaty),
        "after the restore, `tracker status --json` equals the baseline's",
    )
    false = scenario.false_alerts(treaty)
    v.finish(
        outcome=f"{got} / restore: {again}",
        false_alerts=len(false),
        pages_lost=len(scenario.lost(treaty)),
        delivered=[str(d) for d in false],
    )


def test_the_crawl_with_faulty_pages(story: dict[str, Any], verdict) -> None:
    """The crawl is not ok, counts every page once, and the source's last success stays put."""
    scenario: Scenario = story["scenario"]
    bad: Observation = story["fault"]
    base = scenario.baseline
    assert base is not None and base.source is not None
    v = verdict(
        "a crawl with faulty pages", GROUP, "exit != 0, every page counted once", kind="check"
    )
    asked = len(FAULTS)
    s = bad.summary
    v.check(bad.run.exit != 0, f"the crawl exits non-zero ({bad.run.tail()})")
    v.check(s is not None, f"the crawl leaves a summary ({bad.run.tail()})")
    if s is not None:
        v.check(
            s.accounted == asked,
            f"every status page asked ends as exactly one outcome: {asked} asked, "
            f"{s.accounted} accounted {s.counts}",
        )
        v.check(s.asked in (None, asked), f"the summary's `asked` is {asked}, not {s.asked}")
        v.check(s.balanced in (None, True), f"the summary is balanced: {dict(s.raw)}")
        v.check(
            s.lost in (None, 0) or s.lost <= s.count("failed"),
            "pages lost are counted among the failed",
        )
        per_page = Counter(o.outcome for o in bad.outcomes.values())
        v.check(
            all(
                s.count(o) == per_page.get(o, 0)
                for o in ("accepted", "quarantined", "unchanged", "failed")
            ),
            f"the summary agrees with what the database shows per page: {s.counts} vs "
            f"{dict(per_page)}",
        )
    src = bad.source or {}
    v.check(
        src.get("last_success_at") == base.source["last_success_at"],
        "last_success_at does not move on a crawl that was not ok",
    )
    v.check(src.get("healthy") is False, "the source is unhealthy after the bad crawl")
    v.check(bool(src.get("last_error")), "the source says what went wrong (last_error)")
    lost = [t for t, o in bad.outcomes.items() if o.outcome == "lost"]
    v.check(not lost, f"no page ends as nothing: {lost}")
    # False alerts and lost pages are counted once, by each page's own fault test.
    v.finish(outcome=str(s.counts if s else None))


def test_the_crawl_after_the_restore(story: dict[str, Any], verdict) -> None:
    scenario: Scenario = story["scenario"]
    good: Observation = story["restore"]
    bad: Observation = story["fault"]
    v = verdict(
        "the good site again after faulty pages",
        GROUP,
        "exit 0, healthy, last success now",
        kind="check",
    )
    v.check(good.run.exit == 0, f"the crawl of good pages exits 0 ({good.run.tail()})")
    src, before = good.source or {}, bad.source or {}
    v.check(src.get("healthy") is True, "the source is healthy again")
    v.check(
        (src.get("last_success_at") or "") > (before.get("last_success_at") or ""),
        "last_success_at moves to the good crawl",
    )
    ops = scenario.operator_alerts()
    v.check(
        not ops, f"no operator alert for a bad state that held one crawl: {[str(d) for d in ops]}"
    )
    v.finish(outcome=str(good.summary.counts if good.summary else None))
