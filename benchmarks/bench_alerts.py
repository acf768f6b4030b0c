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

Beside each figure, the floor at the same concurrency, in ms per send, with the dispatch's
ratio to it: for webhooks, bare POSTs of the same body to the same receiver, as many at once
as the dispatcher sends (TRACKER_WEBHOOK_CONCURRENCY), from threads sharing one pooled
httpx.Client; for e-mails, the SMTP server's own rate on one connection (`smtplib.sendmail` of
the same rendered bytes in a loop). Also the channel object alone (its `send_many`, no
database). Then the latency: a crawl of one changed page from a local mirror (TPNW's page,
2018 then 2026) with a webhook subscriber on a loopback receiver and the service's dispatcher
job (its next poll a minute away), in seconds from the page's acceptance to the first webhook
received. The last line is one JSON object of the figures (SQLite's rows), with peak RSS.

    .venv/bin/python benchmarks/bench_alerts.py [--subscribers 10000] [--postgres URL]
        [--channels webhook,email] [--profile [FILE]] [--no-latency]

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
    channel_ms: float  # the channel object alone (no database), ms per send
    floor_ms: float  # the bare protocol at the same concurrency, ms per send

    @property
    def ratio(self) -> float:
        """Dispatch time over the floor's time for as many sends."""
        return self.dispatch_s / (self.floor_ms * self.sent / 1000) if self.sent else 0.0

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


def first_message(sessions: Any, settings: Any) -> tuple[Any, Any]:
    """The first delivery's rendered message and its recipient."""
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
    return recipient, message


def channel_alone(channel: Any, recipient: Any, message: Any, sends: int) -> float:
    """ms per send of one rendered message straight through the channel object (no database),
    as the dispatcher hands it over: a webhook batch to `send_many` (concurrently), e-mails one
    by one on the channel's kept connection."""
    many = getattr(channel, "send_many", None)

    def batch(prefix: str, n: int) -> None:
        items = [(recipient, replace(message, idempotency_key=f"{prefix}-{i}")) for i in range(n)]
        if many is not None:
            failed = [r for r in many(items) if r is not None]
            assert not failed, failed[:3]
        else:
            for r, m in items:
                channel.send(r, m)

    batch("warm", 50)  # connections, imports
    started = time.perf_counter()
    for start in range(0, sends, 200):  # the dispatcher's batch
        batch(f"alone-{start}", min(200, sends - start))
    return 1000 * (time.perf_counter() - started) / sends


def webhook_floor(url: str, body: bytes, concurrency: int, sends: int) -> float:
    """ms per POST of `body` to `url`, `concurrency` at a time (threads sharing one pooled
    httpx.Client, as the channel sends a batch): no signing, no address check, no database
    (the bare HTTP exchange with the same receiver)."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(limits=limits, trust_env=False, timeout=30) as client:

        def post(key: str) -> None:
            headers = {"Content-Type": "application/json", "Idempotency-Key": key}
            response = client.post(url, content=body, headers=headers)
            assert response.status_code < 300, response.status_code

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(post, (f"floor-warm-{i}" for i in range(50))))
            started = time.perf_counter()
            list(pool.map(post, (f"floor-{i}" for i in range(sends))))
            return 1000 * (time.perf_counter() - started) / sends


def smtp_floor(port: int, sender: str, to: str, data: bytes, sends: int) -> float:
    """ms per message of the SMTP server on one connection: `smtplib.SMTP.sendmail` of the same
    rendered bytes in a loop (no rendering, no database)."""
    import smtplib

    with smtplib.SMTP("127.0.0.1", port, timeout=30) as conn:
        for _ in range(20):
            conn.sendmail(sender, [to], data)
        started = time.perf_counter()
        for _ in range(sends):
            conn.sendmail(sender, [to], data)
        return 1000 * (time.perf_counter() - started) / sends


def floor_of(channel: Any, recipient: Any, message: Any, receiver: Any, sends: int) -> float:
    if recipient.channel == "webhook":
        from tracker.alerts.webhook import body_bytes

        return webhook_floor(
            recipient.target, body_bytes(message.payload), channel.concurrency, sends
        )
    from tracker.alerts.email import POLICY

    rendered = channel.render(recipient, message).as_bytes(policy=POLICY)
    return smtp_floor(receiver.port, channel.envelope_from, recipient.target, rendered, sends)


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
    from tracker.alerts.links import IN_ALERTS, links_for
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
    recipient, message = first_message(sessions, settings)
    floor_ms = floor_of(channels[channel], recipient, message, receiver, sends)
    channel_ms = channel_alone(channels[channel], recipient, message, sends)
    receiver.reset()

    def links(sub_id: int) -> dict[str, str]:  # what `tracker dispatch` passes
        return links_for(settings.public_url, SECRET_KEY, sub_id, IN_ALERTS)

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
        floor_ms=floor_ms,
    )


# --- a crawl's accepted page to the first webhook ----------------------------------------


def accepted_to_first_webhook() -> float:
    """Seconds from the commit of a changed page's ingest to the first webhook received.

    The service's pieces that matter, in this process: a scheduler with the dispatcher job as
    the service adds it (its first poll a minute away, so only the doorbell can make it run
    sooner) and the crawl job, crawling the local mirror of TPNW's page (tests/support): first
    its 2018 status, then, with a webhook subscriber on a loopback receiver, its 2026 one. The
    page's acceptance is its new snapshot's `created_at` (written in the ingest's transaction,
    just before the commit: the figure errs long)."""
    from datetime import timedelta

    from apscheduler.schedulers.background import BackgroundScheduler
    from sqlalchemy import func, select
    from support.alert_receivers import webhook_receiver
    from support.own_pages import tpnw_page

    from db.engine import make_engine, make_session_factory
    from db.models import Delivery, Snapshot
    from tracker.alerts import subscriptions
    from tracker.devtools.mirror import build_mirror, serve
    from tracker.runtime.jobs import crawl_job
    from tracker.runtime.scheduler import add_dispatcher
    from tracker.settings import Settings
    from tracker.sources.untc.mirror import RecordedPage, untc_site

    title = "Treaty on the Prohibition of Nuclear Weapons"
    old = RecordedPage("XXVI-9", tpnw_page(date(2018, 1, 15), "15-01-2018 09:00:00 EST"), title)
    new = RecordedPage("XXVI-9", tpnw_page(), title)
    with tempfile.TemporaryDirectory(prefix="bench-alerts-latency-") as tmp:
        mirror = build_mirror(Path(tmp) / "mirror", untc_site([old]))
        with serve(mirror) as server, webhook_receiver() as receiver:
            settings = Settings.from_env(
                {
                    "TRACKER_DATA_DIR": str(Path(tmp) / "data"),
                    "TRACKER_DOWNLOAD_DELAY": "0",
                    "TRACKER_LOG_LEVEL": "WARNING",
                    "TRACKER_BASE_URLS": json.dumps({"untc": server.base_url}),
                    "TRACKER_WEBHOOK_ALLOWLIST": LOOPBACK,
                }
            )
            report = crawl_job(settings, "untc")  # the 2018 page: the treaty's first snapshot
            assert report.returncode == 0, report.summary()
            engine = make_engine(settings.database_url)
            sessions = make_session_factory(engine)
            with sessions.begin() as session:
                subscriptions.create(
                    session,
                    settings,
                    channel="webhook",
                    target=receiver.url("/hook/tpnw"),
                    now=datetime.now(UTC),
                )
            scheduler = BackgroundScheduler(timezone=UTC)
            add_dispatcher(scheduler, settings, datetime.now(UTC) + timedelta(seconds=60))
            scheduler.start()
            try:
                for target, body, ctype in untc_site([new]):
                    mirror.add(target, body, ctype)
                mirror.save()
                clock = time.time() - time.monotonic()  # monotonic -> wall clock
                report = crawl_job(settings, "untc")  # the 2026 page: consent events, alerts
                assert report.returncode == 0, report.summary()
                until = time.monotonic() + 30
                while receiver.count() == 0:
                    assert time.monotonic() < until, "no webhook within 30 s of the crawl"
                    time.sleep(0.01)
                first = receiver.snapshot()[0].at + clock
                with sessions() as session:
                    accepted = session.scalar(select(func.max(Snapshot.created_at)))
                    deliveries = session.scalar(select(func.count()).select_from(Delivery))
                assert accepted is not None and deliveries
                if accepted.tzinfo is None:
                    accepted = accepted.replace(tzinfo=UTC)
                until = time.monotonic() + 30
                while receiver.count() < deliveries and time.monotonic() < until:
                    time.sleep(0.05)
                print(f"  {receiver.count()} of {deliveries} webhooks received", flush=True)
            finally:
                scheduler.shutdown(wait=True)
                engine.dispose()
    return first - accepted.timestamp()


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
        "floor ms/send",
        "dispatch / floor",
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
            f"{r.floor_ms:.2f}",
            f"{r.ratio:.2f}x",
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
        "--no-latency", action="store_true", help="skip the crawl-to-webhook measurement"
    )
    parser.add_argument(
        "--profile", nargs="?", const="", metavar="FILE", help="cProfile each dispatch"
    )
    args = parser.parse_args(argv)
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
                    f"channel alone {row.channel_ms:.2f} ms/send, floor {row.floor_ms:.2f} "
                    f"ms/send, dispatch / floor {row.ratio:.2f}x",
                    flush=True,
                )
            finally:
                receiver.close()
                if schema:
                    _schema(args.postgres, schema, create=False)
            if profile is not None:
                save = f"{args.profile}-{backend}-{channel}.prof" if args.profile else None
                print_profile(profile, f"{backend} {channel}", save)
    latency: float | None = None
    if not args.no_latency:
        print("latency: a crawl's accepted page to the first webhook received ...", flush=True)
        latency = accepted_to_first_webhook()
        print(f"  accepted -> first webhook: {latency:.2f} s", flush=True)
    print()
    print(table(rows))
    load = os.getloadavg()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; peak RSS {rss:.0f} MiB")
    first = {r.channel: r for r in reversed(rows)}  # SQLite's row of each channel
    web, mail = first.get("webhook"), first.get("email")
    figures = {
        "benchmark": "alerts",
        "subscribers": args.subscribers,
        "webhook_per_s": round(web.rate, 1) if web else None,
        "webhook_ratio_to_channel": round(web.ratio, 2) if web else None,
        "webhook_floor_ms": round(web.floor_ms, 3) if web else None,
        "email_per_s": round(mail.rate, 1) if mail else None,
        "email_ratio_to_channel": round(mail.ratio, 2) if mail else None,
        "email_floor_ms": round(mail.floor_ms, 3) if mail else None,
        "accepted_to_first_webhook_s": round(latency, 3) if latency is not None else None,
        "peak_rss_mib": round(rss, 1),
        "load": [round(x, 2) for x in load],
    }
    print(json.dumps(figures))
    bad = [r for r in rows if r.errors or not r.keys_match or r.distinct != r.subscribers]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
