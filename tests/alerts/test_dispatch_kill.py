"""`tracker dispatch` killed with SIGKILL mid-batch, then run again: nothing is lost, and a
delivery is repeated only with the same idempotency key (and the same signed body).

300 webhook subscriptions and one consent event: 300 deliveries. A real HTTP receiver in this
process records (idempotency key, body) and answers after 15 ms, so the kill lands while the
dispatcher works through a claimed batch (200 rows by default): the first one (after 50
requests), or the second (after 250). Three dispatcher processes:

1. killed with SIGKILL: the rest of its batch is left `sending` under a lease;
2. run at once (lease still running): sends exactly the never-claimed rows, none of the leased;
3. run after the lease has passed: sends exactly the rows the killed process had claimed but not
   finished; those of its batch it had already sent (received, outcomes not written: a batch's
   outcomes are written together) arrive a second time, with the same key and the same bytes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from statuses import member, page, status
from support.alert_receivers import Received, WebhookReceiver, webhook_receiver

from db.engine import session_factory_for
from db.models import Delivery
from tracker.alerts import subscriptions
from tracker.alerts.dispatch import DEFAULT_BATCH, OUTCOMES_AT_ONCE
from tracker.alerts.webhook import verify
from tracker.services.ingest import ingest_page
from tracker.settings import Settings

pytestmark = [pytest.mark.db, pytest.mark.slow, pytest.mark.usefixtures("fake_parser")]

ROOT = Path(__file__).resolve().parents[2]
SUBSCRIBERS = 300
DELAY = 0.015  # seconds the receiver takes to answer each request
LOOPBACK = "127.0.0.0/8"


def parties(n: int) -> list:
    return [member(f"State {i}", None, consent=f"2020-01-{i + 1:02d}") for i in range(n)]


def one_consent_event(sessions: sessionmaker[Session]) -> None:
    """Two statuses: a baseline (no alerts), then Austria's consent: one alertable event."""
    ingest_page(sessions, page(status(*parties(28)), "2020-02-01"))
    austria = member("Austria", "AUT", consent="2020-01-30")
    ingest_page(sessions, page(status(*parties(28), austria), "2020-03-01"))


DISPATCH = [sys.executable, "-m", "tracker.cli", "dispatch"]


def rows(sessions: sessionmaker[Session]) -> dict[int, Delivery]:
    with sessions() as session:
        return {d.id: d for d in session.scalars(select(Delivery))}


def run_dispatch(env: dict[str, str]) -> str:
    done = subprocess.run(
        DISPATCH, check=False, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def kill_mid_batch(env: dict[str, str], receiver: WebhookReceiver, after: int) -> None:
    proc = subprocess.Popen(
        DISPATCH,
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    try:
        while receiver.count() < after:
            if proc.poll() is not None:
                _, err = proc.communicate()
                pytest.fail(f"the dispatcher ended before the kill ({proc.returncode}): {err}")
            if time.monotonic() > deadline:
                pytest.fail(f"the receiver saw only {receiver.count()} requests in 120 s")
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    time.sleep(0.3)  # a request the dead process had already written still reaches its handler


@pytest.fixture
def sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    factory = session_factory_for(settings.database_url)
    yield factory
    factory.kw["bind"].dispose()


# Requests the receiver has seen before the SIGKILL: in the first claimed batch (rows 1-200,
# 100 never claimed), or in the second (rows 201-300, none left unclaimed).
@pytest.mark.parametrize("kill_after", [50, 250], ids=["first-batch", "second-batch"])
def test_killed_dispatcher_loses_nothing_and_repeats_only_with_the_same_key(
    settings: Settings,
    cli_env: dict[str, str],
    sessions: sessionmaker[Session],
    kill_after: int,
) -> None:
    config = settings.replace(webhook_allowlist=(LOOPBACK,))
    env = cli_env | {"TRACKER_WEBHOOK_ALLOWLIST": LOOPBACK, "TRACKER_LOG_LEVEL": "WARNING"}
    with webhook_receiver(delay=DELAY) as receiver:
        secrets: dict[int, str] = {}
        with sessions.begin() as session:
            for i in range(SUBSCRIBERS):
                sub = subscriptions.create(
                    session,
                    config,
                    channel="webhook",
                    target=receiver.url(f"/hook/{i}"),
                    kinds=["consent"],
                    now=datetime.now(UTC),
                )
                assert sub.secret
                secrets[sub.id] = sub.secret
        one_consent_event(sessions)
        deliveries = rows(sessions)
        assert len(deliveries) == SUBSCRIBERS
        assert {d.state for d in deliveries.values()} == {"pending"}
        key_of = {d.id: d.idempotency_key for d in deliveries.values()}
        all_keys = set(key_of.values())
        assert len(all_keys) == SUBSCRIBERS

        # 1. Killed mid-batch.
        kill_mid_batch(env, receiver, kill_after)
        at_kill = rows(sessions)
        by_state: dict[str, set[str]] = defaultdict(set)
        for d in at_kill.values():
            by_state[d.state].add(d.idempotency_key)
        first = receiver.snapshot()
        first_keys = Counter(r.key for r in first)
        assert kill_after <= len(first) < SUBSCRIBERS, "the kill must land mid-batch"
        assert max(first_keys.values()) == 1  # one process, each key once
        assert by_state["sending"], "the killed process left claimed rows behind"
        assert bool(by_state["pending"]) is (kill_after < DEFAULT_BATCH)
        assert by_state["sent"] <= set(first_keys)  # recorded sent => received
        # What the receiver saw from the killed process: its `sent` rows, plus the sends whose
        # outcomes were not yet written (they are written OUTCOMES_AT_ONCE at a time) and those
        # in flight (at most the webhook concurrency).
        in_flight = set(first_keys) - by_state["sent"]
        assert in_flight <= by_state["sending"]
        assert len(in_flight) <= OUTCOMES_AT_ONCE + settings.webhook_concurrency
        # Counted at the kill and never received: only sends in flight (a try is counted as a
        # sender takes it, never while it waits its turn), at most the webhook concurrency.
        counted = {
            d.idempotency_key for d in at_kill.values() if d.state == "sending" and d.attempts
        }
        assert len(counted - in_flight) <= settings.webhook_concurrency
        assert not set(first_keys) & by_state["pending"]

        # 2. Run again at once: the killed claims are still leased (5 minutes by default), so
        # only the never-claimed rows go out, once each.
        receiver.set_phase(2)
        out = run_dispatch(env)
        second = [r for r in receiver.snapshot() if r.phase == 2]
        assert Counter(r.key for r in second) == Counter(by_state["pending"]), out
        assert {d.idempotency_key for d in rows(sessions).values() if d.state == "sending"} == (
            by_state["sending"]
        )

        # 3. The lease passes. `tracker dispatch` has no option for the lease or the clock, and
        # the test will not wait 5 minutes: it moves the leases of the killed process's claims
        # back instead, which is what the clock passing them does.
        with sessions.begin() as session:
            moved = session.execute(
                update(Delivery)
                .where(Delivery.state == "sending")
                .values(claimed_until=datetime.now(UTC) - timedelta(seconds=1))
            ).rowcount
        assert moved == len(by_state["sending"])
        receiver.set_phase(3)
        out = run_dispatch(env)
        third = [r for r in receiver.snapshot() if r.phase == 3]
        assert Counter(r.key for r in third) == Counter(by_state["sending"]), out
        assert f"{len(by_state['sending'])} sent" in out

    # Nothing lost: every delivery sent, every key received.
    final = rows(sessions)
    assert {d.state for d in final.values()} == {"sent"}
    received: list[Received] = receiver.snapshot()
    counts = Counter(r.key for r in received)
    assert set(counts) == all_keys
    assert len(received) >= SUBSCRIBERS
    # Repeats: only the requests of the batch the process died in, with the same key and bytes.
    repeats = {key for key, n in counts.items() if n > 1}
    assert repeats == in_flight
    assert max(counts.values()) <= 2
    assert len(received) == SUBSCRIBERS + len(repeats)
    bodies: dict[str, set[bytes]] = defaultdict(set)
    for r in received:
        bodies[r.key].add(r.body)  # type: ignore[index]
        payload = json.loads(r.body)
        assert payload["delivery"] == r.key == r.headers["X-Tracker-Delivery"]
        assert verify(secrets[payload["subscription"]], r.body, r.headers["X-Tracker-Signature"])
    assert all(len(b) == 1 for b in bodies.values())  # a repeat is byte-identical
    # The attempts tell the same story: a claim is not a try, a send is, counted before it. The
    # killed batch's tries were all counted (committed before its sends): its rows count two,
    # whether the receiver saw the first try (a repeat) or not (cut before its send).
    cut = counted - in_flight  # counted, never handed over before the kill
    for d in final.values():
        key = d.idempotency_key
        assert d.attempts == counts[key] + (key in cut), (d.id, key)
        assert d.attempts == (2 if key in counted else 1)
    print(
        f"\nkill: received {len(first)} before the kill; at the kill {len(by_state['sent'])} "
        f"sent, {len(by_state['sending'])} claimed (leased), {len(by_state['pending'])} "
        f"pending; in flight {len(in_flight)}; run 2 sent {len(second)}, run 3 sent "
        f"{len(third)}; repeats {len(repeats)}; total received {len(received)}"
    )
