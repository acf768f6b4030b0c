"""The forecast's histories from the real captures of ../shared (never copied into the repository).

Every real status page the tracker can read (UNTC's 30 ViewDetails pages of Feb 2026, its 407
MTDSG XML files of Jan 2018, WIPO Lex's 26 contracting-parties pages of Feb 2026) is parsed with
the source's parser, given its rule (curated, else extracted from its page's words; no rule: left
out) and evaluated with it, as the service does; where one treaty has two captures the newer
wins. Used by benchmarks/bench_forecast.py (the backtest) and the conformance tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tracker.catalogue import rule_for
from tracker.devtools.paths import REAL
from tracker.domain.evaluate import evaluate
from tracker.domain.models import TreatyStatus
from tracker.domain.rules import Rule
from tracker.forecast.history import History, history_of
from tracker.sources import PageRejected, parse
from tracker.sources.registry import footnotes, public_id

# index.json kind -> the source whose parser reads it
KINDS = {"untc_viewdetails_html": "untc", "untc_mtdsg_xml": "untc", "wipo_lex_html": "wipo"}


@dataclass(frozen=True)
class Tracked:
    """One real treaty as the tracker would hold it: its rule, status and history."""

    slug: str
    public_id: str
    captured: date
    rule: Rule
    status: TreatyStatus
    history: History
    computed: date | None  # entry into force computed with its rule (None: not met)


def load(root: Path = REAL) -> list[Tracked]:
    """Every readable real treaty with a count rule (empty when the captures are absent)."""
    index = root / "index.json"
    if not index.exists():
        return []
    found: dict[str, Tracked] = {}
    for entry in json.loads(index.read_text("utf-8")):
        slug = KINDS.get(entry["kind"])
        if slug is None:
            continue
        body = (root.parent.parent / entry["path"]).read_bytes()
        try:
            status = parse(slug, body, url=entry["original_url"])
        except PageRejected:
            continue
        rule = rule_for(slug, status.treaty_id, status)
        if rule is None:
            continue
        captured = date.fromisoformat(entry["captured"].split("..")[-1])  # a range: its end
        ev = evaluate(rule, status, footnotes=footnotes(slug), today=captured)
        pid = public_id(slug, status.treaty_id)
        history = history_of(pid, rule, status, ev)
        if history is None:
            continue
        known = found.get(pid)
        if known is not None and known.captured >= captured:
            continue
        found[pid] = Tracked(slug, pid, captured, rule, status, history, ev.computed)
    return sorted(found.values(), key=lambda t: t.public_id)
