"""Process faults: `tracker ingest` and the crawl's Scrapy child killed with SIGKILL mid-work, and
the database going away in the middle of a crawl.

After each: the database is consistent (support/db_checks.py), and once the work is done again it
equals an uninterrupted reference run into another database: `tracker status --json` and
`tracker history --json` of every treaty minus ids and times, and the outbox (which alerts are
owed). The receiver then gets each owed alert once: nothing lost, nothing false, no repeat.

The database outage: on PostgreSQL a loopback TCP proxy in front of the server is cut (every
connection reset, the port closed) while the crawl is ingesting, and stays cut until the crawl
ends; on SQLite another connection holds the write lock (BEGIN EXCLUSIVE) for longer than the
busy timeout. No page may be lost: each ends stored, or spooled and recovered by the next crawl
(then the history has the observation made during the outage, before the next one).
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from support import wrong_pages as pages
from support.db_checks import consistency_problems, outbox
from support.db_outage import SqliteLock, TcpProxy, alive, crawl_child, descendants
from support.fault_scenario import Scenario
from support.hostile import Delay, HostileSite
from support.tracker_run import (
    base_env,
    cli,
    comparable_history,
    delivered,
    dispatch,
    history,
    start_ingest,
    status,
    status_for_reference,
    subscribe_webhook,
)
from support.untc_render import Row, render

pytestmark = [pytest.mark.db, pytest.mark.slow]

GROUP = "process faults"
TREATIES = [f"XXVI-{501 + i}" for i in range(8)]
PACE = 0.3  # seconds the site takes per status page while a crawl is to be interrupted
rng = random.Random(9)


def version(treaty: str, v: int) -> bytes:
    """Version 1: the good page. 2: Algeria and Türkiye ratify. 3: Norway signs and ratifies.
    Every version changes every treaty, so a lost observation shows in every history."""
    page = pages.good_page(treaty, stamp=f"0{v}-03-2026 10:00:00 EST")
    rows = list(page.rows)
    if v >= 2:
        rows[0] = replace(rows[0], consent=date(2026, 2, 10))
        rows[4] = replace(rows[4], consent=date(2026, 2, 20))
    if v >= 3:
        rows.append(Row("Norway", signature=date(2026, 3, 1), consent=date(2026, 3, 1)))
    return render(replace(page, rows=rows))


def set_version(site: HostileSite, v: int, pace: float | None = None) -> None:
    site.restore()
    for t in TREATIES:
        site.set_page(t, version(t, v))
        if pace:
            site.inject(t, Delay(pace))


def snapshot_of(env: dict[str, str], base_url: str) -> dict[str, Any]:
    """What must equal across databases: per treaty, status and history minus ids and times."""
    return {
        t: {
            "status": status_for_reference(status(env, t), base_url),
            "history": comparable_history(history(env, t), base_url),
        }
        for t in TREATIES
    }


def _diff(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    return [
        f"{t} {part}"
        for t in want
        for part in ("status", "history")
        if got.get(t, {}).get(part) != want[t][part]
    ]


@pytest.fixture(scope="module")
def reference(new_database, receiver, tmp_path_factory) -> dict[str, Any]:
    """Uninterrupted crawls of versions 1, 2 and 3 into a database of their own."""
    found: dict[str, Any] = {}
    with HostileSite({t: version(t, 1) for t in TREATIES}) as site:
        scenario = Scenario(
            site, new_database("reference"), tmp_path_factory.mktemp("ref"), receiver
        ).begin()
        for v in (2, 3):
            set_version(site, v)
            obs = scenario.crawl(f"version {v}")
            assert obs.run.exit == 0, obs.run.tail()
            found[v] = {
                "state": snapshot_of(scenario.env, site.base_url),
                "outbox": outbox(scenario.db_url),
            }
    return found


def _wait_for_pages(
    site: HostileSite, since: float, count: int, proc: Any, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while sum(h.answer == f"delay({PACE:g}s): 200" for h in site.status_hits(since)) < count:
        if proc.poll() is not None:
            raise AssertionError(f"the crawl ended before {count} pages: {proc.communicate()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {count} pages served in {timeout} s")
        time.sleep(0.01)


def _received(obs_delivered: list[Any]) -> Counter[tuple[str, str | None, str | None]]:
    return Counter((d.kind, d.treaty, d.participant) for d in obs_delivered)


def _owed(box: Counter[Any]) -> Counter[tuple[str, str | None, str | None]]:
    found: Counter[tuple[str, str | None, str | None]] = Counter()
    for (kind, treaty, participant, _channel), n in box.items():
        found[(kind, treaty, participant)] += n
    return found


@pytest.mark.xdist_group("faults-process-crawl")
def test_sigkill_of_the_crawl_child_mid_work(
    reference, new_database, receiver, tmp_path, verdict
) -> None:
    v = verdict(
        "SIGKILL of the crawl's Scrapy child mid-crawl",
        GROUP,
        "consistent, re-crawl equals the reference, each alert once",
    )
    with HostileSite({t: version(t, 1) for t in TREATIES}) as site:
        scenario = Scenario(site, new_database("killcrawl"), tmp_path / "data", receiver).begin()
        base = scenario.baseline
        assert base is not None and base.source is not None
        set_version(site, 2, pace=PACE)
        mark = time.monotonic()
        running = scenario.start(TRACKER_CONCURRENCY="1")
        child = crawl_child(running.proc.pid)
        _wait_for_pages(site, mark, 3, running.proc)
        time.sleep(rng.uniform(0, PACE / 2))
        tree = descendants(running.proc.pid)  # the child and anything it started
        os.kill(child, signal.SIGKILL)
        killed = running.wait(60)
        time.sleep(0.2)
        left = {pid: cmd for pid, cmd in tree.items() if alive(pid)}
        v.check(
            killed.exit != 0, f"`tracker crawl` exits non-zero when its child dies: {killed.tail()}"
        )
        v.check(not left, f"no crawl process is left: {left}")
        problems = consistency_problems(scenario.db_url)
        v.check(not problems, f"the database is consistent after the kill: {problems}")
        obs = scenario.observe("killed", killed, mark)
        v.check(
            (obs.source or {}).get("last_success_at") == base.source["last_success_at"],
            "a killed crawl is no success (last_success_at does not move)",
        )
        stored = [t for t in TREATIES if obs.outcome(t).outcome == "accepted"]
        v.check(0 < len(stored) < len(TREATIES), f"the kill landed mid-crawl: {stored} stored")
        set_version(site, 2)
        again = scenario.step("re-crawl")
        v.check(again.run.exit == 0, f"the re-crawl succeeds: {again.run.tail()}")
        state = snapshot_of(scenario.env, site.base_url)
    differs = _diff(state, reference[2]["state"])
    v.check(not differs, f"after the re-crawl, status and history equal the reference: {differs}")
    box = outbox(scenario.db_url)
    v.check(
        box == reference[2]["outbox"],
        f"the alerts owed are the reference's: {dict(box)} vs {dict(reference[2]['outbox'])}",
    )
    got, owed = _received(again.delivered), _owed(reference[2]["outbox"])
    keys = Counter(d.key for d in again.delivered)
    v.check(
        got == owed,
        f"the receiver gets each owed alert once: {dict(got - owed)} extra, "
        f"{dict(owed - got)} missing",
    )
    v.check(max(keys.values(), default=1) == 1, "no alert is repeated")
    v.finish(
        outcome=f"exit {killed.exit}, {len(stored)} stored before the kill, "
        f"re-crawl exit {again.run.exit}",
        false_alerts=sum((got - owed).values()),
        pages_lost=len(differs),
    )


SQLITE_OUTAGE_BUSY_S = 1
SQLITE_OUTAGE_S = 10


@pytest.mark.xdist_group("faults-process-crawl")
def test_database_outage_mid_crawl(reference, new_database, receiver, tmp_path, verdict) -> None:
    on_pg = bool(os.environ.get("TRACKER_TEST_DATABASE_URL"))
    how = "TCP proxy to PostgreSQL cut" if on_pg else "SQLite write lock held by another connection"
    v = verdict(
        f"database outage mid-crawl ({how})",
        GROUP,
        "crawl not ok, no page lost, recovered by the next crawl",
    )
    db_url = new_database("outage")
    proxy = TcpProxy.for_url(db_url).start() if on_pg else None
    # SQLite: the crawl waits at most 1 s for the lock (the URL's busy timeout), so an outage
    # of 10 s outlasts its retries and the spool is tried, as the cut proxy does on PostgreSQL.
    crawl_url = proxy.url(db_url) if proxy else f"{db_url}?timeout={SQLITE_OUTAGE_BUSY_S}"
    lock = None if on_pg else SqliteLock(db_url)
    try:
        with HostileSite({t: version(t, 1) for t in TREATIES}) as site:
            scenario = Scenario(site, crawl_url, tmp_path / "data", receiver).begin()
            base = scenario.baseline
            assert base is not None and base.source is not None
            set_version(site, 2, pace=PACE)
            mark = time.monotonic()
            # A long download timeout: a blocked ingest must not turn waiting downloads into
            # timeouts (that would be a fetch fault, not this one).
            running = scenario.start(TRACKER_CONCURRENCY="1", TRACKER_DOWNLOAD_TIMEOUT="90")
            _wait_for_pages(site, mark, 3, running.proc)
            if proxy is not None:
                proxy.cut()
                run = running.wait(150)
                proxy.restore()
            else:
                assert lock is not None
                lock.hold()
                held_until = time.monotonic() + SQLITE_OUTAGE_S
                while running.proc.poll() is None and time.monotonic() < held_until:
                    time.sleep(0.05)
                lock.release()
                run = running.wait(150)
            obs = scenario.observe("outage", run, mark)
            stored = [t for t in TREATIES if obs.outcome(t).outcome == "accepted"]
            all_stored = len(stored) == len(TREATIES)  # e.g. after retries outlasting a lock
            v.check(
                run.exit != 0 or all_stored,
                f"a crawl that could not store every page is not ok: {run.tail()}",
            )
            if run.exit != 0:
                v.check(
                    (obs.source or {}).get("last_success_at") == base.source["last_success_at"],
                    "a crawl that is not ok does not move last_success_at",
                )
            problems = consistency_problems(crawl_url)
            v.check(not problems, f"the database is consistent after the outage: {problems}")
            spool = scenario.env["TRACKER_DATA_DIR"] + "/spool"
            spooled = (
                [p for p in Path(spool).rglob("*") if p.is_file()] if Path(spool).is_dir() else []
            )
            v.check(
                all_stored or spooled,
                f"every page ends stored or spooled: {len(stored)} stored, "
                f"{len(spooled)} files in {spool}",
            )
            set_version(site, 3)
            recovery = scenario.step("recovery")
            v.check(recovery.run.exit == 0, f"the next crawl succeeds: {recovery.run.tail()}")
            state = snapshot_of(scenario.env, site.base_url)
    finally:
        if lock is not None:
            lock.release()
        if proxy is not None:
            proxy.stop()
    differs = _diff(state, reference[3]["state"])
    v.check(
        not differs,
        "the pages fetched during the outage are in the history, before the "
        f"next crawl's (equal to the reference): {differs} differ",
    )
    got, owed = _received(recovery.delivered), _owed(reference[3]["outbox"])
    v.check(
        got == owed,
        f"the receiver gets each owed alert once: {dict(got - owed)} extra, "
        f"{dict(owed - got)} missing",
    )
    v.finish(
        outcome=f"exit {run.exit}, {len(stored)} stored during the outage, "
        f"{len(spooled)} spool files, recovery exit {recovery.run.exit}",
        false_alerts=sum((got - owed).values()),
        pages_lost=len(differs),
    )


# --- tracker ingest ---------------------------------------------------------------------------

INGEST_TREATIES = ("XXVI-601", "XXVI-602", "XXVI-603")
JOINING = ("Norway", "Ireland", "Mexico", "Brazil", "Chile", "Ghana", "Kenya", "Peru")


def _archives(folder: Path) -> list[Path]:
    """Eight observations of three treaties, a State joining at each (24 files)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for k, _state in enumerate(JOINING):
        for t in INGEST_TREATIES:
            rows = pages.good_rows() + [
                Row(s, signature=date(2026, 1, 1 + i), consent=date(2026, 2, 1 + i))
                for i, s in enumerate(JOINING[: k + 1])
            ]
            page = pages.good_page(t, stamp=f"{k + 1:02d}-03-2026 10:00:00 EST", rows=rows)
            path = folder / f"{t}-{k}.html"
            path.write_bytes(render(page))
            files.append(path)
    return files


def _ingest_to_the_end(env: dict[str, str], files: list[Path]) -> str:
    proc = start_ingest(env, files)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 1), err  # 1: some archives older than what is stored
    return out


def _kill_ingest_after(env: dict[str, str], files: list[Path], accepted: int) -> tuple[int, int]:
    """Start `tracker ingest`, SIGKILL it once it printed `accepted` more accepted pages (plus a
    few milliseconds); return (its exit status, the accepted lines it printed)."""
    proc = start_ingest(env, files)
    seen = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("accepted"):
            seen += 1
            if seen >= accepted:
                time.sleep(rng.uniform(0, 0.03))
                break
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    return proc.returncode, seen


def test_sigkill_of_tracker_ingest_mid_work(new_database, receiver, tmp_path, verdict) -> None:
    v = verdict(
        "SIGKILL of `tracker ingest` mid-work (twice)",
        GROUP,
        "consistent after each kill, the finished run equals the reference",
    )
    files = _archives(tmp_path / "archives")
    ref_env = base_env(new_database("ingestref"), tmp_path / "ref")
    env = base_env(new_database("ingest"), tmp_path / "data")
    for e in (ref_env, env):
        assert cli(e, "db", "upgrade")[0] == 0
        subscribe_webhook(e, receiver.url("/ingest"))
    _ingest_to_the_end(ref_env, files)
    codes = []
    for accepted in (4, 5):
        code, _ = _kill_ingest_after(env, files, accepted)
        codes.append(code)
        problems = consistency_problems(env["TRACKER_DATABASE_URL"])
        v.check(not problems, f"consistent after kill {len(codes)}: {problems}")
    v.check(all(c == -signal.SIGKILL for c in codes), f"both runs died of SIGKILL: {codes}")
    _ingest_to_the_end(env, files)
    problems = consistency_problems(env["TRACKER_DATABASE_URL"])
    v.check(not problems, f"consistent after the finished run: {problems}")
    got = {
        t: {
            "status": status_for_reference(status(env, t)),
            "history": comparable_history(history(env, t)),
        }
        for t in INGEST_TREATIES
    }
    want = {
        t: {
            "status": status_for_reference(status(ref_env, t)),
            "history": comparable_history(history(ref_env, t)),
        }
        for t in INGEST_TREATIES
    }
    differs = [
        f"{t} {p}"
        for t in INGEST_TREATIES
        for p in ("status", "history")
        if got[t][p] != want[t][p]
    ]
    v.check(not differs, f"equal to the uninterrupted reference: {differs} differ")
    box, ref_box = outbox(env["TRACKER_DATABASE_URL"]), outbox(ref_env["TRACKER_DATABASE_URL"])
    v.check(
        box == ref_box,
        f"the alerts owed are the reference's: {dict(box - ref_box)} extra, "
        f"{dict(ref_box - box)} missing",
    )
    before = receiver.count()
    dispatch(env)
    time.sleep(0.05)
    sent = delivered(receiver.snapshot()[before:])
    keys = Counter(d.key for d in sent)
    v.check(
        len(sent) == sum(ref_box.values()) and max(keys.values(), default=1) == 1,
        f"each owed alert is delivered once: {len(sent)} sent, {sum(ref_box.values())} owed",
    )
    v.finish(
        outcome=f"kills {codes}",
        false_alerts=max(0, len(sent) - sum(ref_box.values())),
        pages_lost=len(differs),
    )
