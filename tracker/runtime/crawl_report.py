"""What a crawl did (`CrawlReport`), whether it was good (`crawl_ok`), and recording one that
did not record itself (`record_unrecorded`). Running the crawl is tracker.runtime.crawl_runner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tracker.services.crawl_records import record_crawl
from tracker.services.health import HealthPolicy, crawl_recorded_since
from tracker.sources import registry

EX_TEMPFAIL = 75  # another crawl of the source runs: try again later


@dataclass
class CrawlReport:
    """What one crawl did: the pipeline's summary plus the subprocess outcome.

    `stopped`: why the crawl was stopped on purpose before its end (a signal, the service
    stopping, another crawl of the source running): not a failure of the source.
    """

    returncode: int
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    stopped: str | None = None

    def summary(self) -> str:
        """One line for people: every page asked for (status and navigation pages) is one of
        accepted, unchanged, quarantined or failed; then events, and what went wrong."""
        s = self.stats
        if self.returncode == EX_TEMPFAIL:
            return f"crawl not started: {self.error}"
        if self.error and not self.stopped:
            return f"crawl failed: {self.error}"
        asked = s.get("asked", s.get("pages", 0))
        counts = (
            f"{asked} page{'' if asked == 1 else 's'}, "
            f"{s.get('accepted', 0)} accepted, {s.get('unchanged', 0)} unchanged, "
            f"{s.get('quarantined', 0)} quarantined, {s.get('failed', 0)} failed, "
            f"{s.get('events', 0)} events"
        )
        if "asked" in s:
            counts += (
                f" ({s.get('pages', 0)} status pages; {s.get('rejected', 0)} out of order, "
                f"{s.get('lost', 0)} lost, {s.get('spooled', 0)} spooled)"
            )
        else:  # a summary from before the four-way accounting
            counts += f" ({s.get('rejected', 0)} rejected)"
        name = s.get("source", "?") + _format_words(s)
        if self.stopped:
            return f"crawl {name} stopped ({self.stopped}): {counts}"
        if s.get("error"):
            counts += f"; not ok: {s['error']}"
        return f"crawl {name}: {counts}"


def _format_words(stats: dict[str, Any]) -> str:
    """` (xml)` after the source's name when the crawl read another format than its default."""
    fmt = stats.get("format")
    try:
        default = registry.get(str(stats.get("source"))).formats[0]
    except KeyError:
        default = None
    return f" ({fmt})" if fmt and fmt != default else ""


def record_unrecorded(
    sessions: sessionmaker[Session],
    source: str,
    report: CrawlReport,
    started: datetime,
    finished: datetime,
    policy: HealthPolicy,
) -> bool:
    """Record on the source row a crawl that did not record itself; return whether it did.

    The crawl records itself at its end (`record_crawl` in the pipeline). One that died before
    it could (timed out, killed, Scrapy crashed), or whose own record failed (its summary says
    `recorded: false`: the database was down at the end), is recorded here with the pipeline's
    verdict, or as failed, so it counts towards the source's failure streak. A crawl stopped on
    purpose (a signal, the service stopping, another crawl of the source running) is neither.
    """
    if report.stopped:
        return False
    unrecorded = report.stats.get("recorded") is False
    if not (report.error or unrecorded) or crawl_recorded_since(sessions, source, started):
        return False
    ok = bool(report.error is None and report.stats.get("ok") is True and crawl_ok(report.stats))
    error = report.error or report.stats.get("error") or (None if ok else "crawl failed")
    record_crawl(sessions, source, report.stats, ok, error, finished, policy=policy)
    return True


def crawl_ok(stats: dict[str, Any]) -> bool:
    """A crawl is good only if every page it asked for was accepted or unchanged, it asked for
    at least one status page, its catalogue index listed chapters, and the pipeline agrees."""
    problems = stats.get("quarantined", 0) + stats.get("failed", 0) + stats.get("rejected", 0)
    return (
        stats.get("ok", True) is True
        and problems == 0
        and stats.get("pages", 0) > 0
        and not stats.get("index_empty", False)
        and stats.get("balanced", True) is True
    )
