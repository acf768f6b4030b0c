"""A machine-readable record of every fault the suite tried and what the tracker did.

Each fault test ends with `Verdict.finish(...)`: its promises that broke, the outcome, the false
alerts and the pages lost go to one JSON line per fault in the session's record directory (each
xdist worker writes its own file). When the session ends, the controller merges them into one
JSON report: `$TRACKER_FAULTS_REPORT` if set, else `faults-report.json` in the session's pytest
temporary directory, and prints the totals (faults tried, held, false alerts, pages lost).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPORT_ENV = "TRACKER_FAULTS_REPORT"
RECORDS = "fault-records"


def controller_basetemp(config: pytest.Config) -> Path:
    """The session's temporary directory as the controller sees it (workers use a subdirectory)."""
    base = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def records_dir(config: pytest.Config) -> Path:
    path = controller_basetemp(config) / RECORDS
    path.mkdir(parents=True, exist_ok=True)
    return path


def backend() -> str:
    return "postgresql" if os.environ.get("TRACKER_TEST_DATABASE_URL") else "sqlite"


@dataclass
class Verdict:
    """The promises one fault test checks: every broken one is kept (soft assertions), recorded,
    and reported together when the test finishes."""

    request: pytest.FixtureRequest
    fault: str
    group: str
    expected: str = ""
    kind: str = "fault"  # or "check": a promise about a whole crawl of a scenario, not a fault
    broken: list[str] = field(default_factory=list)

    def check(self, ok: object, promise: str) -> bool:
        if not ok:
            self.broken.append(promise)
        return bool(ok)

    def finish(
        self, *, outcome: str, false_alerts: int = 0, pages_lost: int = 0, **details: Any
    ) -> None:
        if false_alerts:
            self.check(False, f"{false_alerts} false alert(s) delivered")
        if pages_lost:
            self.check(False, f"{pages_lost} page(s) lost (no outcome at all)")
        entry = {
            "fault": self.fault,
            "kind": self.kind,
            "group": self.group,
            "backend": backend(),
            "expected": self.expected,
            "outcome": outcome,
            "held": not self.broken,
            "broken": self.broken,
            "false_alerts": false_alerts,
            "pages_lost": pages_lost,
            "test": self.request.node.nodeid,
            **details,
        }
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        path = records_dir(self.request.config) / f"{worker}.jsonl"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        if self.broken:
            pytest.fail(
                f"fault {self.fault!r} (expected: {self.expected}; got: {outcome}):\n- "
                + "\n- ".join(self.broken),
                pytrace=False,
            )


def merge(config: pytest.Config) -> dict[str, Any] | None:
    """The session's records as one report (None when no fault test ran)."""
    directory = controller_basetemp(config) / RECORDS
    if not directory.is_dir():
        return None
    entries: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.jsonl")):
        entries += [
            json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line
        ]
    if not entries:
        return None
    entries.sort(key=lambda e: (e["backend"], e["group"], e.get("kind") != "fault", e["fault"]))
    faults = [e for e in entries if e.get("kind", "fault") == "fault"]
    checks = [e for e in entries if e.get("kind", "fault") != "fault"]
    totals = {
        "faults_tried": len(faults),
        "held": sum(e["held"] for e in faults),
        "broken": sum(not e["held"] for e in faults),
        "crawl_checks": len(checks),
        "crawl_checks_held": sum(e["held"] for e in checks),
        "false_alerts": sum(e["false_alerts"] for e in entries),
        "pages_lost": sum(e["pages_lost"] for e in entries),
        "backends": dict(Counter(e["backend"] for e in faults)),
    }
    return {"totals": totals, "faults": entries}


def write_report(config: pytest.Config) -> tuple[Path, dict[str, Any]] | None:
    report = merge(config)
    if report is None:
        return None
    target = Path(os.environ.get(REPORT_ENV) or controller_basetemp(config) / "faults-report.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str) + "\n")
    return target, report


def summary_line(path: Path, report: dict[str, Any]) -> str:
    t = report["totals"]
    return (
        f"faults: {t['faults_tried']} tried, {t['held']} held, {t['broken']} broken "
        f"(crawl checks: {t['crawl_checks_held']}/{t['crawl_checks']} held), "
        f"{t['false_alerts']} false alerts, {t['pages_lost']} pages lost -> {path}"
    )


def markdown(report: dict[str, Any]) -> str:
    """The report as the README's table: every fault tried, what the tracker did, held or not."""
    t = report["totals"]
    lines = [
        "| Backend | Group | Fault | Expected | What the tracker did | Held |",
        "|---|---|---|---|---|---|",
    ]
    for e in report["faults"]:
        did = e["outcome"].replace("|", "/").replace("\n", " ")
        if len(did) > 160:
            did = did[:157] + "..."
        mark = "yes" if e["held"] else "**no**: " + "; ".join(e["broken"])[:200].replace("|", "/")
        name = e["fault"] + (" (crawl check)" if e.get("kind") == "check" else "")
        lines.append(
            f"| {e['backend']} | {e['group']} | {name} | {e['expected']} | {did} | {mark} |"
        )
    lines.append("")
    lines.append(
        f"Faults tried: {t['faults_tried']}, held: {t['held']}, broken: {t['broken']}; "
        f"crawl checks held: {t['crawl_checks_held']} of {t['crawl_checks']}; "
        f"false alerts: {t['false_alerts']}; pages lost: {t['pages_lost']}."
    )
    return "\n".join(lines)


if __name__ == "__main__":  # python tests/support/fault_record.py REPORT.json [...] > table.md
    import sys

    merged: dict[str, Any] = {"faults": []}
    for name in sys.argv[1:]:
        merged["faults"] += json.loads(Path(name).read_text(encoding="utf-8"))["faults"]
    faults = [e for e in merged["faults"] if e.get("kind", "fault") == "fault"]
    checks = [e for e in merged["faults"] if e.get("kind", "fault") != "fault"]
    merged["totals"] = {
        "faults_tried": len(faults),
        "held": sum(e["held"] for e in faults),
        "broken": sum(not e["held"] for e in faults),
        "crawl_checks": len(checks),
        "crawl_checks_held": sum(e["held"] for e in checks),
        "false_alerts": sum(e["false_alerts"] for e in merged["faults"]),
        "pages_lost": sum(e["pages_lost"] for e in merged["faults"]),
    }
    print(markdown(merged))
