"""`tracker reparse [--source S] [--treaty ID] [--into URL] [--switch] [--json]`: parse every kept
raw page again with today's parser into a new history (tracker.services.reparse), say what
differs from the current one, and replace the current one only when asked (`--switch`)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tracker.cli.common import UsageError
from tracker.services.health import HealthPolicy
from tracker.settings import Settings
from tracker.sources import registry


def _new_history(settings: Settings, into: str | None, stamp: str) -> Any:
    from tracker.services.history_files import claim_name, open_empty

    if into is None:
        settings.ensure_data_dir()
        path = claim_name(settings.data_dir, f"reparse-{stamp}", ".sqlite3")
        into = f"sqlite:///{path.resolve()}"
    if into == settings.database_url:
        raise UsageError("tracker reparse: --into names the current database")
    try:
        return into, open_empty(into)
    except ValueError as error:
        raise UsageError(f"tracker reparse: {error}") from None


def cmd_reparse(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.services.history_files import complete, sqlite_file
    from tracker.services.reparse import compare, rederive
    from tracker.services.unit_of_work import Database

    if args.switch and (args.source or args.treaty):
        raise UsageError(
            "tracker reparse: --switch replaces the whole history: no --source/--treaty"
        )
    if args.switch and sqlite_file(settings.database_url) is None:
        raise UsageError(
            "tracker reparse: --switch replaces a SQLite database file; on another database, "
            "point TRACKER_DATABASE_URL at the new history (--into) instead"
        )
    source, treaty = args.source, None
    if args.treaty:
        found = registry.split_id(args.treaty)
        if found is None or (source is not None and found[0].slug != source):
            raise UsageError(f"tracker reparse: no source has a treaty id like {args.treaty!r}")
        source, treaty = found[0].slug, found[1]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    current = Database.upgraded(settings.database_url)
    old = current.sessions
    into, new = _new_history(settings, args.into, stamp)
    try:
        done = rederive(
            old,
            new,
            source=source,
            treaty=treaty,
            approaching=settings.approaching_remaining,
            confirm_after=timedelta(hours=settings.disappearance_confirm_hours),
            health=HealthPolicy.from_settings(settings),
        )
        complete(new)
        compared, differ = compare(old, new, source, treaty)
        answer: dict[str, Any] = {
            "new_history": into,
            "pages": done.pages,
            "seconds": round(done.seconds, 3),
            "pages_per_second": round(done.per_second, 1),
            "outcomes": dict(done.outcomes),
            "confirmations_carried": done.confirmations,
            "treaties": compared,
            "differ": [
                {"treaty": d.treaty, "parts": d.parts, "examples": list(d.examples)} for d in differ
            ],
            "switched": False,
        }
        if args.switch:
            answer["switched"] = True
            answer["previous_history"] = str(_switch(settings, old, new, stamp))
    finally:
        current.dispose()
        new.kw["bind"].dispose()
    if args.json:
        print(json.dumps(answer, indent=2, default=str))
    else:
        print(_text(answer))
    return 0


def _text(a: dict[str, Any]) -> str:
    outcomes = ", ".join(f"{n} {k}" for k, n in sorted(a["outcomes"].items())) or "none"
    lines = [
        f"re-derived {a['pages']} kept pages in {a['seconds']:.1f} s "
        f"({a['pages_per_second']} pages/s): {outcomes}",
        f"new history: {a['new_history']} (operators' confirmations carried over: "
        f"{a['confirmations_carried']}; no subscription: nothing was alerted)",
        f"compared {a['treaties']} treaties: "
        + (f"{len(a['differ'])} differ" if a["differ"] else "every history is identical"),
    ]
    for d in a["differ"]:
        parts = ", ".join(f"{p}: {o} only before, {n} only now" for p, (o, n) in d["parts"].items())
        lines.append(f"  {d['treaty']}: {parts}")
        lines += [f"    {example}" for example in d["examples"]]
    if a["switched"]:
        lines.append(f"switched: the new history is current; the previous one is kept as "
                     f"{a['previous_history']}")  # fmt: skip
    elif a["pages"]:
        lines.append("not switched (run again with --switch to make the new history current)")
    return "\n".join(lines)


def _switch(settings: Settings, old: Any, new: Any, stamp: str) -> Path:
    """Make the new history the current database file; the old one is kept beside it. Only
    with no service running (its leader lock is free) and no alert still to be sent."""
    from tracker.runtime.locks import make_leader_lock
    from tracker.services.history_files import switch_files, waiting_deliveries

    lock = make_leader_lock(settings)
    if not lock.try_acquire():
        raise UsageError(f"tracker reparse: {lock.description} is held: stop the service first")
    try:
        waiting = waiting_deliveries(old)
        if waiting:
            raise UsageError(
                f"tracker reparse: {waiting} alert deliveries are still to be sent from the "
                "current history: dispatch them first (`tracker dispatch`), then switch"
            )
        return switch_files(old, new, f".before-reparse-{stamp}")
    finally:
        lock.release()


def add_commands(sub: Any) -> None:
    """Register `tracker reparse` on the `tracker` sub-parsers."""
    reparse = sub.add_parser(
        "reparse",
        help="parse every kept raw page again into a new history and say what differs",
    )
    reparse.add_argument("--source", choices=registry.slugs(), help="only this source's pages")
    reparse.add_argument("--treaty", metavar="ID", help="only this treaty's pages (public id)")
    reparse.add_argument(
        "--into",
        metavar="URL",
        help="the (empty) database for the new history (default: a new SQLite file "
        "reparse-<time>.sqlite3 in the data directory)",
    )
    reparse.add_argument(
        "--switch",
        action="store_true",
        help="then make the new history the current one (SQLite; the previous file is kept "
        "beside it); refused while a service runs or alerts are still to be sent",
    )
    reparse.add_argument("--json", action="store_true")
    reparse.set_defaults(handler=cmd_reparse)
