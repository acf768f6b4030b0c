"""Flapping pages: good, bad, good, bad, good, one crawl each, with the default confirmation delay
(24 h) and the default hold of operator alerts (2 crawls or 60 minutes).

- a page that flaps to a maintenance page (quarantined each time it is bad);
- a page that flaps to a 503 (failed each time);
- a page that flaps to a plausible wrong page (four participants gone, counts edited), printed
  anew each time (a fresh page, but never 24 h after the first sight): never confirmed.

Each bad state holds for one crawl, so no `source_unhealthy` / `source_recovered` alert may go
out (hysteresis); no treaty alert either; every crawl's outcome is what the page was; the data is
the baseline's whenever the page is good.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from support import wrong_pages as pages
from support.fault_scenario import Observation, Scenario
from support.hostile import Body, HostileSite, Status

pytestmark = [pytest.mark.db, pytest.mark.slow, pytest.mark.xdist_group("faults-flapping")]

GROUP = "flapping"
CYCLES = 2
DISAPPEARED = "participant_disappeared"


@dataclass(frozen=True)
class Flap:
    name: str
    treaty: str
    bad_outcome: str


FLAPS = [
    Flap("flapping to a maintenance page", "XXVI-401", "quarantined"),
    Flap("flapping to 503", "XXVI-402", "failed"),
    Flap("flapping to a plausible wrong page", "XXVI-403", "accepted"),
]
CONTROL = "XXVI-404"


def _bad(site: HostileSite, cycle: int) -> None:
    site.inject(FLAPS[0].treaty, Body(pages.MAINTENANCE, name="maintenance"))
    site.inject(FLAPS[1].treaty, Status(503))
    stamp = f"0{4 + cycle}-02-2026 09:00:00 EST"  # printed anew: a fresh page each time
    site.set_page(FLAPS[2].treaty, pages.shrunken_with_counts(FLAPS[2].treaty, stamp=stamp))


def _good(site: HostileSite) -> None:
    site.restore()
    site.set_page(FLAPS[2].treaty, pages.good(FLAPS[2].treaty))


@pytest.fixture(scope="module")
def story(new_database, receiver, tmp_path_factory) -> dict[str, Any]:
    treaties = [f.treaty for f in FLAPS] + [CONTROL]
    with HostileSite({t: pages.good(t) for t in treaties}) as site:
        scenario = Scenario(
            site, new_database("flap"), tmp_path_factory.mktemp("flap"), receiver
        ).begin()
        for cycle in range(CYCLES):
            _bad(site, cycle)
            scenario.step(f"bad {cycle + 1}")
            _good(site)
            scenario.step(f"good {cycle + 1}")
        return {"scenario": scenario}


def _is_bad(obs: Observation) -> bool:
    return obs.label.startswith("bad")


@pytest.mark.parametrize("flap", FLAPS, ids=[f.name for f in FLAPS])
def test_flapping_page(story: dict[str, Any], flap: Flap, verdict) -> None:
    scenario: Scenario = story["scenario"]
    v = verdict(flap.name, GROUP, f"{flap.bad_outcome} when bad, back when good, 0 alerts")
    crawls = scenario.observations[1:]
    seen = [(o.label, o.outcome(flap.treaty).outcome) for o in crawls]
    want = [
        (
            o.label,
            flap.bad_outcome
            if _is_bad(o)
            else ("accepted" if flap.bad_outcome == "accepted" else "unchanged"),
        )
        for o in crawls
    ]
    v.check(seen == want, f"each crawl's outcome is what the page was: {seen}, expected {want}")
    for obs in crawls:
        if not _is_bad(obs) or flap.bad_outcome != "accepted":
            v.check(
                scenario.same_as_baseline(obs, flap.treaty),
                f"{obs.label}: `tracker status --json` equals the baseline's",
            )
    events = scenario.events_since_baseline(flap.treaty)
    confirmed = [
        e["participant"] for e in events if e["kind"] == DISAPPEARED and e["state"] == "confirmed"
    ]
    v.check(not confirmed, f"a second sight within 24 h confirms nothing: {confirmed}")
    announced = [
        f"{e['kind']} {e['participant']}"
        for e in events
        if e["kind"] in ("signature", "consent", "withdrawal", "correction")
    ]
    v.check(not announced, f"no change announced: {announced}")
    false = scenario.false_alerts(flap.treaty)
    v.finish(
        outcome=str(seen),
        false_alerts=len(false),
        pages_lost=len(scenario.lost(flap.treaty)),
        delivered=[str(d) for d in false],
    )


def test_flapping_source_health_does_not_alert(story: dict[str, Any], verdict) -> None:
    scenario: Scenario = story["scenario"]
    v = verdict(
        "flapping source health",
        GROUP,
        "health follows each crawl, no operator alert",
        kind="check",
    )
    base = scenario.baseline
    assert base is not None and base.source is not None
    last_success = base.source["last_success_at"]
    for obs in scenario.observations[1:]:
        src = obs.source or {}
        if _is_bad(obs):
            v.check(obs.run.exit != 0, f"{obs.label}: the crawl exits non-zero")
            v.check(
                src.get("last_success_at") == last_success,
                f"{obs.label}: last_success_at does not move",
            )
        else:
            v.check(obs.run.exit == 0, f"{obs.label}: the crawl exits 0 ({obs.run.tail()})")
            v.check(src.get("healthy") is True, f"{obs.label}: healthy again")
            v.check(
                (src.get("last_success_at") or "") > (last_success or ""),
                f"{obs.label}: last_success_at moves",
            )
        last_success = src.get("last_success_at") or last_success
    ops = [
        f"{o.label}: {d}" for o in scenario.observations for d in o.delivered if not d.false_alert
    ]
    v.check(not ops, f"no operator alert for states that held one crawl each: {ops}")
    control = [o.outcome(CONTROL).outcome for o in scenario.observations[1:]]
    v.check(control == ["unchanged"] * (2 * CYCLES), f"the control page stays unchanged: {control}")
    v.finish(outcome=f"operator alerts: {ops}", false_alerts=len(scenario.false_alerts(CONTROL)))
