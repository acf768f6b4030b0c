"""Command line: `tracker db upgrade | ingest [--spool] | crawl | run | sources | treaties | status |
history | forecast | rules | confirm | evaluate | reparse`.

Thin: parses arguments, reads Settings once, calls services, prints. Errors a user can fix
print one line on stderr and exit 2. This module holds the parser, `main` and the reading
commands; getting pages in (ingest, crawl) is in tracker.cli.pages, the rules' commands (rules,
confirm, evaluate) in tracker.cli.rules, the forecast in tracker.cli.forecast, the alerts' in
tracker.cli.alerts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from db.vocabulary import RULE_EVENT_KINDS, TREATY_EVENT_KINDS
from tracker.cli import render
from tracker.cli.common import Parser as _Parser
from tracker.cli.common import UsageError, since_arg, upgrade_database
from tracker.cli.common import database as _database
from tracker.cli.common import date_arg as _date
from tracker.cli.common import moment_arg as _moment
from tracker.cli.forecast import cmd_forecast
from tracker.cli.pages import cmd_crawl, cmd_ingest
from tracker.cli.rules import cmd_confirm, cmd_evaluate, cmd_rules
from tracker.services.read.common import NotFound
from tracker.services.unit_of_work import BAD_DATABASE, one_line
from tracker.settings import ConfigError, Settings
from tracker.sources import registry


def _show(value: Any, as_json: bool, render: Callable[[Any], str]) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False) if as_json else render(value))


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.services.unit_of_work import schema_revision, upgrade_schema

    ran = upgrade_schema(settings.database_url)
    revision = schema_revision(settings.database_url)
    print(f"database at revision {revision}" + (" (upgraded)" if ran else ""))
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.runtime.process import run_service

    upgrade_database(settings)
    return run_service(settings, host=args.host, port=args.port)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.devtools.demo import DemoError, run_demo

    try:
        return run_demo(
            settings,
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            pages_dir=args.pages,
            open_browser=not args.no_browser,
            verbose=args.verbose,
        )
    except DemoError as error:
        raise UsageError(f"tracker demo: {error}") from None


def cmd_treaties(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.services.read.treaties import treaties_overview

    # The overview's rows: counts, threshold, remaining, stage, entry into force (computed and
    # printed), the depositary's "status as at" and the observation; in the depositaries' order.
    with _database(settings) as database, database.read() as session:
        rows = treaties_overview(session, today=datetime.now(UTC).date(), source=args.source)
    _show(rows, args.json, render.treaties_table)
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.services.read.status import treaty_status

    if args.missing:
        return _status_missing(args, settings)
    with _database(settings) as database, database.read() as session:
        status = treaty_status(
            session,
            args.treaty,
            as_of=args.as_of,
            known_at=args.known_at,
            confirm_after=timedelta(hours=settings.disappearance_confirm_hours),
        )
    _show(status, args.json, render.status_text)
    return 0


def _status_missing(args: argparse.Namespace, settings: Settings) -> int:
    """`tracker status ID --missing`: who has not joined, from the latest status."""
    from tracker.services.read.missing import treaty_missing

    if args.as_of is not None or args.known_at is not None:
        raise UsageError("tracker status: --missing answers from the latest status only")
    with _database(settings) as database, database.read() as session:
        answer = treaty_missing(session, args.treaty)
    _show(answer, args.json, render.missing_text)
    return 0


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.services.read.events import treaty_history

    with _database(settings) as database, database.read() as session:
        history = treaty_history(session, args.treaty, since=args.since)
    _show(history, args.json, render.history_text)
    return 0


def _since(text: str) -> datetime:
    """`--since`: a date (its first instant, UTC) or an ISO date-time (UTC without a zone)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"bad time {text!r}: expected YYYY-MM-DD or an ISO date-time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_events(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.services.read.events import events
    from tracker.services.read.treaties import find_treaty

    with _database(settings) as database, database.read() as session:
        treaty_id = find_treaty(session, args.treaty)[0].id if args.treaty else None
        rows = events(
            session,
            treaty_id=treaty_id,
            since=args.since,
            kind=args.kind,
            source=args.source,
            limit=args.limit,
        )
    _show(rows, args.json, render.events_table)
    return 0


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.services.health import HealthPolicy
    from tracker.services.read.sources import list_sources

    policy = HealthPolicy.from_settings(settings)
    with _database(settings) as database, database.read() as session:
        rows = list_sources(session, datetime.now(UTC), policy, registry.slugs())
    _show(rows, args.json, render.sources_table)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Describe the commands and their options."""
    parser = _Parser(prog="tracker", description="Treaty ratification tracker.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    db.set_defaults(handler=cmd_db)
    ingest = sub.add_parser(
        "ingest", help="load saved pages (archives), oldest first; --spool: the crawls' spool"
    )
    ingest.add_argument("--source", choices=registry.slugs())
    ingest.add_argument("--observed-at", type=_date, metavar="YYYY-MM-DD")
    ingest.add_argument(
        "--spool",
        action="store_true",
        help="store the fetched pages that a database error kept in the spool (data_dir/spool)",
    )
    ingest.add_argument("files", nargs="*", metavar="FILE")
    ingest.set_defaults(handler=cmd_ingest)
    crawl = sub.add_parser("crawl", help="fetch the depositaries' pages and ingest them")
    crawl.add_argument(
        "--source",
        choices=registry.slugs(),
        help="the depositary to crawl (default: every registered source, one after the other)",
    )
    crawl.add_argument("--treaty", action="append", metavar="ID", help="repeatable")
    crawl.add_argument("--base-url", metavar="URL")
    crawl.add_argument(
        "--format",
        choices=sorted({f for s in registry.all_sources() for f in s.formats}),
        help="the status pages' format (untc: html, the default, or xml): a treaty's history "
        "comes from its first snapshot's format, a page of another is a cross-check",
    )
    crawl.add_argument(
        "--json", action="store_true", help="print the crawl's summary (every page's outcome)"
    )
    crawl.set_defaults(handler=cmd_crawl)
    run = sub.add_parser("run", help="run the service (scheduled crawls; the HTTP API comes later)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.set_defaults(handler=cmd_run)
    demo = sub.add_parser(
        "demo",
        help="the whole system offline: recorded pages served on loopback, crawled, dashboard",
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--data-dir", type=Path, default=Path("data/demo"), metavar="DIR")
    demo.add_argument(
        "--pages",
        type=Path,
        metavar="DIR",
        help="recorded status pages (*.html) of any source, each served by the source whose "
        "parser accepts it; default, per source: ../shared/fixtures/real, else "
        "tests/fixtures/<source>",
    )
    demo.add_argument("--no-browser", action="store_true", help="do not open a browser")
    demo.add_argument(
        "--verbose", action="store_true", help="log at TRACKER_LOG_LEVEL (default: warnings only)"
    )
    demo.set_defaults(handler=cmd_demo)
    from tracker.cli.alerts import add_commands
    from tracker.cli.reparse import add_commands as add_reparse

    add_commands(sub)
    add_reparse(sub)
    treaties = sub.add_parser("treaties", help="list the tracked treaties")
    treaties.add_argument(
        "--source", choices=registry.slugs(), help="only this source's treaties (default: all)"
    )
    treaties.add_argument("--json", action="store_true")
    treaties.set_defaults(handler=cmd_treaties)
    status = sub.add_parser("status", help="who signed and who is party")
    status.add_argument("treaty", metavar="ID")
    status.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD")
    status.add_argument(
        "--known-at",
        type=_moment,
        metavar="T",
        help="answer from the snapshots observed by T only (a date: the end of that day, UTC; "
        "or a date-time with its zone, e.g. 2026-02-03T15:00Z)",
    )
    status.add_argument(
        "--missing",
        action="store_true",
        help="who has not joined: the UN Member States (and the observer States the page lists) "
        "with no consent to be bound, signed or not, and those that withdrew",
    )
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_status)
    history = sub.add_parser("history", help="snapshots and change events")
    history.add_argument("treaty", metavar="ID")
    history.add_argument(
        "--since",
        type=since_arg,
        metavar="DATE|TIME",
        help="only what was observed from then on (a date: from its start, UTC)",
    )
    history.add_argument("--json", action="store_true")
    history.set_defaults(handler=cmd_history)
    forecast = sub.add_parser(
        "forecast", help="when the Nth instrument and entry into force are expected"
    )
    forecast.add_argument("treaty", metavar="ID")
    forecast.add_argument(
        "--by",
        type=_date,
        action="append",
        metavar="YYYY-MM-DD",
        help="a date for the probability of entry into force by then (repeatable; default: the "
        "end of this year and of the next)",
    )
    forecast.add_argument(
        "--today",
        type=_date,
        metavar="YYYY-MM-DD",
        help="forecast as on this day: every instrument dated later is left out (default: today, "
        "UTC); the histories are what the database holds now",
    )
    forecast.add_argument("--json", action="store_true")
    forecast.set_defaults(handler=cmd_forecast)
    listed_events = sub.add_parser(
        "events", help="change and rule events across treaties, newest first"
    )
    listed_events.add_argument(
        "--source", choices=registry.slugs(), help="only this source's treaties' events"
    )
    listed_events.add_argument("--treaty", metavar="ID", help="only this treaty's (public id)")
    listed_events.add_argument("--kind", choices=[k.value for k in TREATY_EVENT_KINDS])
    listed_events.add_argument(
        "--since",
        type=_since,
        metavar="T",
        help="observed at or after T (a date: from its start, UTC; or a date-time, UTC unless "
        "it has a zone)",
    )
    listed_events.add_argument("--limit", type=int, default=100, metavar="N")
    listed_events.add_argument("--json", action="store_true")
    listed_events.set_defaults(handler=cmd_events)
    rules = sub.add_parser("rules", help="entry-into-force rules, in words and data")
    rules.add_argument("treaty", nargs="?", metavar="ID")
    rules.add_argument(
        "--source", choices=registry.slugs(), help="only this source's rules (the list)"
    )
    rules.add_argument("--json", action="store_true")
    rules.set_defaults(handler=cmd_rules)
    confirm = sub.add_parser(
        "confirm",
        help="confirm that a rule's outside-data condition was met (KEY --met-on), or that "
        "rule events held as disputed are right ([KIND] --reason) (operators)",
    )
    confirm.add_argument("treaty", metavar="ID")
    confirm.add_argument(
        "condition",
        nargs="?",
        metavar="KEY|KIND",
        help="the condition's key (see `tracker rules ID`); with --reason, the disputed rule "
        f"event's kind ({', '.join(RULE_EVENT_KINDS)}; default: all)",
    )
    confirm.add_argument("--met-on", type=_date, metavar="YYYY-MM-DD")
    confirm.add_argument("--note", metavar="TEXT", help="where the figure comes from")
    confirm.add_argument(
        "--reason", metavar="TEXT", help="why the disputed events are right (kept with them)"
    )
    confirm.add_argument("--by", metavar="NAME", help="who confirms (default: the OS user)")
    confirm.set_defaults(handler=cmd_confirm)
    listed = sub.add_parser("sources", help="each depositary source and its health")
    listed.add_argument("--json", action="store_true")
    listed.set_defaults(handler=cmd_sources)
    evaluate = sub.add_parser(
        "evaluate", help="evaluate every treaty's rule now and record due events (the daily job)"
    )
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(handler=cmd_evaluate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:
        args = build_parser().parse_args(argv)
        settings = Settings.from_env()
        return int(args.handler(args, settings))
    except BrokenPipeError:  # output piped into `head` and closed: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except UsageError as error:
        print(error, file=sys.stderr)
    except NotFound as error:
        print(f"tracker: {error.for_cli()}", file=sys.stderr)
    except ConfigError as error:
        print(f"tracker: configuration: {error}", file=sys.stderr)
    except BAD_DATABASE as error:
        print(f"tracker: database: {one_line(error)}", file=sys.stderr)
    except OSError as error:
        print(f"tracker: {error}", file=sys.stderr)
    return 2
