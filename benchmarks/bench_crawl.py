"""Crawl a local mirror of >= 600 real status pages into SQLite, twice; print pages/s and rows.

Each of the 30 real UNTC pages of Feb 2026 is copied under 20 distinct treaty ids (the copy's
own links rewritten), served by the local mirror with the generated catalogue pages. Run 1 is a
first crawl into an empty database; run 2 is the same crawl with nothing changed, which must
write no rows (it costs one conditional request per page, answered 304 Not Modified). Each run's
time per page is the crawl's own (its subprocess's pipeline opened to closed), set against its
floor: a bare lxml parse of the real pages (their mean) for run 1, the same conditional requests
sent by plain HTTP clients for run 2. Each floor is measured twice, the parse before the crawls
and after run 1, the 304s before and after run 2, and the mean taken (the machine's speed drifts
within minutes; both are printed). The crawl subprocess's peak RSS is read after a crawl of a
quarter of the pages and after the full one (memory must not grow with the number of pages).
The last line is the figures as JSON.

    .venv/bin/python benchmarks/bench_crawl.py [--copies 20] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx
from lxml import html as lxml_html
from sqlalchemy import func, select

from db.engine import make_engine
from db.models import Base
from tracker.devtools.mirror import build_mirror, serve
from tracker.devtools.paths import REAL
from tracker.runtime.crawl_runner import run_crawl
from tracker.settings import Settings
from tracker.sources.untc.mirror import RecordedPage, rewrite_treaty_id, untc_site


def recorded_pages(copies: int) -> list[RecordedPage]:
    index = json.loads((REAL / "index.json").read_text())
    pages = []
    for entry in index:
        if entry["kind"] != "untc_viewdetails_html":
            continue
        body = (REAL.parent.parent / entry["path"]).read_bytes()
        for _ in range(copies):
            # A valid MTDSG number of the page's own chapter, unique in the mirror.
            new_id = f"{entry['mtdsg'].split('-')[0]}-{1000 + len(pages)}"
            pages.append(
                RecordedPage(
                    new_id, rewrite_treaty_id(body, entry["mtdsg"], new_id), entry["treaty"]
                )
            )
    return pages


def row_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        counts = {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in Base.metadata.sorted_tables
        }
    engine.dispose()
    return counts


def bare_parse_ms() -> tuple[float, float]:
    """A bare lxml parse of each of the 30 real status pages (best of 3 each), in ms: their
    mean, the floor of a crawl page's time (the mirror serves each of them 20 times, so a
    crawl's time per page is their mean; the largest take about 4 times the median), and their
    median (the figure issue 15 started from)."""
    index = json.loads((REAL / "index.json").read_text())
    times = []
    for entry in (e for e in index if e["kind"] == "untc_viewdetails_html"):
        body = (REAL.parent.parent / entry["path"]).read_bytes()
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            lxml_html.fromstring(body)
            best = min(best, time.perf_counter() - started)
        times.append(best * 1000)
    return statistics.mean(times), statistics.median(times)


def _conditional_gets(base_url: str, targets: list[tuple[str, str]], workers: int) -> float:
    chunks = [targets[i::workers] for i in range(workers)]

    def run(chunk: list[tuple[str, str]]) -> int:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            for target, etag in chunk:
                answer = client.get(target, headers={"If-None-Match": etag})
                if answer.status_code != 304:
                    raise SystemExit(f"expected 304 for {target}, got {answer.status_code}")
        return len(chunk)

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        done = sum(pool.map(run, chunks))
    assert done == len(targets)
    return time.perf_counter() - started


def not_modified_only(base_url: str, site: list[tuple[str, bytes, str]], workers: int) -> float:
    """Seconds for the same conditional requests as run 2 (If-None-Match, answered 304), sent
    by plain HTTP clients at the crawl's concurrency, from their own process as the crawl's are
    (the mirror serves from this one): the 304 itself, without the tracker."""
    targets = [
        (target, '"' + hashlib.sha256(body).hexdigest()[:32] + '"') for target, body, _ in site
    ]
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        return pool.submit(_conditional_gets, base_url, targets, workers).result()


def child_peak_mib() -> float:
    """The largest peak RSS of the crawl subprocesses waited for so far (Linux: KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _child_seconds(report_stats: dict) -> float:
    """The crawl's own time in its subprocess (pipeline opened to closed: no start-up)."""
    started = datetime.fromisoformat(report_stats["started_at"])
    finished = datetime.fromisoformat(report_stats["finished_at"])
    return (finished - started).total_seconds()


def crawl(settings: Settings, base_url: str, expected: int) -> tuple[float, dict]:
    started = time.perf_counter()
    report = run_crawl(settings, base_url=base_url, source="untc")
    elapsed = time.perf_counter() - started
    print(f"  {report.summary()}")
    if report.returncode != 0 or report.stats.get("pages", 0) != expected:
        raise SystemExit(
            f"FAILED: crawl did not ingest every page (exit {report.returncode}, {report.stats.get('pages')} of {expected}): {report.error}"
        )
    return elapsed, report.stats


def _settings(data: Path, concurrency: int) -> Settings:
    return Settings.from_env(
        {
            "TRACKER_DATA_DIR": str(data),
            "TRACKER_DOWNLOAD_DELAY": "0",
            "TRACKER_CONCURRENCY": str(concurrency),
            "TRACKER_AUTOTHROTTLE_TARGET": str(concurrency),
            "TRACKER_LOG_LEVEL": "WARNING",
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if not REAL.exists():
        print(f"skipped: {REAL} is absent (the real pages are needed)")
        return 0
    load = os.getloadavg()[0]
    floors = [bare_parse_ms()]  # and again right after run 1: this machine's speed drifts
    pages = recorded_pages(args.copies)
    small = pages[: len(pages) // 4]
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        site = untc_site(pages)
        mirror = build_mirror(Path(tmp) / "mirror", site)
        small_site = untc_site(small)
        small_mirror = build_mirror(Path(tmp) / "small", small_site)
        settings = _settings(Path(tmp) / "data", args.concurrency)
        mirror_bytes = sum(len(p.body) for p in pages)
        print(
            f"mirror: {len(pages)} status pages ({mirror_bytes / 1e6:.0f} MB), "
            f"concurrency {args.concurrency}, SQLite at {settings.database_url}; load {load:.2f}"
        )
        # Memory must not grow with the number of pages: the same crawl of a quarter of them
        # first, its peak RSS read before the full crawl's (the children's peak only grows).
        with serve(small_mirror) as server:
            print(f"run 0: {len(small)} status pages into their own database")
            crawl(
                _settings(Path(tmp) / "small-data", args.concurrency),
                server.base_url,
                len(small),
            )
        peak_small = child_peak_mib()
        figures: dict[str, float | int] = {}
        with serve(mirror) as server:
            for run in (1, 2):
                before = row_counts(settings.database_url) if run == 2 else {}
                print(f"run {run}:")
                elapsed, stats = crawl(settings, server.base_url, len(pages))
                after = row_counts(settings.database_url)
                written = {
                    t: n - before.get(t, 0) for t, n in after.items() if n != before.get(t, 0)
                }
                done = stats.get("asked", len(site))
                inside = _child_seconds(stats)
                cpu = stats.get("cpu_s", 0.0)  # every thread of the crawl's process
                print(
                    f"  {elapsed:.1f} s ({inside:.1f} s in the crawl itself, the rest is the "
                    f"subprocess starting), {done / elapsed:.1f} pages/s, "
                    f"{1000 * inside / done:.2f} ms a page ({1000 * cpu / done:.2f} ms of the "
                    f"crawl's CPU), {stats.get('not_modified', 0)} answered 304"
                )
                print(
                    f"  rows inserted: {sum(written.values())} {json.dumps(written, sort_keys=True)}"
                )
                if run == 2 and written:
                    print("FAILED: an unchanged crawl wrote rows", file=sys.stderr)
                    return 1
                figures[f"run{run}_s"] = round(elapsed, 2)
                figures[f"run{run}_crawl_s"] = round(inside, 2)
                figures[f"run{run}_pages_per_s"] = round(done / elapsed, 1)
                figures[f"run{run}_ms_per_page"] = round(1000 * inside / done, 2)
                figures[f"run{run}_cpu_ms_per_page"] = round(1000 * cpu / done, 2)
                if run == 1:
                    figures["rows_inserted"] = sum(written.values())
                    peak = child_peak_mib()
                    floors.append(bare_parse_ms())
                    # run 2's floor before it and after it, for the same reason
                    alone = [not_modified_only(server.base_url, site, args.concurrency)]
            alone.append(not_modified_only(server.base_url, site, args.concurrency))
    # Each floor is the mean of its measurements on either side of its run (printed too): a
    # floor measured once, minutes from the run, carries the machine's drift into the ratio.
    floor_ms = statistics.mean(mean for mean, _ in floors)
    median_ms = statistics.mean(median for _, median in floors)
    only = statistics.mean(alone)
    per_304 = 1000 * only / len(site)
    tracker_ms = figures["run2_ms_per_page"] - per_304
    print(
        f"the same {len(site)} conditional requests alone (plain clients, concurrency "
        f"{args.concurrency}), before and after run 2: "
        f"{' and '.join(f'{1000 * t / len(site):.2f}' for t in alone)} ms a page, "
        f"{per_304:.2f} ms on average"
    )
    print(
        "bare lxml parse of the 30 real pages, before run 0 and after run 1: "
        + " and ".join(f"{mean:.2f} ms (median {median:.2f})" for mean, median in floors)
    )
    print(f"unchanged page: {tracker_ms:.2f} ms of tracker work beyond the 304 (goal <= 2)")
    print(
        f"first ingest: {figures['run1_ms_per_page']:.2f} ms a page against a bare lxml parse of "
        f"{floor_ms:.2f} ms (the same pages' mean): {figures['run1_ms_per_page'] / floor_ms:.1f}x "
        f"(goal <= 4x); against their median ({median_ms:.2f} ms), "
        f"{figures['run1_ms_per_page'] / median_ms:.1f}x"
    )
    print(
        f"crawl subprocess peak RSS: {peak_small:.0f} MiB for {len(small)} pages, "
        f"{peak:.0f} MiB for {len(pages)}"
    )
    figures |= {
        "pages": len(site),
        "bare_parse_ms": round(floor_ms, 2),
        "bare_parse_ms_before_after": [round(mean, 2) for mean, _ in floors],
        "run1_ratio_to_bare_parse": round(figures["run1_ms_per_page"] / floor_ms, 2),
        "bare_parse_median_ms": round(median_ms, 2),
        "run1_ratio_to_bare_parse_median": round(figures["run1_ms_per_page"] / median_ms, 2),
        "not_modified_only_ms_per_page": round(per_304, 2),
        "not_modified_only_ms_before_after": [round(1000 * t / len(site), 2) for t in alone],
        "run2_tracker_ms_per_page": round(tracker_ms, 2),
        "peak_rss_mib_quarter": round(peak_small, 1),
        "peak_rss_mib_full": round(peak, 1),
        "load_1min": round(load, 2),
    }
    print(json.dumps({"benchmark": "crawl", **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
