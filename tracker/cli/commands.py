"""Command line: `tracker db upgrade | ingest [--spool] | crawl | run | sources | treaties | status |
history | rules | confirm | evaluate`.

Thin: parses arguments, reads Settings once, calls services, prints. Errors a user can fix
print one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from db.vocabulary import RULE_EVENT_KINDS
from tracker import sources
from tracker.cli import render
from tracker.cli.common import Parser as _Parser
from tracker.cli.common import UsageError, upgrade_database
from tracker.cli.common import database as _database
from tracker.cli.common import date_arg as _date
from tracker.cli.common import moment_arg as _moment
from tracker.services.read.common import NotFound
from tracker.services.unit_of_work import BAD_DATABASE, DatabaseError, one_line
from tracker.settings import ConfigError, Settings
from tracker.sources import registry


def _show(value: Any, as_json: bool, render: Callable[[Any], str]) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False) if as_json else render(value))


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from db.migrate import current, upgrade

    ran = upgrade(settings.database_url)
    print(f"database at revision {current(settings.database_url)}" + (" (upgraded)" if ran else ""))
    return 0


def _observed(path: Path, body: bytes, source: str, override: date | None) -> datetime | None:
    if override is not None:
        return datetime.combine(override, time(), UTC)
    try:
        return sources.parse(source, body, url=path.resolve().as_uri()).status_as_at
    except Exception:  # noqa: BLE001 (the ingest below reports why the page is not accepted)
        return None


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    if args.spool:
        if args.files or args.observed_at:
            raise UsageError("tracker ingest: --spool takes no files and no --observed-at")
        return _ingest_spool(settings)
    if not args.files:
        raise UsageError("tracker ingest: give FILE... (with --source), or --spool")
    if args.source is None:
        raise UsageError("tracker ingest: --source is required with files")
    from tracker.services.health import HealthPolicy
    from tracker.services.ingest import FetchedPage, ingest_page

    paths = [Path(f) for f in args.files]
    for path in paths:
        if not path.is_file():
            raise UsageError(f"no such file: {path}")
    now = datetime.now(UTC)
    plans = []
    for i, path in enumerate(paths):
        body = path.read_bytes()
        stamp = _observed(path, body, args.source, args.observed_at)
        plans.append((stamp or now, i, path, body, stamp))
    plans.sort(key=lambda plan: (plan[0], plan[1]))  # ingest archives in observation order
    failed = 0
    with _database(settings) as database:
        for _, _, path, body, stamp in plans:
            page = FetchedPage(args.source, path.resolve().as_uri(), body, now, stamp)
            result = ingest_page(
                database.sessions,
                page,
                approaching=settings.approaching_remaining,
                confirm_after=timedelta(hours=settings.disappearance_confirm_hours),
                health=HealthPolicy.from_settings(settings),
            )
            print(render.ingest_line(str(path), result), flush=True)
            failed += result.outcome in ("rejected", "quarantined")
    return 1 if failed else 0


def _ingest_spool(settings: Settings) -> int:
    """Store the pages crawls fetched but could not store (database errors), oldest first."""
    from tracker.services.health import HealthPolicy
    from tracker.services.spool import recover_spool

    def show(spooled: Any, result: Any) -> None:
        label = f"{spooled.page.url} (fetched {spooled.page.fetched_at.isoformat()})"
        print(render.ingest_line(label, result), flush=True)

    with _database(settings) as database:
        recovery = recover_spool(
            database.sessions,
            settings.spool_dir,
            approaching=settings.approaching_remaining,
            confirm_after=timedelta(hours=settings.disappearance_confirm_hours),
            health=HealthPolicy.from_settings(settings),
            retries=settings.ingest_retries,
            on_page=show,
        )
    for path, why in recovery.left:
        print(f"{'left':<11} {path}: {why}", flush=True)
    print(
        f"spool {settings.spool_dir}: {len(recovery.recovered)} recovered, "
        f"{len(recovery.left)} left"
    )
    return 1 if recovery.left else 0


def cmd_crawl(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.runtime.crawl_report import record_unrecorded
    from tracker.runtime.crawl_runner import run_crawl, stop_on_signals
    from tracker.services.health import HealthPolicy

    registry.base_urls(settings)  # a TRACKER_BASE_URLS slug no source has: exit 2 now
    chosen = [args.source] if args.source else list(registry.slugs())
    if len(chosen) > 1 and (args.treaty or args.base_url):
        raise UsageError(
            f"tracker crawl: --treaty and --base-url need --source (one of {', '.join(chosen)})"
        )
    for treaty in args.treaty or []:
        try:
            registry.check_id(chosen[0], treaty)
        except ValueError as bad:
            raise UsageError(str(bad)) from None
    reports = []
    for slug in chosen:
        with stop_on_signals():  # SIGTERM / Ctrl-C: the crawl is stopped, its files removed
            upgrade_database(settings)
            started = datetime.now(UTC)
            options: dict[str, Any] = {"treaties": args.treaty or None, "base_url": args.base_url}
            if args.source or len(chosen) > 1:
                options["source"] = slug  # else run_crawl's default: the only source
            report = run_crawl(settings, **options)
        try:  # a crawl that died, or could not record itself, still counts on the source row
            with _database(settings) as database:
                policy = HealthPolicy.from_settings(settings)
                record_unrecorded(
                    database.sessions, slug, report, started, datetime.now(UTC), policy
                )
        except DatabaseError as error:
            print(f"tracker: could not record the crawl: {one_line(error)}", file=sys.stderr)
        if args.json:
            summary = {**report.stats, "returncode": report.returncode}
            if report.error:
                summary.update(ok=False, error=report.error)
            print(json.dumps(summary, indent=2, sort_keys=True), flush=True)
        else:
            print(report.summary(), flush=True)
        reports.append(report)
        if report.stopped and report.returncode > 128:  # stopped by a signal: no next source
            break
    return max(r.returncode for r in reports)


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
    from tracker.services.read.treaties import list_treaties

    with _database(settings) as database, database.read() as session:
        rows = list_treaties(session)
    _show(rows, args.json, render.treaties_table)
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.services.read.status import treaty_status

    with _database(settings) as database, database.read() as session:
        status = treaty_status(session, args.treaty, as_of=args.as_of, known_at=args.known_at)
    _show(status, args.json, render.status_text)
    return 0


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.services.read.events import treaty_history

    with _database(settings) as database, database.read() as session:
        history = treaty_history(session, args.treaty)
    _show(history, args.json, render.history_text)
    return 0


def cmd_rules(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.services.rules_service import list_rules, show_rule

    with _database(settings) as database, database.read() as session:
        if args.treaty:
            _show(show_rule(session, args.treaty), args.json, render.rule_text)
        else:
            _show(list_rules(session), args.json, render.rules_table)
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

    by = args.by or f"{getpass.getuser()} (command line)"
    with _database(settings) as database, database.write() as session:
        treaty, _ = find_treaty(session, args.treaty)
        try:
            done = confirm_disputed(
                session, treaty, args.condition, reason=args.reason, by=by, now=datetime.now(UTC)
            )
        except (NothingDisputed, ValueError) as bad:
            raise UsageError(f"tracker confirm: {bad}") from None
    for event in done:
        print(
            f"{treaty.external_id}: {event['kind']} of {event['legal_date']} confirmed "
            f"(final; {event['deliveries']} deliveries enqueued)"
        )
    return 0


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.services.health import HealthPolicy, list_sources

    policy = HealthPolicy.from_settings(settings)
    with _database(settings) as database, database.read() as session:
        rows = list_sources(session, datetime.now(UTC), policy, registry.slugs())
    _show(rows, args.json, render.sources_table)
    return 0


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.services.rules_service import evaluate_now

    with _database(settings) as database, database.write() as session:
        done = evaluate_now(
            session, now=datetime.now(UTC), approaching=settings.approaching_remaining
        )
    _show(done, args.json, render.evaluation_text)
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
        help="recorded UNTC status pages (*.html); default: ../shared/fixtures/real, "
        "else tests/fixtures/untc",
    )
    demo.add_argument("--no-browser", action="store_true", help="do not open a browser")
    demo.add_argument(
        "--verbose", action="store_true", help="log at TRACKER_LOG_LEVEL (default: warnings only)"
    )
    demo.set_defaults(handler=cmd_demo)
    from tracker.cli.alerts import add_commands

    add_commands(sub)
    treaties = sub.add_parser("treaties", help="list the tracked treaties")
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
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_status)
    history = sub.add_parser("history", help="snapshots and change events")
    history.add_argument("treaty", metavar="ID")
    history.add_argument("--json", action="store_true")
    history.set_defaults(handler=cmd_history)
    rules = sub.add_parser("rules", help="entry-into-force rules, in words and data")
    rules.add_argument("treaty", nargs="?", metavar="ID")
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
        print(f"tracker: {error}", file=sys.stderr)
    except ConfigError as error:
        print(f"tracker: configuration: {error}", file=sys.stderr)
    except BAD_DATABASE as error:
        print(f"tracker: database: {one_line(error)}", file=sys.stderr)
    except OSError as error:
        print(f"tracker: {error}", file=sys.stderr)
    return 2
