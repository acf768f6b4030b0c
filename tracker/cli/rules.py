"""Command line for entry-into-force rules: `tracker rules | confirm | evaluate`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tracker.cli import render
from tracker.cli.common import UsageError
from tracker.cli.common import database as _database
from tracker.settings import Settings


def _show(value: Any, as_json: bool, render: Callable[[Any], str]) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False) if as_json else render(value))


def cmd_rules(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.services.rules_service import list_rules, show_rule

    with _database(settings) as database, database.read() as session:
        if args.treaty:
            _show(show_rule(session, args.treaty), args.json, render.rule_text)
        else:
            _show(list_rules(session, args.source), args.json, render.rules_table)
    return 0


def cmd_confirm(args: argparse.Namespace, settings: Settings) -> int:
    if args.reason is not None:
        if args.met_on is not None or args.note is not None:
            raise UsageError(
                "tracker confirm: --reason confirms disputed events; --met-on and --note a "
                "condition: not both"
            )
        return _confirm_disputed(args, settings)
    if args.condition is None or args.met_on is None:
        raise UsageError(
            "tracker confirm: give KEY --met-on YYYY-MM-DD (a condition), or [KIND] --reason "
            "TEXT (disputed rule events)"
        )
    from tracker.services.rules_service import BadCondition, confirm_condition

    with _database(settings) as database, database.write() as session:
        try:
            done = confirm_condition(
                session,
                args.treaty,
                args.condition,
                args.met_on,
                note=args.note,
                now=datetime.now(UTC),
                approaching=settings.approaching_remaining,
            )
        except BadCondition as bad:
            raise UsageError(f"tracker confirm: {bad}") from None
    events = ", ".join(done["events"]) or "no new events"
    print(f"{done['treaty']}: condition {done['condition']} met on {done['met_on']} ({events})")
    return 0


def _confirm_disputed(args: argparse.Namespace, settings: Settings) -> int:
    """`tracker confirm ID [KIND] --reason TEXT`: an operator's word that held rule events are
    right: final, and their deliveries enqueued now."""
    import getpass

    from tracker.services.disputed_events import NothingDisputed, confirm_disputed
    from tracker.services.read.treaties import find_treaty
    from tracker.sources import registry

    by = args.by or f"{getpass.getuser()} (command line)"
    with _database(settings) as database, database.write() as session:
        treaty, slug = find_treaty(session, args.treaty)
        public = registry.public_id(slug, treaty.external_id)
        try:
            done = confirm_disputed(
                session, treaty, args.condition, reason=args.reason, by=by, now=datetime.now(UTC)
            )
        except (NothingDisputed, ValueError) as bad:
            raise UsageError(f"tracker confirm: {bad}") from None
    for event in done:
        print(
            f"{public}: {render.words(event['kind'])} of {event['legal_date']} confirmed "
            f"(final; {event['deliveries']} deliveries enqueued)"
        )
    return 0


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.services.rules_service import evaluate_now

    with _database(settings) as database, database.write() as session:
        done = evaluate_now(
            session, now=datetime.now(UTC), approaching=settings.approaching_remaining
        )
    _show(done, args.json, render.evaluation_text)
    return 0
