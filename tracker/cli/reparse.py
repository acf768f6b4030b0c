"""`tracker reparse [--source S] [--treaty ID] [--into URL] [--switch] [--json]`: parse every kept
raw page again with today's parser into a new history (tracker.services.reparse), say what
differs from the current one, and replace the current one only when asked (`--switch`)."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, make_url, select, text

from db.engine import make_engine, make_session_factory
from db.migrate import upgrade
from db.models import Delivery, Subscription
from tracker.cli.common import UsageError
from tracker.services.health import HealthPolicy
from tracker.settings import Settings
from tracker.sources import registry

_WAITING = ("pending", "sending")


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


def _new_history(settings: Settings, into: str | None, stamp: str) -> str:
    if into is None:
        path = settings.data_dir / f"reparse-{stamp}.sqlite3"
        if path.exists():
            raise UsageError(f"tracker reparse: {path} exists already")
        into = f"sqlite:///{path.resolve()}"
    if make_url(into) == make_url(settings.database_url):
        raise UsageError("tracker reparse: --into names the current database")
    upgrade(into)
    engine = make_engine(into)
    with engine.connect() as conn:
        used = conn.execute(text("select count(*) from snapshots")).scalar_one()
    engine.dispose()
    if used:
        raise UsageError(f"tracker reparse: {into} already holds a history (it must be empty)")
    return into


def cmd_reparse(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.services.reparse import compare, rederive

    if args.switch and (args.source or args.treaty):
        raise UsageError(
            "tracker reparse: --switch replaces the whole history: no --source/--treaty"
        )
    if args.switch and _sqlite_path(settings.database_url) is None:
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
    upgrade(settings.database_url)
    old_engine = make_engine(settings.database_url)
    into = _new_history(settings, args.into, stamp)
    new_engine = make_engine(into)
    old, new = make_session_factory(old_engine), make_session_factory(new_engine)
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
            answer["previous_history"] = str(_switch(settings, old_engine, new_engine, stamp))
    finally:
        old_engine.dispose()
        new_engine.dispose()
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


def _switch(settings: Settings, old_engine: Any, new_engine: Any, stamp: str) -> Path:
    """Make the new history the current database file; the old one is kept beside it. Only
    with no service running (its leader lock is free) and no alert still to be sent."""
    from tracker.runtime.locks import make_leader_lock

    lock = make_leader_lock(settings)
    if not lock.try_acquire():
        raise UsageError(f"tracker reparse: {lock.description} is held: stop the service first")
    try:
        old_factory = make_session_factory(old_engine)
        with old_factory() as session:
            waiting = session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.state.in_(_WAITING))
            )
            if waiting:
                raise UsageError(
                    f"tracker reparse: {waiting} alert deliveries are still to be sent from the "
                    "current history: dispatch them first (`tracker dispatch`), then switch"
                )
            subscriptions = list(session.scalars(select(Subscription)))
            session.expunge_all()
        with make_session_factory(new_engine).begin() as session:
            for sub in subscriptions:  # the same ids, so links and tokens keep working
                session.merge(sub)
        for engine in (old_engine, new_engine):
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
        current = _sqlite_path(settings.database_url)
        new_path = _sqlite_path(str(new_engine.url))
        assert current is not None and new_path is not None
        kept = current.with_name(f"{current.name}.before-reparse-{stamp}")
        os.replace(current, kept)
        for suffix in ("-wal", "-shm"):  # empty after the checkpoint; never pair them anew
            for path in (Path(f"{current}{suffix}"), Path(f"{new_path}{suffix}")):
                path.unlink(missing_ok=True)
        os.replace(new_path, current)
        return kept
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
