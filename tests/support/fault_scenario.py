"""A fault scenario: a hostile site, a real database, a webhook subscription to a real receiver,
and the crawls and dispatches of one story (baseline, fault, restore), each one observed.

    scenario = Scenario(site, db_url, data_dir, receiver).begin()   # baseline crawl + subscribe
    site.inject("XXVI-101", Status(500))
    fault = scenario.crawl("fault")                                  # tracker crawl, observed
    scenario.dispatch(fault)                                         # tracker dispatch
    site.restore()
    restored = scenario.crawl("restore"); scenario.dispatch(restored)

An `Observation` keeps what a test asserts on: exit status, summary, each status page's outcome,
the source row, `tracker status --json` of every treaty, the requests the site saw, and what the
receiver got from the dispatch that followed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.hostile import Hit, HostileSite
from support.tracker_run import (
    CrawlRun,
    Delivered,
    Mark,
    PageOutcome,
    RunningCrawl,
    Summary,
    base_env,
    comparable_status,
    crawl,
    dispatch,
    history,
    last_checked,
    page_outcomes,
    read_summary,
    source_row,
    start_crawl,
    status,
    subscribe_webhook,
)


@dataclass
class Observation:
    label: str
    run: CrawlRun
    summary: Summary | None
    outcomes: dict[str, PageOutcome]
    source: dict[str, Any] | None
    statuses: dict[str, Any]
    checked: dict[str, str | None]
    hits: list[Hit]
    delivered: list[Delivered] = field(default_factory=list)
    dispatch_summary: str = ""

    def outcome(self, treaty: str) -> PageOutcome:
        return self.outcomes[treaty]

    def hits_for(self, treaty: str) -> list[Hit]:
        return [h for h in self.hits if h.treaty == treaty]


class Scenario:
    """One database, one data dir (HTTP cache, spool), one site, one subscriber."""

    def __init__(
        self, site: HostileSite, db_url: str, data_dir: Path, receiver: Any, **env: str
    ) -> None:
        self.site, self.db_url, self.receiver = site, db_url, receiver
        self.env = base_env(db_url, data_dir, **env)
        self.observations: list[Observation] = []
        self.baseline: Observation | None = None
        self.subscription: dict[str, Any] | None = None

    @property
    def treaties(self) -> list[str]:
        return self.site.treaties

    def begin(self) -> Scenario:
        """The baseline: a first good crawl, then a webhook subscription to every event."""
        first = self.crawl("baseline")
        bad = {t: str(o) for t, o in first.outcomes.items() if o.outcome != "accepted"}
        if first.run.exit != 0 or bad:
            raise AssertionError(f"the baseline crawl must succeed: {bad}; {first.run.tail()}")
        self.baseline = first
        self.subscription = subscribe_webhook(self.env, self.receiver.url("/hook"))
        return self

    def crawl(self, label: str, **env: str) -> Observation:
        mark = time.monotonic()
        run = crawl(self.env | env, self.site.base_url)
        return self.observe(label, run, mark)

    def start(self, **env: str) -> RunningCrawl:
        """A crawl in the background; `observe` it once it has ended."""
        return start_crawl(self.env | env, self.site.base_url)

    def observe(self, label: str, run: CrawlRun, mark: float) -> Observation:
        treaties = self.treaties
        obs = Observation(
            label=label,
            run=run,
            summary=read_summary(self.db_url, run),
            outcomes=page_outcomes(self.db_url, run.started_at, treaties),
            source=source_row(self.db_url),
            statuses={t: status(self.env, t) for t in treaties},
            checked=last_checked(self.db_url, treaties),
            hits=[h for h in self.site.hits if h.at >= mark],
        )
        self.observations.append(obs)
        return obs

    def dispatch(self, obs: Observation) -> list[Delivered]:
        mark = Mark(self.receiver)
        obs.dispatch_summary = dispatch(self.env)
        time.sleep(0.05)  # the receiver records a request before it answers; let it finish
        obs.delivered = mark.since()
        return obs.delivered

    def step(self, label: str, **env: str) -> Observation:
        """Crawl, then dispatch."""
        obs = self.crawl(label, **env)
        self.dispatch(obs)
        return obs

    # -- across the story

    def delivered(self, treaty: str | None = None) -> list[Delivered]:
        found = [d for o in self.observations for d in o.delivered]
        return found if treaty is None else [d for d in found if d.treaty == treaty]

    def false_alerts(self, treaty: str | None = None) -> list[Delivered]:
        return [d for d in self.delivered(treaty) if d.false_alert]

    def operator_alerts(self) -> list[Delivered]:
        return [d for d in self.delivered() if not d.false_alert]

    def lost(self, treaty: str) -> list[str]:
        return [o.label for o in self.observations if o.outcomes[treaty].outcome == "lost"]

    def same_as_baseline(self, obs: Observation, treaty: str) -> bool:
        assert self.baseline is not None
        base = self.site.base_url
        return comparable_status(obs.statuses[treaty], base) == comparable_status(
            self.baseline.statuses[treaty], base
        )

    def history(self, treaty: str) -> dict[str, Any] | None:
        return history(self.env, treaty)

    def events_since_baseline(self, treaty: str) -> list[dict[str, Any]]:
        found = self.history(treaty) or {"events": []}
        assert self.baseline is not None
        start = self.baseline.run.started_at.isoformat()
        return [
            e
            for e in found["events"]
            if (e.get("observed_at") or "") > start and not (e.get("details") or {}).get("baseline")
        ]
