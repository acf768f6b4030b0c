"""Time to deliver one event to 10,000 email subscribers through a local SMTP server, and to
10,000 webhook subscriptions through a local HTTP receiver.

For each channel, in a temporary SQLite database (and in a fresh schema of `--postgres URL`):
10,000 active subscriptions are made with `tracker.alerts.subscriptions.create` (emails
confirmed), then one `threshold_crossed` event is written with its deliveries in one transaction
(`outbox.enqueue`, as the ingest does: the "fan-out"), then `dispatch_due` runs in this process
with the channels of `channels_from_settings` and the signed links of `tracker dispatch` until
every delivery is sent. The receivers run in separate processes (their own GIL): aiosmtpd on
loopback, and a threaded HTTP/1.1 keep-alive server (no Nagle delay); both report the
idempotency keys they received, which must be the 10,000 keys of the deliveries.

Beside each figure, the channel alone: the same rendered message sent `--channel-sends` times
straight through the channel object (no database), in ms per send.

    .venv/bin/python benchmarks/bench_alerts.py [--subscribers 10000] [--postgres URL]
        [--channels webhook,email] [--profile [FILE]]

`--profile` runs each dispatch under cProfile and prints where the time goes (with FILE, also
saves FILE-<backend>-<channel>.prof).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.0/8"
SECRET_KEY = "bench-secret-key-0123456789abcdef"
NOW = datetime(2026, 2, 3, 15, tzinfo=UTC)


@dataclass
class Row:
    backend: str
    channel: str
    subscribers: int
    subscribe_s: float
    fanout_s: float
    dispatch_s: float
    sent: int
    errors: int
    received: int
    distinct: int
    keys_match: bool
    channel_ms: float

    @property
    def rate(self) -> float:
        return self.sent / self.dispatch_s if self.dispatch_s else 0.0

    @property
    def ms_per_delivery(self) -> float:
        return 1000 * self.dispatch_s / self.sent if self.sent else 0.0


# --- the database -------------------------------------------------------------------------


def _with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def _schema(url: str, schema: str, create: bool) -> None:
    from sqlalchemy import text

    from db.engine import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        if create:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        else:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def subscribe(sessions: Any, settings: Any, channel: str, target: Any, n: int) -> float:
    """`n` active subscriptions of `channel` (target(i) -> address or URL); seconds taken."""
    from tracker.alerts import subscriptions

    started = time.perf_counter()
    with sessions.begin() as session:
        for i in range(n):
            sub = subscriptions.create(
                session, settings, channel=channel, target=target(i), now=NOW
            )
            if channel == "email":
                subscriptions.confirm(session, sub.id, NOW)  # double opt-in done
    return time.perf_counter() - started


def one_event(sessions: Any) -> tuple[int, float]:
    """A treaty with two snapshots and its threshold-crossed event, written with its deliveries
    in one transaction as the detection does; (deliveries written, seconds for the fan-out)."""
    from db.models import Event, RawPage, Snapshot, Source, Treaty
    from tracker.alerts import outbox

    with sessions.begin() as session:
        source = Source(slug="untc", base_url="https://treaties.un.org")
        session.add(source)
        session.flush()
        treaty = Treaty(
            source_id=source.id,
            external_id="XXVI-9",
            title="Treaty on the Prohibition of Nuclear Weapons",
            url="https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-9",
        )
        raw = RawPage(sha256="0" * 64, compression="none", body=b"", size=0)
        session.add_all([treaty, raw])
        session.flush()
        snapshots = []
        for parties, day in ((49, 20), (50, 24)):
            snap = Snapshot(
                treaty_id=treaty.id,
                raw_page_id=raw.id,
                content_hash=f"{parties:064d}",
                fetched_at=datetime(2020, 10, day, tzinfo=UTC),
                observed_at=datetime(2020, 10, day, tzinfo=UTC),
                status_as_at=None,
                url=treaty.url or "",
                data={},
                signatories=84,
                parties=parties,
            )
            session.add(snap)
            snapshots.append(snap)
        session.flush()
    started = time.perf_counter()
    with sessions.begin() as session:
        event = Event(
            treaty_id=treaty.id,
            snapshot_id=snapshots[1].id,
            kind="threshold_crossed",
            participant_name="Honduras",
            legal_date=date(2020, 10, 24),
            observed_at=NOW,
            details={"remaining": 0, "entry_into_force": {"computed": "2021-01-22"}},
            state="final",
            once_key="threshold_crossed",
        )
        session.add(event)
        session.flush()
        added = outbox.enqueue(session, [event.id], NOW)
    return added, time.perf_counter() - started


def delivery_counts(sessions: Any) -> tuple[Counter[str], set[str]]:
    from sqlalchemy import select

    from db.models import Delivery

    with sessions() as session:
        rows = session.execute(select(Delivery.state, Delivery.idempotency_key)).all()
    return Counter(state for state, _ in rows), {key for _, key in rows}


# --- one measurement ----------------------------------------------------------------------


def channel_alone(channels: dict[str, Any], sessions: Any, settings: Any, sends: int) -> float:
    """ms per send of the first delivery's rendered message, straight through the channel."""
    from sqlalchemy import select

    from db.models import Delivery, Subscription
    from tracker.alerts.channels import Recipient
    from tracker.alerts.links import links_for
    from tracker.alerts.messages import load_context, render

    with sessions() as session:
        delivery = session.scalars(select(Delivery).order_by(Delivery.id).limit(1)).one()
        sub = session.get_one(Subscription, delivery.subscription_id)
        links = (
            links_for(settings.public_url, SECRET_KEY, sub.id) if sub.channel == "email" else None
        )
        message = render(load_context(session, delivery), delivery, sub, settings.public_url, links)
        recipient = Recipient(sub.id, sub.channel, sub.target, sub.secret)
    channel = channels[sub.channel]
    for i in range(20):  # warm up: connection, imports
        channel.send(recipient, replace(message, idempotency_key=f"warm-{i}"))
    started = time.perf_counter()
    for i in range(sends):
        channel.send(recipient, replace(message, idempotency_key=f"alone-{i}"))
    return 1000 * (time.perf_counter() - started) / sends


def measure(
    backend: str,
    url: str,
    channel: str,
    receiver: Any,
    n: int,
    sends: int,
    profile: cProfile.Profile | None,
    data_dir: Path,
) -> Row:
    from db.engine import make_engine, make_session_factory
    from db.migrate import upgrade
    from tracker.alerts.dispatch import dispatch_due
    from tracker.alerts.links import links_for
    from tracker.alerts.subscriptions import channels_from_settings
    from tracker.settings import Settings

    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        webhook_allowlist=(LOOPBACK,),
        secret_key=SECRET_KEY,
        smtp_url=f"smtp://127.0.0.1:{receiver.port}" if channel == "email" else None,
        mail_from="Treaty Tracker <alerts@tracker.example>",
    )
    if channel == "email":
        target = lambda i: f"subscriber{i}@example.org"
    else:
        target = lambda i: f"http://127.0.0.1:{receiver.port}/hook/{i}"
    subscribe_s = subscribe(sessions, settings, channel, target, n)
    added, fanout_s = one_event(sessions)
    assert added == n, f"{added} deliveries written for {n} subscriptions"

    channels = channels_from_settings(settings)
    channel_ms = channel_alone(channels, sessions, settings, sends)
    receiver.reset()

    def links(sub_id: int) -> dict[str, str]:  # what `tracker dispatch` passes
        return links_for(settings.public_url, SECRET_KEY, sub_id)

    started = time.perf_counter()
    if profile is not None:
        profile.enable()
    report = dispatch_due(sessions, channels, public_url=settings.public_url, links=links)
    if profile is not None:
        profile.disable()
    dispatch_s = time.perf_counter() - started
    for ch in channels.values():
        close = getattr(ch, "close", None)
        if close is not None:
            close()
    states, keys = delivery_counts(sessions)
    engine.dispose()
    got = receiver.keys()
    return Row(
        backend=backend,
        channel=channel,
        subscribers=n,
        subscribe_s=subscribe_s,
        fanout_s=fanout_s,
        dispatch_s=dispatch_s,
        sent=states["sent"],
        errors=report.retried + report.dead + (n - states["sent"]),
        received=len(got),
        distinct=len(set(got)),
        keys_match=set(got) == keys,
        channel_ms=channel_ms,
    )


# --- output -------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    head = (
        "backend",
        "channel",
        "subscribers",
        "fan-out s",
        "dispatch s",
        "deliveries/s",
        "ms/delivery",
        "channel alone ms/send",
        "errors",
        "received (distinct)",
        "keys match",
    )
    body = [
        (
            r.backend,
            r.channel,
            f"{r.subscribers:,}",
            f"{r.fanout_s:.2f}",
            f"{r.dispatch_s:.1f}",
            f"{r.rate:,.0f}",
            f"{r.ms_per_delivery:.2f}",
            f"{r.channel_ms:.2f}",
            str(r.errors),
            f"{r.received:,} ({r.distinct:,})",
            "yes" if r.keys_match else "NO",
        )
        for r in rows
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    lines = [" | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    lines.append("-|-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in body]
    return "\n".join(line.rstrip() for line in lines)


def print_profile(profile: cProfile.Profile, label: str, save: str | None) -> None:
    if save:
        profile.dump_stats(save)
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).strip_dirs().sort_stats(key).print_stats(30)
        print(f"\n== cProfile of dispatch_due, {label}, by {key}")
        print(out.getvalue().split("\n", 4)[-1].rstrip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--channels", default="webhook,email")
    parser.add_argument("--postgres", metavar="URL", help="also run on a fresh schema of URL")
    parser.add_argument("--channel-sends", type=int, default=1000)
    parser.add_argument(
        "--profile", nargs="?", const="", metavar="FILE", help="cProfile each dispatch"
    )
    args = parser.parse_args(argv)
    load = round(os.getloadavg()[0], 2)
    sys.path.insert(0, str(ROOT / "tests"))
    from support.alert_receivers import smtp_process, webhook_process

    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-alerts-") as tmp:
        runs: list[tuple[str, str, str | None, str]] = []  # backend, URL, schema, channel
        for channel in channels:
            runs.append(("sqlite", f"sqlite:///{tmp}/{channel}.sqlite3", None, channel))
        for channel in channels if args.postgres else ():
            schema = f"bench_alerts_{uuid.uuid4().hex[:8]}"
            runs.append(("postgresql", _with_schema(args.postgres, schema), schema, channel))
        for backend, url, schema, channel in runs:
            receiver = webhook_process() if channel == "webhook" else smtp_process()
            profile = cProfile.Profile() if args.profile is not None else None
            try:
                if schema:
                    _schema(args.postgres, schema, create=True)
                print(f"{backend} {channel}: {args.subscribers:,} subscribers ...", flush=True)
                row = measure(
                    backend,
                    url,
                    channel,
                    receiver,
                    args.subscribers,
                    args.channel_sends,
                    profile,
                    Path(tmp) / "data",
                )
                rows.append(row)
                print(
                    f"  subscribe {row.subscribe_s:.1f} s, fan-out {row.fanout_s:.2f} s, "
                    f"dispatch {row.dispatch_s:.1f} s ({row.rate:,.0f}/s), "
                    f"channel alone {row.channel_ms:.2f} ms/send",
                    flush=True,
                )
            finally:
                receiver.close()
                if schema:
                    _schema(args.postgres, schema, create=False)
            if profile is not None:
                save = f"{args.profile}-{backend}-{channel}.prof" if args.profile else None
                print_profile(profile, f"{backend} {channel}", save)
    print()
    print(table(rows))
    bad = [r for r in rows if r.errors or not r.keys_match or r.distinct != r.subscribers]
    figures: dict[str, object] = {"subscribers": args.subscribers, "load_1min": load}
    for r in rows:
        prefix = r.channel if r.backend == "sqlite" else f"{r.backend}_{r.channel}"
        figures[f"{prefix}_per_s"] = round(r.rate, 1)
        figures[f"{prefix}_ms_per_delivery"] = round(r.ms_per_delivery, 3)
        figures[f"{prefix}_channel_alone_ms"] = round(r.channel_ms, 3)
        figures[f"{prefix}_ratio_to_channel"] = (
            round(r.ms_per_delivery / r.channel_ms, 2) if r.channel_ms else None
        )
    figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps({"benchmark": "alerts", **figures}))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
