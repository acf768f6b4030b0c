"""Requests per second and p50/p99 latency at 32 concurrent clients of the API and the
dashboard, beside their floor: a static JSON file, the API's own answer, served by the same
server in the same run.

Targets, in one run: the static file; `GET /api/treaties/{id}` answered from the cache (the
kept bytes); the same answer computed on every request (a second server whose answer cache
never hits); `GET /api/treaties` (the list); the dashboard's treaty page `/treaties/{id}`.
Each gets rps, p50, p99, errors and its ratios to the static file's rps and p99; the static
file is loaded first and again last, and the floor is the mean of its two runs. The servers
answer `TRACKER_WEB_THREADS` requests at once (`--web-threads N` to compare; default: the
setting's).

The 30 real UNTC pages of Feb 2026 are ingested into a temporary SQLite database (or, with
`--postgres URL`, also into a fresh schema of it); each server is uvicorn as `tracker run`
starts it (one process, no access log, `create_app` over `make_session_factory(make_engine(url))`),
plus, in this script only, a StaticFiles mount holding the API's own answer saved to a file.
Load comes from `wrk` (a separate C process) when installed, else from a separate Python
process with 32 asyncio httpx clients, always on 127.0.0.1; each target gets a warm-up, then a
fixed duration. The servers' peak RSS (VmHWM) is read before they are stopped. The last line
is the JSON of the figures (SQLite's; PostgreSQL's under "postgresql").

    .venv/bin/python benchmarks/bench_api.py [--treaty XXVI-9] [--duration 10] [--postgres URL]
        [--web-threads N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracker.devtools.paths import REAL, ROOT
from tracker.settings import Settings

STATIC_PREFIX = "/bench-static"
CONCURRENCY = 32
UNCACHED_ENV = "TRACKER_BENCH_UNCACHED"
WEB_THREADS_ENV = "TRACKER_WEB_THREADS"


# --- the database -------------------------------------------------------------------------


def build_database(url: str) -> int:
    """Migrate `url` and ingest the 30 real ViewDetails pages; return how many were accepted."""
    from db.engine import make_engine, make_session_factory
    from db.migrate import upgrade
    from tracker.services.ingest import FetchedPage, ingest_page

    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    observed = datetime(2026, 2, 3, 15, tzinfo=UTC)
    accepted = 0
    for entry in json.loads((REAL / "index.json").read_text("utf-8")):
        if entry["kind"] != "untc_viewdetails_html":
            continue
        body = (REAL.parent.parent / entry["path"]).read_bytes()
        page = FetchedPage(
            "untc", entry["original_url"], body, observed, expected_treaty=entry["mtdsg"]
        )
        accepted += ingest_page(sessions, page).outcome == "accepted"
    engine.dispose()
    return accepted


def _with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


# --- the server (a subprocess running this file with --serve) ------------------------------


def server_settings(url: str) -> Settings:
    """The servers' settings, read as `tracker run` reads them: the database, and
    TRACKER_WEB_THREADS when --web-threads set it."""
    env = {"TRACKER_DATABASE_URL": url}
    if os.environ.get(WEB_THREADS_ENV):
        env[WEB_THREADS_ENV] = os.environ[WEB_THREADS_ENV]
    return Settings.from_env(env)


def serve(url: str, port: int, static_dir: str) -> None:
    """uvicorn as `tracker run` configures it, plus the benchmark's static mount."""
    import uvicorn
    from fastapi.staticfiles import StaticFiles

    from db.engine import make_engine, make_session_factory
    from tracker.services.answer_cache import ANSWERS
    from tracker.web.app import create_app

    if os.environ.get(UNCACHED_ENV):  # every request computes its answer (for comparison)

        def never(session: Any, key: Any) -> None:
            return None

        ANSWERS.get = never  # type: ignore[method-assign]

    app = create_app(make_session_factory(make_engine(url)), server_settings(url))
    app.mount(STATIC_PREFIX, StaticFiles(directory=static_dir), name="bench-static")
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", log_config=None, access_log=False
    )
    uvicorn.Server(config).run()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(base: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server did not answer {base}/healthz within {timeout} s")


def _get(url: str) -> tuple[int, bytes, str]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.status, answer.read(), answer.headers.get("content-type", "")


# --- load: wrk, or a separate Python process ------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def run_wrk(url: str, seconds: float) -> dict[str, Any]:
    threads = max(1, min(CONCURRENCY, os.cpu_count() or 1))
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{CONCURRENCY}", f"-d{seconds:g}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    try:
        return _parse_wrk(out)
    except ValueError as error:
        raise SystemExit(f"could not read wrk's output ({error}):\n{out}") from None


def _parse_wrk(out: str) -> dict[str, Any]:
    def find(pattern: str) -> str:
        found = re.search(pattern, out, re.MULTILINE)
        if found is None:
            raise ValueError(f"no match for {pattern!r}")
        return found.group(1)

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    return {
        "requests": int(find(r"(\d+) requests in")),
        "rps": float(find(r"^Requests/sec:\s+([\d.]+)")),
        "p50": _ms(find(r"^\s*50%\s+(\S+)[ \t]*$")),
        "p99": _ms(find(r"^\s*99%\s+(\S+)[ \t]*$")),
        "errors": (int(non_2xx.group(1)) if non_2xx else 0)
        + (sum(int(n) for n in sockets.groups()) if sockets else 0),
    }


async def _python_load(url: str, seconds: float) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        started = time.perf_counter()
        stop = started + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                try:
                    answer = await client.get(url)
                    await answer.aread()
                    ok = answer.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - t0) * 1000)
                errors += not ok

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "rps": len(ordered) / elapsed,
        "p50": statistics.median(ordered),
        "p99": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        "errors": errors,
    }


def run_python(url: str, seconds: float) -> dict[str, Any]:
    """The Python load generator, in its own process (so it does not share the server's GIL)."""
    out = subprocess.run(
        [sys.executable, __file__, "--load", url, "--duration", str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out))


# --- the benchmark ----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--treaty", default="XXVI-9")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per target")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds per target")
    parser.add_argument("--postgres", metavar="URL", help="also run on a fresh schema of URL")
    parser.add_argument("--loader", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--web-threads",
        type=int,
        metavar="N",
        help="the servers' TRACKER_WEB_THREADS (default: the setting's default)",
    )
    parser.add_argument(
        "--serve", nargs=3, metavar=("DB_URL", "PORT", "STATIC_DIR"), help=argparse.SUPPRESS
    )
    parser.add_argument("--load", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.serve[2])
        return 0
    if args.load:
        print(json.dumps(asyncio.run(_python_load(args.load, args.duration))))
        return 0
    if not (REAL / "index.json").exists():
        print(f"skipped: {REAL} is absent (the real pages are needed)")
        return 0
    loader = args.loader
    if loader == "auto":
        loader = "wrk" if shutil.which("wrk") else "python"
    if loader == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk), or use --loader python")
    load = run_wrk if loader == "wrk" else run_python

    if args.web_threads is not None:  # the servers (subprocesses) read it
        os.environ[WEB_THREADS_ENV] = str(args.web_threads)
    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    databases = [("sqlite", f"sqlite:///{work / 'tracker.sqlite3'}", None)]
    threads = server_settings(databases[0][1]).web_threads
    if args.postgres:
        schema = f"bench_api_{uuid.uuid4().hex[:8]}"
        databases.append(("postgresql", _with_schema(args.postgres, schema), schema))
    print(
        f"API and dashboard vs the API's answer as a static file; {CONCURRENCY} concurrent "
        f"clients ({loader}), {args.warmup:g} s warm-up + {args.duration:g} s each; "
        f"{threads} web threads; "
        f"{os.cpu_count()} CPUs; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average {_load()}"
    )
    rows: list[dict[str, Any]] = []
    memory: dict[str, dict[str, float]] = {}
    try:
        for label, url, schema in databases:
            if schema is not None:
                _create_schema(args.postgres, schema)
            try:
                found, memory[label] = _bench_one(label, url, args, work, load)
                rows += found
            finally:
                if schema is not None:
                    _drop_schema(args.postgres, schema)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average after: {_load()}")
    print()
    print(
        f"{'database':<11} {'target':<12} {'path':<30} {'requests':>8} {'rps':>7} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'errors':>6} {'rps/static':>10} {'p99/static':>10}"
    )
    for r in rows:
        print(
            f"{r['database']:<11} {r['target']:<12} {r['path']:<30} {r['requests']:>8} "
            f"{r['rps']:>7.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['errors']:>6} "
            f"{r['rps_ratio']:>10.2f} {r['p99_ratio']:>10.2f}"
        )
    for label, peaks in memory.items():
        print(
            f"{label}: server peak RSS (VmHWM) {peaks['cached']:.1f} MiB; "
            f"the uncached server's {peaks['uncached']:.1f} MiB"
        )
    figures = [_figures(label, rows, memory[label]) for label, _, _ in databases]
    final = figures[0] | {"web_threads": threads}
    if len(figures) > 1:
        final["postgresql"] = figures[1]
    print(json.dumps(final))
    return 0


def _floor(by: dict[str, dict[str, Any]], figure: str) -> float:
    """The static file's `figure` (rps, p99) as the floor: the mean of its first and last runs,
    on either side of the others (this machine's speed drifts within minutes)."""
    return statistics.mean((by["static"][figure], by["static again"][figure]))


def _figures(label: str, rows: list[dict[str, Any]], peaks: dict[str, float]) -> dict[str, Any]:
    """The JSON figures of one database's rows."""
    by = {r["target"]: r for r in rows if r["database"] == label}
    return {
        "benchmark": "api",
        "database": label,
        "static_rps": round(_floor(by, "rps"), 1),
        "static_p99_ms": round(_floor(by, "p99"), 2),
        "static_rps_before_after": [round(by[t]["rps"], 1) for t in ("static", "static again")],
        "cached_rps": round(by["cached"]["rps"], 1),
        "cached_p99_ms": round(by["cached"]["p99"], 2),
        "cached_ratio": round(by["cached"]["rps_ratio"], 3),
        "cached_p99_ratio": round(by["cached"]["p99_ratio"], 3),
        "uncached_rps": round(by["uncached"]["rps"], 1),
        "uncached_ratio": round(by["uncached"]["rps_ratio"], 3),
        "list_rps": round(by["list"]["rps"], 1),
        "list_ratio": round(by["list"]["rps_ratio"], 3),
        "page_rps": round(by["page"]["rps"], 1),
        "page_ratio": round(by["page"]["rps_ratio"], 3),
        "errors": sum(r["errors"] for r in by.values()),
        "server_peak_rss_mib": round(peaks["cached"], 1),
        "uncached_server_peak_rss_mib": round(peaks["uncached"], 1),
        "load": _load(),
    }


def _start(url: str, static_dir: Path, uncached: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop(UNCACHED_ENV, None)
    if uncached:
        env[UNCACHED_ENV] = "1"
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", url, str(port), str(static_dir)], env=env, cwd=ROOT
    )
    return server, f"http://127.0.0.1:{port}"


def _peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (VmHWM), in MiB, while it still runs."""
    status = Path(f"/proc/{pid}/status").read_text("ascii")
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else float("nan")


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


def _bench_one(
    label: str, url: str, args: argparse.Namespace, work: Path, load: Any
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    started = time.perf_counter()
    accepted = build_database(url)
    print(f"{label}: {accepted} real pages ingested in {time.perf_counter() - started:.1f} s")
    static_dir = work / f"static-{label}"
    static_dir.mkdir()
    servers: list[subprocess.Popen[bytes]] = []
    peaks: dict[str, float] = {}
    try:
        server, base = _start(url, static_dir, uncached=False)
        servers.append(server)
        plain, plain_base = _start(url, static_dir, uncached=True)
        servers.append(plain)
        _wait_up(base, server)
        _wait_up(plain_base, plain)
        api_path = f"/api/treaties/{args.treaty}"
        status, body, media = _get(base + api_path)
        if status != 200 or media != "application/json":
            raise SystemExit(f"{api_path}: {status} {media}")
        (static_dir / f"{args.treaty}.json").write_bytes(body)
        static_path = f"{STATIC_PREFIX}/{args.treaty}.json"
        status, same, _ = _get(base + static_path)
        assert status == 200 and same == body
        status, computed, _ = _get(plain_base + api_path)
        if status != 200 or computed != body:
            raise SystemExit(f"{api_path}: the uncached answer differs from the cached one")
        print(
            f"{label}: answer {len(body)} bytes; server pid {server.pid}, "
            f"uncached server pid {plain.pid}"
        )
        page_path = f"/treaties/{args.treaty}"
        targets = [
            ("static", base, static_path),
            ("cached", base, api_path),
            ("uncached", plain_base, api_path),
            ("list", base, "/api/treaties"),
            ("page", base, page_path),
        ]
        for _, at, path in targets:
            status, _, _ = _get(at + path)
            if status != 200:
                raise SystemExit(f"{path}: {status}")
            load(at + path, args.warmup)
        rows = []
        # The static file again last: the floor is the mean of its two runs (`_floor`).
        for name, at, path in [*targets, ("static again", base, static_path)]:
            found = load(at + path, args.duration)
            rows.append({"database": label, "target": name, "path": path, **found})
        by = {r["target"]: r for r in rows}
        floor_rps, floor_p99 = _floor(by, "rps"), _floor(by, "p99")
        for r in rows:
            r["rps_ratio"] = r["rps"] / floor_rps if floor_rps else float("nan")
            r["p99_ratio"] = r["p99"] / floor_p99 if floor_p99 else float("nan")
        peaks["cached"] = _peak_rss_mib(server.pid)
        peaks["uncached"] = _peak_rss_mib(plain.pid)
        return rows, peaks
    finally:
        for s in servers:
            _stop(s)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _create_schema(url: str, schema: str) -> None:
    from sqlalchemy import text

    from db.engine import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def _drop_schema(url: str, schema: str) -> None:
    from sqlalchemy import text

    from db.engine import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
