"""Site-level faults, each in a crawl of its own: the whole site refused, hanging, resetting,
erroring, forbidding by robots.txt, answering maintenance pages, or asking to retry later.

Every page of the site is in the HTTP cache from the baseline, which is the trap: Scrapy's cache
error recovery would serve those copies when the site cannot be reached. One story per chain of
faults (baseline once, then for each fault: inject, crawl, dispatch, restore, crawl, dispatch),
so each fault costs two crawls. What must hold for an outage: the crawl exits non-zero and says
so, no page is "unchanged" or "accepted", no treaty's last check and not the source's last success
moves, the source turns unhealthy, the data stays the baseline's, and nobody is alerted; after the
restore everything is as before, healthy, with a new last success.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from support import wrong_pages as pages
from support.fault_scenario import Observation, Scenario
from support.hostile import (
    ROBOTS_DISALLOW_ALL,
    Body,
    Hang,
    HostileSite,
    Status,
)
from support.tracker_run import base_env, crawl, source_row

pytestmark = [pytest.mark.db, pytest.mark.slow]

GROUP = "site faults"
TREATIES = ("XXVI-201", "XXVI-202", "IV-203")
RETRY_AFTER = 3  # seconds: more than the retry backoff's own first delay (2 s +-20 %)


@dataclass(frozen=True)
class SiteFault:
    name: str
    inject: Callable[[HostileSite], None]
    chain: str
    env: dict[str, str] = field(default_factory=dict)
    outage: bool = True  # False: the crawl must succeed despite the fault


def _refuse(site: HostileSite) -> None:
    site.refuse()


def _everywhere(fault_factory: Callable[[], Any]) -> Callable[[HostileSite], None]:
    return lambda site: site.inject_everywhere(fault_factory())


def _robots(site: HostileSite) -> None:
    site.robots = ROBOTS_DISALLOW_ALL


def _retry_after(site: HostileSite) -> None:
    site.inject(TREATIES[0], Status(503, retry_after=RETRY_AFTER, times=1))
    site.inject(TREATIES[1], Status(429, retry_after=RETRY_AFTER, times=1))


FAULTS = [
    SiteFault("connection refused (port closed)", _refuse, "a"),
    SiteFault("listener accepts and closes at once", lambda s: s.accept_and_close(), "a"),
    SiteFault("accept and hang (no answer)", _everywhere(Hang), "a"),
    SiteFault("500 on every page", _everywhere(lambda: Status(500)), "b"),
    SiteFault("robots.txt disallows everything", _robots, "b"),
    SiteFault(
        "maintenance page at 200 everywhere (empty catalogue index)",
        _everywhere(lambda: Body(pages.MAINTENANCE, name="maintenance")),
        "b",
    ),
    SiteFault(
        "503 and 429 with Retry-After (then good)",
        _retry_after,
        "b",
        env={"TRACKER_RETRY_TIMES": "1"},
        outage=False,
    ),
]


def _chain(name: str, new_database, receiver, tmp_path_factory) -> dict[str, Any]:
    with HostileSite({t: pages.good(t) for t in TREATIES}) as site:
        scenario = Scenario(
            site, new_database(f"site{name}"), tmp_path_factory.mktemp(f"site-{name}"), receiver
        ).begin()
        found: dict[str, tuple[Observation, Observation]] = {}
        for fault in FAULTS:
            if fault.chain != name:
                continue
            fault.inject(site)
            bad = scenario.step(fault.name, **fault.env)
            site.restore()
            found[fault.name] = (bad, scenario.step(fault.name + ": restored"))
        return {"scenario": scenario, "faults": found}


@pytest.fixture(scope="module")
def chain_a(new_database, receiver, tmp_path_factory) -> dict[str, Any]:
    return _chain("a", new_database, receiver, tmp_path_factory)


@pytest.fixture(scope="module")
def chain_b(new_database, receiver, tmp_path_factory) -> dict[str, Any]:
    return _chain("b", new_database, receiver, tmp_path_factory)


def _params() -> list[Any]:
    return [
        pytest.param(f, id=f.name, marks=pytest.mark.xdist_group(f"faults-site-{f.chain}"))
        for f in FAULTS
    ]


@pytest.mark.parametrize("fault", _params())
def test_site_fault(fault: SiteFault, request: pytest.FixtureRequest, verdict) -> None:
    story = request.getfixturevalue(f"chain_{fault.chain}")
    scenario: Scenario = story["scenario"]
    bad, good = story["faults"][fault.name]
    # What held before this fault: the observation just before it (the previous restore, or the
    # baseline).
    before = scenario.observations[scenario.observations.index(bad) - 1]
    v = verdict(
        fault.name,
        GROUP,
        "failed crawl, nothing touched, then ok" if fault.outage else "ok after waiting",
    )
    outcomes = {t: bad.outcome(t).outcome for t in TREATIES}
    src, was = bad.source or {}, before.source or {}
    if fault.outage:
        v.check(bad.run.exit != 0, f"the crawl exits non-zero ({bad.run.tail()})")
        stale = [t for t, o in outcomes.items() if o in ("unchanged", "accepted")]
        v.check(
            not stale,
            f"no page counts as checked from a stale copy: {stale} were "
            f"{[outcomes[t] for t in stale]}",
        )
        if bad.summary is not None:
            counts = bad.summary.counts
            v.check(
                counts["accepted"] == counts["unchanged"] == 0,
                f"the summary shows no page accepted or unchanged: {counts}",
            )
            v.check(
                counts["failed"] + counts["quarantined"] >= 1 or bad.summary.ok is False,
                f"the summary records the failure: {dict(bad.summary.raw)}",
            )
        moved = [t for t in TREATIES if bad.checked[t] != before.checked[t]]
        v.check(not moved, f"no treaty's last_checked_at moves: {moved}")
        v.check(
            src.get("last_success_at") == was.get("last_success_at"),
            "the source's last_success_at does not move",
        )
        v.check(
            (src.get("consecutive_failures") or 0) > (was.get("consecutive_failures") or 0),
            "the crawl counts as a failed crawl of the source (consecutive_failures)",
        )
        v.check(bool(src.get("last_error")), "the source's last_error says why")
    else:
        v.check(bad.run.exit == 0, f"the crawl succeeds after waiting ({bad.run.tail()})")
        v.check(
            all(o == "unchanged" for o in outcomes.values()),
            f"every page is fetched after the wait and unchanged: {outcomes}",
        )
        for treaty in TREATIES[:2]:
            hits = bad.hits_for(treaty)
            gap = hits[1].at - hits[0].at if len(hits) >= 2 else 0.0
            v.check(
                len(hits) >= 2 and gap >= RETRY_AFTER * 0.95,
                f"{treaty}: the retry waits the Retry-After of {RETRY_AFTER} s "
                f"(waited {gap:.2f} s, {len(hits)} requests: {[h.answer for h in hits]})",
            )
        v.check(src.get("healthy") is True, "the source stays healthy")
        v.check(
            (src.get("last_success_at") or "") > (was.get("last_success_at") or ""),
            "last_success_at moves",
        )
    intact = [t for t in TREATIES if not scenario.same_as_baseline(bad, t)]
    v.check(not intact, f"the data stays the baseline's: {intact} changed")
    # The restore.
    v.check(good.run.exit == 0, f"after the restore the crawl exits 0 ({good.run.tail()})")
    back = {t: good.outcome(t).outcome for t in TREATIES}
    v.check(all(o == "unchanged" for o in back.values()), f"after the restore: {back}")
    v.check((good.source or {}).get("healthy") is True, "the source is healthy again")
    v.check(
        ((good.source or {}).get("last_success_at") or "") > (src.get("last_success_at") or ""),
        "last_success_at moves with the restored crawl",
    )
    v.check(
        all(scenario.same_as_baseline(good, t) for t in TREATIES),
        "after the restore, the data is the baseline's",
    )
    ops = [str(d) for o in (bad, good) for d in o.delivered if not d.false_alert]
    v.check(not ops, f"no operator alert for a state that held one crawl: {ops}")
    false = [d for o in (bad, good) for d in o.delivered if d.false_alert]
    # In an outage the catalogue cannot be read, so the status pages are never asked for: only a
    # page asked for and then left without an outcome is lost (the restore asks for all).
    lost = [t for t in TREATIES if good.outcome(t).outcome == "lost"]
    if not fault.outage:
        lost += [t for t, o in outcomes.items() if o == "lost"]
    # A page the crawl never reached (the catalogue failed) is not lost: it was never asked for.
    shown = {t: "not reached" if o == "lost" and fault.outage else o for t, o in outcomes.items()}
    v.finish(
        outcome=f"exit {bad.run.exit}, {shown}, restore: exit {good.run.exit}",
        false_alerts=len(false),
        pages_lost=len(lost),
        summary=bad.summary.counts if bad.summary else None,
        seconds=round(bad.run.seconds, 1),
    )


def test_first_crawl_of_a_source_fails(new_database, tmp_path, verdict) -> None:
    """A source that never succeeded is not healthy: its first crawl fails, it is unhealthy."""
    v = verdict("first crawl of a new source refused", GROUP, "exit != 0, unhealthy, no success")
    with HostileSite({t: pages.good(t) for t in TREATIES}) as site:
        site.refuse()
        db_url = new_database("first")
        run = crawl(base_env(db_url, tmp_path / "data"), site.base_url)
    src = source_row(db_url) or {}
    v.check(run.exit != 0, f"the crawl exits non-zero ({run.tail()})")
    v.check(src.get("healthy") is False, f"the source is unhealthy: {src}")
    v.check(src.get("last_success_at") is None, "the source has no last success")
    v.check(bool(src.get("last_error")), "the source's last_error says why")
    v.finish(outcome=f"exit {run.exit}, healthy {src.get('healthy')}")
