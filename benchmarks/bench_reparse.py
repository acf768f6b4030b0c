"""Re-derivation rate: every kept raw page parsed again into a new history (`tracker reparse`),
against parsing the same pages alone; print the figures and a final JSON line.

The history is the real captures ingested in date order into SQLite: the 407 MTDSG XML files of
Jan 2018 (247 accepted, 160 quarantined: all kept), then the 30 status pages of Feb 2026. The
re-derivation replays every kept page (read from the database, decompressed, parsed, ingested
into an empty database, evaluated) and compares the two histories; the parse-only rate is the
same pages' bytes parsed in memory, nothing else.

    .venv/bin/python benchmarks/bench_reparse.py
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from tracker.devtools.paths import REAL
from tracker.services.history_files import open_empty
from tracker.services.ingest import FetchedPage, ingest_page
from tracker.services.reparse import compare, kept_pages, rederive
from tracker.sources import PageRejected, parse

PLAN = (
    ("untc_mtdsg_xml", datetime(2018, 1, 15, 12, tzinfo=UTC), "application/xml"),
    ("untc_viewdetails_html", datetime(2026, 2, 3, 12, tzinfo=UTC), "text/html"),
)


def real_pages() -> list[FetchedPage]:
    index = json.loads((REAL / "index.json").read_text("utf-8"))
    return [
        FetchedPage(
            "untc",
            entry["original_url"],
            (REAL.parent.parent / entry["path"]).read_bytes(),
            when,
            content_type=content_type,
        )
        for kind, when, content_type in PLAN
        for entry in index
        if entry["kind"] == kind
    ]


def main() -> int:
    if not (REAL / "index.json").exists():
        print(f"skipped: {REAL} is absent (the real pages are needed)")
        return 0
    load = os.getloadavg()[0]
    pages = real_pages()
    with tempfile.TemporaryDirectory(prefix="bench-reparse-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'tracker.sqlite3'}"
        upgrade(url)
        old = make_session_factory(make_engine(url))
        outcomes: dict[str, int] = {}
        for page in pages:
            outcome = ingest_page(old, page).outcome
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        with old() as session:
            kept = kept_pages(session)
        by_digest = {page.digest: page for page in pages}
        print(f"history: {len(pages)} real pages ingested ({outcomes}); {len(kept)} kept pages")
        new = open_empty(f"sqlite:///{Path(tmp) / 'new.sqlite3'}")
        done = rederive(old, new)
        compared, differ = compare(old, new)
        print(
            f"re-derived {done.pages} pages in {done.seconds:.2f} s: {done.per_second:.1f} pages/s "
            f"({dict(done.outcomes)}); {compared} treaties compared, {len(differ)} differ"
        )
    # The same pages parsed alone: the bytes of each kept page, in memory.
    bodies = [by_digest[p.digest] for p in pages if p.digest in by_digest]
    started = time.perf_counter()
    for page in bodies:
        try:
            parse("untc", page.body, url=page.url, content_type=page.content_type)
        except PageRejected:
            pass
    parse_s = time.perf_counter() - started
    parse_rate = len(bodies) / parse_s
    ratio = done.per_second / parse_rate
    print(f"parse only: {len(bodies)} pages in {parse_s:.2f} s: {parse_rate:.1f} pages/s")
    print(f"re-derivation at {ratio:.2f} of the parse-only rate (goal >= 0.5); load {load:.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "benchmark": "reparse",
                "kept_pages": done.pages,
                "rederived_per_s": round(done.per_second, 1),
                "parse_only_per_s": round(parse_rate, 1),
                "ratio_to_parse_only": round(ratio, 3),
                "treaties_compared": compared,
                "treaties_differ": len(differ),
                "peak_rss_mib": round(peak, 1),
                "load_1min": round(load, 2),
            }
        )
    )
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
