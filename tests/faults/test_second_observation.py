"""A plausible wrong page seen twice: only a fresh, fetched, validated page observed at least
TRACKER_DISAPPEARANCE_CONFIRM_HOURS later is a second observation.

The wrong page is valid and self-consistent: four participants are missing and the printed counts
were edited to match (support.wrong_pages.shrunken_with_counts). Each treaty sees it twice, the
second time in a different way, with the confirmation delay set to 1.8 s so the second crawl comes
after it:

- "304 (ETag)": the server answers the conditional request with 304 Not Modified;
- "304 (Last-Modified only)": a server that sends no ETag answers If-Modified-Since with 304;
- "byte-identical 200": a server without validators sends the same bytes again;
- "fresh page": the same content printed with a new "status as at" stamp.

Only the last confirms the disappearance. Then the good page comes back: where the disappearance
was never confirmed it is retracted, and where it was, the participants' return is one
reappearance event each (not alerted by default); in both cases their history is restored (the
status equals the baseline's) and no signature or consent is announced: 0 false deliveries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest
from support import wrong_pages as pages
from support.fault_scenario import Observation, Scenario
from support.hostile import HostileSite

pytestmark = [pytest.mark.db, pytest.mark.slow, pytest.mark.xdist_group("faults-second")]

GROUP = "second observation"
DISAPPEARED = "participant_disappeared"
CHANGE_KINDS = ("signature", "consent", "withdrawal", "correction")
CONFIRM_HOURS = 0.0005  # 1.8 s
STAMP_WRONG = "04-02-2026 09:00:00 EST"
STAMP_FRESH = "05-02-2026 09:00:00 EST"


@dataclass(frozen=True)
class Second:
    name: str
    treaty: str
    validators: str
    fresh: bool  # the second sight is a new page (new stamp), not the same bytes
    answer: str  # what the site answered the second time
    conditional: str | None  # the header the crawler must have sent, if any


SECONDS = [
    Second("seen again as 304 (ETag)", "XXVI-301", "etag", False, "304", "if-none-match"),
    Second(
        "seen again as 304 (Last-Modified-only server)",
        "XXVI-302",
        "last-modified",
        False,
        "304",
        "if-modified-since",
    ),
    Second(
        "seen again as a byte-identical 200 (no validators)", "XXVI-303", "none", False, "200", None
    ),
    Second("seen again on a fresh page after the delay", "XXVI-304", "etag", True, "200", None),
]
CONTROL = "XXVI-305"


@pytest.fixture(scope="module")
def story(new_database, receiver, tmp_path_factory) -> dict[str, Any]:
    treaties = [s.treaty for s in SECONDS] + [CONTROL]
    with HostileSite({t: pages.good(t) for t in treaties}) as site:
        for s in SECONDS:
            site.set_validators(s.treaty, s.validators)
        scenario = Scenario(
            site,
            new_database("second"),
            tmp_path_factory.mktemp("second"),
            receiver,
            TRACKER_DISAPPEARANCE_CONFIRM_HOURS=str(CONFIRM_HOURS),
        ).begin()
        for s in SECONDS:
            site.set_page(s.treaty, pages.shrunken_with_counts(s.treaty, stamp=STAMP_WRONG))
        wrong = scenario.step("wrong page")
        for s in SECONDS:
            if s.fresh:
                site.set_page(s.treaty, pages.shrunken_with_counts(s.treaty, stamp=STAMP_FRESH))
        # The first sight was fetched before crawl 1 ended: waiting the delay from its end puts
        # every fetch of crawl 2 more than the delay after it.
        ended = wrong.run.started + wrong.run.seconds
        time.sleep(max(0.0, CONFIRM_HOURS * 3600 + 0.2 - (time.monotonic() - ended)))
        again = scenario.step("wrong page again")
        histories_again = {s.treaty: scenario.history(s.treaty) for s in SECONDS}
        for s in SECONDS:
            site.set_page(s.treaty, pages.good(s.treaty))
        restored = scenario.step("restore")
        return {
            "scenario": scenario,
            "wrong": wrong,
            "again": again,
            "restore": restored,
            "histories_again": histories_again,
        }


def _since(found: dict[str, Any] | None, after: str) -> list[dict[str, Any]]:
    return [e for e in (found or {}).get("events", []) if (e.get("observed_at") or "") > after]


@pytest.mark.parametrize("second", SECONDS, ids=[s.name for s in SECONDS])
def test_second_observation(story: dict[str, Any], second: Second, verdict) -> None:
    scenario: Scenario = story["scenario"]
    wrong: Observation = story["wrong"]
    again: Observation = story["again"]
    restored: Observation = story["restore"]
    treaty = second.treaty
    confirms = second.fresh
    v = verdict(
        f"plausible wrong page {second.name}",
        GROUP,
        (
            "disappearance confirmed, then one reappearance each"
            if confirms
            else "disappearance stays suspicious, then retracted"
        )
        + ", 0 alerts",
    )
    base = scenario.baseline
    assert base is not None
    start = base.run.started_at.isoformat()

    v.check(
        wrong.outcome(treaty).outcome == "accepted",
        f"the wrong page passes validation (it is plausible): {wrong.outcome(treaty)}",
    )
    first = [e for e in _since(scenario.history(treaty), start) if e["kind"] == DISAPPEARED]
    v.check(
        sorted(e["participant"] for e in first) == sorted(pages.VANISHING),
        f"each vanished participant has a disappearance event: {[e['participant'] for e in first]}",
    )

    hits = again.hits_for(treaty)
    v.check(
        hits
        and hits[-1].answer == second.answer
        and (second.conditional is None or second.conditional in hits[-1].request.headers),
        f"the second sight is {second.answer}"
        + (f" to a request with {second.conditional}" if second.conditional else "")
        + f": {[(h.answer, sorted(h.request.headers)) for h in hits]}",
    )
    v.check(
        again.outcome(treaty).outcome == "unchanged",
        f"the same content seen again is unchanged: {again.outcome(treaty)}",
    )
    seen = [e for e in _since(story["histories_again"][treaty], start) if e["kind"] == DISAPPEARED]
    states = sorted({e["state"] for e in seen})
    if confirms:
        v.check(
            states == ["confirmed"],
            f"a fresh, validated page observed after the delay confirms: states {states}",
        )
    else:
        v.check(
            "confirmed" not in states,
            f"a {second.answer} of the same bytes is no second observation: states {states}",
        )

    events = _since(scenario.history(treaty), start)
    announced = [f"{e['kind']} {e['participant']}" for e in events if e["kind"] in CHANGE_KINDS]
    v.check(not announced, f"the return announces no signature or consent: {announced}")
    back = [e for e in events if "reappear" in e["kind"]]
    if confirms:
        v.check(
            sorted(e["participant"] for e in back) == sorted(pages.VANISHING),
            f"one reappearance event per returning participant: "
            f"{[(e['kind'], e['participant']) for e in back]}",
        )
    else:
        v.check(not back, f"no reappearance for a disappearance never confirmed: {back}")
        final = sorted({e["state"] for e in events if e["kind"] == DISAPPEARED})
        v.check("confirmed" not in final, f"the disappearance was never confirmed: {final}")
    v.check(
        restored.outcome(treaty).outcome == "accepted",
        f"the good page is accepted again: {restored.outcome(treaty)}",
    )
    v.check(
        scenario.same_as_baseline(restored, treaty),
        "the participants' history is restored: `tracker status --json` equals the baseline's",
    )
    allowed = {DISAPPEARED} if confirms else set()  # a confirmed disappearance may be announced
    false = [
        d for d in scenario.false_alerts(treaty) if not (d.kind in allowed and d in again.delivered)
    ]
    v.finish(
        outcome=f"second sight {again.outcome(treaty)}, states {states}, reappearances {len(back)}",
        false_alerts=len(false),
        pages_lost=len(scenario.lost(treaty)),
        delivered=[str(d) for d in false],
    )


def test_control_treaty_untouched(story: dict[str, Any], verdict) -> None:
    scenario: Scenario = story["scenario"]
    v = verdict(
        "control treaty next to plausible wrong pages", GROUP, "unchanged throughout", kind="check"
    )
    outcomes = [o.outcome(CONTROL).outcome for o in scenario.observations[1:]]
    v.check(outcomes == ["unchanged"] * 3, f"unchanged in every crawl: {outcomes}")
    v.check(
        all(scenario.same_as_baseline(o, CONTROL) for o in scenario.observations),
        "its status stays the baseline's",
    )
    v.finish(outcome=str(outcomes), false_alerts=len(scenario.false_alerts(CONTROL)))
