"""Account for every page a crawl asked for or discovered: each ends as exactly one of
accepted, unchanged, quarantined or failed.

A page is keyed by the URL first asked for (request meta `tracker_page`; redirects and retries
keep it). It enters the ledger when its first request is scheduled (Scrapy's
`request_scheduled` signal), and is settled by the pipeline (what ingestion or navigation made
of it), by the errback (a failed fetch), or by Scrapy's signals: `request_dropped` (the
scheduler refused it, e.g. as a duplicate) and `spider_error` (its callback crashed). A page
still unsettled when the crawl closes is failed as "lost", with its URL and how far it got.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

OUTCOMES = ("accepted", "unchanged", "quarantined", "failed")
PAGE_META = "tracker_page"
KIND_META = "tracker_kind"
MAX_PROBLEMS = 100  # listed in the summary (all are counted)


@dataclass
class PageRecord:
    page: str  # the URL asked for
    kind: str  # index, chapter, subchapter, status (or "other" for a request the spider did not label)
    last_url: str
    outcome: str | None = None
    detail: str | None = None  # rejected (out of order), lost, spooled, dropped, error
    reason: str | None = None
    url: str | None = None  # where the answer came from
    sent: bool = False  # its last request reached the downloader
    answered: bool = False  # a response came back for its last request
    settled_twice: list[str] = field(default_factory=list)


class Ledger:
    """Pure bookkeeping (no Scrapy, no database): the pipeline feeds it and reads the summary."""

    def __init__(self) -> None:
        self.pages: dict[str, PageRecord] = {}

    def _get(self, page: str, kind: str = "other", url: str | None = None) -> PageRecord:
        record = self.pages.get(page)
        if record is None:
            record = self.pages[page] = PageRecord(page, kind, url or page)
        return record

    def scheduled(self, page: str, kind: str, url: str) -> None:
        """A request of the page (the first, a retry or a redirect) entered the scheduler."""
        record = self._get(page, kind, url)
        record.last_url, record.sent, record.answered = url, False, False

    def sent(self, page: str) -> None:
        if page in self.pages:  # robots.txt and the like are downloaded, never scheduled
            self.pages[page].sent = True

    def answered(self, page: str) -> None:
        if page in self.pages:
            self.pages[page].answered = True

    def settle(
        self,
        page: str,
        outcome: str,
        *,
        kind: str = "other",
        reason: str | None = None,
        detail: str | None = None,
        url: str | None = None,
    ) -> None:
        """Record a page's outcome. A page settles once; a later failure (e.g. the callback
        crashed after yielding) overrides an earlier success, nothing else overrides."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        record = self._get(page, kind, url)
        if record.outcome is not None:
            record.settled_twice.append(outcome)
            if outcome != "failed" or record.outcome == "failed":
                return
        record.outcome, record.detail, record.reason = outcome, detail, reason
        record.url = url or record.url

    def close(self) -> None:
        """Fail every page that has no outcome: lost, with how far it got."""
        for record in self.pages.values():
            if record.outcome is None:
                if not record.sent:
                    stage = "scheduled but never sent (filtered when scheduled, e.g. offsite)"
                elif not record.answered:
                    stage = "sent but no answer came back"
                else:
                    stage = "answered, but no outcome was recorded"
                self.settle(
                    record.page,
                    "failed",
                    detail="lost",
                    reason=f"lost: {record.last_url}: {stage}",
                )

    def summary(self) -> dict[str, Any]:
        """The counts: `asked` == accepted + unchanged + quarantined + failed (after close())."""
        totals: Counter[str] = Counter()
        by_kind: dict[str, Counter[str]] = {}
        problems: list[dict[str, Any]] = []
        lost_urls: list[str] = []
        for record in self.pages.values():
            kind = by_kind.setdefault(record.kind, Counter())
            for counter in (totals, kind):
                counter["asked"] += 1
                counter[record.outcome or "unsettled"] += 1
                if record.detail:
                    counter[record.detail] += 1
            if record.detail == "lost":
                lost_urls.append(record.last_url)
            if record.outcome in ("quarantined", "failed"):
                problems.append(
                    {
                        "page": record.page,
                        "url": record.url or record.last_url,
                        "kind": record.kind,
                        "outcome": record.outcome,
                        "detail": record.detail,
                        "reason": record.reason,
                    }
                )
        counts = {key: totals[key] for key in ("asked", *OUTCOMES)}
        settled = sum(counts[o] for o in OUTCOMES)
        return {
            **counts,
            "rejected": totals["rejected"],
            "lost": totals["lost"],
            "spooled": totals["spooled"],
            "balanced": settled == counts["asked"] and totals["unsettled"] == 0,
            "by_kind": {
                name: {key: c[key] for key in ("asked", *OUTCOMES)}
                for name, c in sorted(by_kind.items())
            },
            "lost_urls": lost_urls[:MAX_PROBLEMS],
            "problems": problems[:MAX_PROBLEMS],
            "problems_listed": min(len(problems), MAX_PROBLEMS),
            "settled_twice": sum(bool(r.settled_twice) for r in self.pages.values()),
        }
