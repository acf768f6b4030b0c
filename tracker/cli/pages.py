"""Command line for getting pages in: `tracker ingest FILE... | ingest --spool | crawl`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from tracker import sources
from tracker.cli import render
from tracker.cli.common import UsageError, upgrade_database
from tracker.cli.common import database as _database
from tracker.services.unit_of_work import DatabaseError, one_line
from tracker.settings import Settings
from tracker.sources import registry


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


def _crawl_treaties(source: str | None, typed: list[str]) -> tuple[str | None, list[str]]:
    """The source and its own ids of `--treaty` values: public ids (XXVI-9, WIPO-843) name
    their source; with --source, the source's own ids (843) are taken too. Ids of several
    sources, or one the source cannot have, are a usage error."""
    own: list[str] = []
    named: set[str] = set()
    for treaty in typed:
        found = registry.split_id(treaty)
        if source is not None and (found is None or found[0].slug != source):
            slug, ident = source, treaty  # the source's own id, e.g. --source wipo --treaty 843
        elif found is None:
            raise UsageError(f"tracker crawl: no source has treaty {treaty!r}")
        else:
            slug, ident = found[0].slug, found[1]
        try:
            registry.check_id(slug, ident)
        except ValueError as bad:
            raise UsageError(str(bad)) from None
        named.add(slug)
        own.append(ident)
    if len(named) > 1:
        raise UsageError(
            f"tracker crawl: --treaty ids of several sources ({', '.join(sorted(named))}): "
            "crawl them one --source at a time"
        )
    return (source or (named.pop() if named else None)), own


def _with_format(chosen: list[str], fmt: str | None, named: bool) -> list[str]:
    """The sources to crawl in `fmt` (None: each in its default format): without --source,
    those whose pages come in it; a named source that has no such pages is a usage error."""
    if fmt is None:
        return chosen
    having = [slug for slug in chosen if fmt in registry.get(slug).formats]
    if having and not (named and having != chosen):
        return having
    kinds = "; ".join(f"{s}: {', '.join(registry.get(s).formats)}" for s in chosen)
    raise UsageError(f"tracker crawl: no {fmt} pages to crawl ({kinds})")


def cmd_crawl(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.runtime.crawl_report import record_unrecorded
    from tracker.runtime.crawl_runner import run_crawl, stop_on_signals
    from tracker.services.health import HealthPolicy

    registry.base_urls(settings)  # a TRACKER_BASE_URLS slug no source has: exit 2 now
    source, treaties = _crawl_treaties(args.source, args.treaty or [])
    chosen = [source] if source else list(registry.slugs())
    chosen = _with_format(chosen, args.format, source is not None)
    if len(chosen) > 1 and args.base_url:
        raise UsageError(f"tracker crawl: --base-url needs --source (one of {', '.join(chosen)})")
    reports = []
    for slug in chosen:
        with stop_on_signals():  # SIGTERM / Ctrl-C: the crawl is stopped, its files removed
            upgrade_database(settings)
            started = datetime.now(UTC)
            options: dict[str, Any] = {"treaties": treaties or None, "base_url": args.base_url}
            if args.format:
                options["fmt"] = args.format
            if source or args.format or len(chosen) > 1:
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
