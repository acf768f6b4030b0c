"""`tracker forecast ID [--by DATE ...] [--today DATE] [--json]`: when the Nth qualifying
instrument and entry into force are expected (tracker.services.read.forecast), in words or as
the JSON of GET /api/treaties/{id}/forecast."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from tracker.cli.common import database
from tracker.settings import Settings


def cmd_forecast(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.services.read.forecast import treaty_forecast

    today = args.today or datetime.now(UTC).date()
    with database(settings) as db, db.read() as session:
        found = treaty_forecast(session, args.treaty, today=today, horizons=tuple(args.by or ()))
    answer = found.to_dict()
    print(json.dumps(answer, indent=2, ensure_ascii=False) if args.json else forecast_text(answer))
    return 0


def _interval(dates: dict[str, str | None]) -> str:
    low, high = dates["p10"], dates["p90"] or "later than any comparable treaty shows"
    return f"median {dates['median'] or 'not known'} (80%: {low} to {high})"


def forecast_text(f: dict[str, Any]) -> str:
    """The forecast in a few lines a reader of policy reads; no date where none is known."""
    n = f["threshold"]
    head = f"{f['treaty']}: " + (
        f"needs {n} qualifying instruments; {f['qualifying']} so far."
        if n
        else "its rule counts no instruments."
    )
    lines = [head]
    if f["state"] == "threshold met":
        eif = f["entry_into_force"]
        lines.append(f"Threshold met: {f['reason']}.")
        if eif:
            lines.append(f"Entry into force (computed): {eif['median']}.")
    elif f["state"] == "forecast":
        lines.append(f"{n}th instrument: {_interval(f['nth_instrument'])}.")
        lines.append(f"Entry into force: {_interval(f['entry_into_force'])}.")
        chances = ", ".join(
            f"by {day}: {round(p * 100)}%" for day, p in f["probability_by"].items()
        )
        lines.append(f"Probability of entry into force {chances}.")
        lines.append(
            f"Based on {f['based_on']} tracked treaties ({f['reached']} reached their threshold)."
        )
        if f["naive"]:
            lines.append(f"This treaty's pace so far, extrapolated: {f['naive']}.")
    else:
        lines.append(f"No forecast ({f['state']}): {f['reason']}.")
    if f["not_forecast"] and f["reason"] != "; ".join(f["not_forecast"]):
        lines.append("Not forecast: " + "; ".join(f["not_forecast"]) + ".")
    if f["state"] in ("forecast", "insufficient history"):
        lines.append(f"Method: {f['method']}.")
    return "\n".join(lines)
