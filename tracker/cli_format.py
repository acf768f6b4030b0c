"""Plain-text rendering of the CLI's answers (the JSON forms come straight from the services)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracker.services.ingest import IngestResult


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Render rows as left-aligned columns under a header line."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def ingest_line(path: str, result: IngestResult) -> str:
    """One line per ingested file: what happened, to which treaty, or why not."""
    if result.outcome in ("accepted", "unchanged"):
        return f"{result.outcome:<11} {result.treaty_id}  {path}  ({result.events} events)"
    return f"{result.outcome:<11} {path}: {result.reason}"


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def treaties_table(rows: Sequence[dict[str, Any]]) -> str:
    """Render the treaty list."""
    if not rows:
        return "no treaties yet (run `tracker crawl` or `tracker ingest`)"
    body = [
        (
            r["treaty"],
            r["signatories"],
            r["parties"],
            _yes_no(r["in_force"]),
            (r["observed_at"] or "")[:10],
            _short(r["title"], 70),
        )
        for r in rows
    ]
    return table(("treaty", "sign.", "parties", "in force", "observed", "title"), body)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def status_text(s: dict[str, Any]) -> str:
    """Render a status answer: header lines, then one row per participant."""
    published = s["published"] or {}
    head = [
        f"{s['treaty']}  {s['title']}",
        f"as of {s['as_of'] or 'latest'}: {s['signatories']} signatories, {s['parties']} parties;"
        f" in force: {_yes_no(s['in_force'])}",
        f"printed: {published.get('signatories')} signatories, {published.get('parties')} parties;"
        f" entry into force {published.get('entry_into_force') or '-'}",
        f"observed {s['observed_at']}  source {s['source_url']}",
        "",
    ]
    provisional = any(p["provisional_application"] for p in s["participants"])
    headers = ["participant", "iso3", "signature", "consent"]
    headers += ["provisional application"] if provisional else []
    rows = []
    for p in s["participants"]:
        row = [p["name"], p["iso3"], p["signature"], _dated(p["consent"])]
        row += [_dated(p["provisional_application"])] if provisional else []
        rows.append([*row, "withdrawn" if p["withdrawn"] else ""])
    if not rows:
        return "\n".join(head) + "no participants"
    return "\n".join(head) + table([*headers, ""], rows)


def _dated(action: dict[str, Any] | None) -> str:
    return f"{action['date']} {action['kind']}" if action else ""


def history_text(h: dict[str, Any]) -> str:
    """Render snapshots then events."""
    snaps = [
        (s["observed_at"], s["signatories"], s["parties"], s["hash"][:12]) for s in h["snapshots"]
    ]
    events = [
        (e["observed_at"], e["kind"], e["participant"] or "", e["legal_date"] or "", e["state"])
        for e in h["events"]
    ]
    parts = [
        f"{h['treaty']}  {h['title']}",
        "",
        f"snapshots ({len(snaps)})",
        table(("observed", "sign.", "parties", "hash"), snaps),
        "",
        f"events ({len(events)})",
        table(("observed", "kind", "participant", "legal date", "state"), events)
        if events
        else "none",
    ]
    return "\n".join(parts)
