"""Crawl a local mirror of >= 600 real status pages into SQLite, twice; print pages/s and rows.

Each of the 30 real UNTC pages of Feb 2026 is copied under 20 distinct treaty ids (the copy's
own links rewritten), served by the local mirror with the generated catalogue pages. Run 1 is a
first crawl into an empty database; run 2 is the same crawl with nothing changed, which must
write no rows (it costs one conditional request per page, answered 304 Not Modified).

    .venv/bin/python benchmarks/bench_crawl.py [--copies 20] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if not REAL.exists():
        print(f"skipped: {REAL} is absent (the real pages are needed)")
        return 0
    pages = recorded_pages(args.copies)
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        mirror = build_mirror(Path(tmp) / "mirror", untc_site(pages))
        data = Path(tmp) / "data"
        settings = Settings.from_env(
            {
                "TRACKER_DATA_DIR": str(data),
                "TRACKER_DOWNLOAD_DELAY": "0",
                "TRACKER_CONCURRENCY": str(args.concurrency),
                "TRACKER_AUTOTHROTTLE_TARGET": str(args.concurrency),
                "TRACKER_LOG_LEVEL": "WARNING",
            }
        )
        mirror_bytes = sum(len(p.body) for p in pages)
        print(
            f"mirror: {len(pages)} status pages ({mirror_bytes / 1e6:.0f} MB), "
            f"concurrency {args.concurrency}, SQLite at {settings.database_url}"
        )
        with serve(mirror) as server:
            for run in (1, 2):
                before = row_counts(settings.database_url) if run == 2 else {}
                started = time.perf_counter()
                report = run_crawl(settings, base_url=server.base_url, source="untc")
                elapsed = time.perf_counter() - started
                after = row_counts(settings.database_url)
                written = {
                    t: n - before.get(t, 0) for t, n in after.items() if n != before.get(t, 0)
                }
                pages_done = report.stats.get("pages", 0)
                print(f"run {run}: {report.summary()}")
                print(
                    f"  {elapsed:.1f} s, {pages_done / elapsed:.1f} pages/s, "
                    f"{report.stats.get('not_modified', 0)} answered 304"
                )
                print(
                    f"  rows inserted: {sum(written.values())} {json.dumps(written, sort_keys=True)}"
                )
                if report.returncode != 0 or pages_done != len(pages):
                    print("FAILED: crawl did not ingest every page", file=sys.stderr)
                    return 1
                if run == 2 and written:
                    print("FAILED: an unchanged crawl wrote rows", file=sys.stderr)
                    return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
