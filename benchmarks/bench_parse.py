"""Time untc.parse() per real page against a bare lxml parse of the same bytes; print a table.

HTML: the 30 ViewDetails pages of Feb 2026, baseline `lxml.html.fromstring(body)`.
XML: the 407 MTDSG files of Jan 2018, baseline `etree.fromstring(body, XMLParser(recover=True))`.
parse() includes validation; a rejected XML file (PageRejected) is timed like an accepted one.

    .venv/bin/python benchmarks/bench_parse.py [--repeat 5] [--breakdown]

--breakdown first times each step of the parsers alone (decode, control scan, lxml parse,
finding the sections, the participants table, footnotes, declarations; XML: the tree, the
reading and validation), the median over the pages of each step's best run.

Ends with one JSON line: {"benchmark": "parse", "html_ratio_median": ..., "peak_rss_mib": ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable

from lxml import etree
from lxml import html as lxml_html

from tracker.devtools.paths import REAL
from tracker.sources import PageRejected, untc
from tracker.sources.untc import footnotes, table


def _cold() -> None:
    """Forget what earlier parses remembered of cells and footnotes (tracker.sources.untc's
    bounded caches), so that each timed run parses its page as the first page of a crawl does:
    a page's best of 5 is otherwise four runs from a warm cache."""
    table.cell_action.cache_clear()
    footnotes._read.cache_clear()


def _best_ms(fn: Callable[[], object], repeat: int) -> float:
    """Best of `repeat` runs, in milliseconds (the least disturbed measurement), each from
    cold caches."""
    best = float("inf")
    for _ in range(repeat):
        _cold()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def _ours(body: bytes, url: str) -> Callable[[], object]:
    def run() -> object:
        try:
            return untc.parse(body, url=url)
        except PageRejected as exc:
            return exc

    return run


def _quiet(fn: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        try:
            return fn()
        except PageRejected as exc:
            return exc

    return run


def _html_parts(body: bytes) -> dict[str, Callable[[], object]]:
    """The steps of untc.parse_html on one page, each alone (on a tree parsed beforehand)."""
    from tracker.sources.documents import html_root
    from tracker.sources.encoding import decode
    from tracker.sources.text import utf8_has_controls
    from tracker.sources.untc import html as h
    from tracker.sources.untc.declarations import read_declarations

    root = html_root(body, None)
    found = h._find(root)
    table = found["table"][0] if found["table"] else None
    parser = etree.HTMLParser(encoding="utf-8")
    return {
        "decode (strict)": lambda: decode(body),
        "control scan (bytes)": lambda: utf8_has_controls(body),
        "etree parse (bytes)": lambda: etree.fromstring(body, parser),
        "html_root (all three)": lambda: html_root(body, None),
        "_find": lambda: h._find(root),
        "_participants": (lambda: h._participants(table)) if table is not None else lambda: None,
        "_footnotes": lambda: h._footnotes(found["notes"]),
        "read_declarations": lambda: read_declarations(root),
    }


def _xml_parts(body: bytes) -> dict[str, Callable[[], object]]:
    """The steps of untc.parse_xml on one file, each alone."""
    from tracker.sources.untc import xml as x

    try:
        root = x._root(body)
    except PageRejected:
        return {"_root (decode, clean, parse)": _quiet(lambda: x._root(body))}
    return {
        "decode (strict)": _quiet(lambda: x.decode(body)),
        "_root (decode, clean, parse)": lambda: x._root(body),
        "_status (read, validate)": _quiet(lambda: x._status(root, None)),
    }


def _breakdown(index: list[dict[str, str]], repeat: int) -> None:
    """Median over the pages of each step's best time (steps overlap: not additive)."""
    for kind, parts in (("untc_viewdetails_html", _html_parts), ("untc_mtdsg_xml", _xml_parts)):
        times: dict[str, list[float]] = {}
        for entry in (e for e in index if e["kind"] == kind):
            body = (REAL.parent.parent / entry["path"]).read_bytes()
            for name, fn in parts(body).items():
                times.setdefault(name, []).append(_best_ms(fn, repeat))
        print(f"breakdown {kind} (median of per-page best, ms):")
        for name, values in times.items():
            print(f"  {name:<30} {statistics.median(values):8.3f}   (sum {sum(values):8.1f})")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    """Run the benchmark and print one row per format."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per page (best one kept)")
    parser.add_argument(
        "--breakdown", action="store_true", help="first time each parser step alone, per page"
    )
    args = parser.parse_args()
    if not (REAL / "index.json").exists():
        print(f"skipped: {REAL} is absent (the real pages are needed)")
        print(json.dumps({"benchmark": "parse", "skipped": f"{REAL} is absent"}))
        return 0
    index = json.loads((REAL / "index.json").read_text("utf-8"))
    if args.breakdown:
        _breakdown(index, args.repeat)
    recover = etree.XMLParser(recover=True)
    baselines: dict[str, Callable[[bytes], object]] = {
        "untc_viewdetails_html": lxml_html.fromstring,
        "untc_mtdsg_xml": lambda body: etree.fromstring(body, recover),
    }
    print(
        f"{'format':<6} {'files':>5} {'MB':>6} {'parse med':>10} {'parse p95':>10} "
        f"{'lxml med':>9} {'lxml p95':>9} {'ratio med':>9} {'ratio p95':>9}"
    )
    figures: dict[str, object] = {"benchmark": "parse"}
    for kind, label in (("untc_viewdetails_html", "HTML"), ("untc_mtdsg_xml", "XML")):
        ours, bare, size = [], [], 0
        for entry in (e for e in index if e["kind"] == kind):
            body = (REAL.parent.parent / entry["path"]).read_bytes()
            size += len(body)
            ours.append(_best_ms(_ours(body, entry["original_url"]), args.repeat))
            bare.append(_best_ms(lambda b=body, f=baselines[kind]: f(b), args.repeat))
        med_ours, med_bare = statistics.median(ours), statistics.median(bare)
        print(
            f"{label:<6} {len(ours):>5} {size / 1e6:>6.1f} {med_ours:>8.2f}ms {_p95(ours):>8.2f}ms "
            f"{med_bare:>7.2f}ms {_p95(bare):>7.2f}ms {med_ours / med_bare:>8.1f}x "
            f"{_p95(ours) / _p95(bare):>8.1f}x"
        )
        key = label.lower()
        figures |= {
            f"{key}_ratio_median": round(med_ours / med_bare, 2),
            f"{key}_ratio_p95": round(_p95(ours) / _p95(bare), 2),
            f"{key}_median_ms": round(med_ours, 3),
            f"lxml_{key}_median_ms": round(med_bare, 3),
        }
    # ru_maxrss: KiB on Linux, the peak of this process (pages, trees and statuses included).
    figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(json.dumps(figures, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
