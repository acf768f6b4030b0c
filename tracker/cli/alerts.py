"""Command line for alerts: `tracker subscribe | subscriptions | unsubscribe | dispatch`."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from db.vocabulary import ALERT_KINDS, DeliveryState, DigestMode, in_words
from tracker.alerts.dispatch import DEFAULT_BATCH
from tracker.cli.common import UsageError
from tracker.cli.common import database as _database
from tracker.settings import Settings
from tracker.sources import registry


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {text!r}")
    return value


def _usage(message: str) -> Exception:
    return UsageError(message)


def cmd_subscribe(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.alerts import subscriptions
    from tracker.alerts.channels import DeliveryError

    channel, target = next(
        (name, value)
        for name, value in (
            ("email", args.email),
            ("webhook", args.webhook),
            ("apprise", args.apprise),
        )
        if value
    )
    with _database(settings) as database, database.write() as session:
        try:
            sub = subscriptions.create(
                session,
                settings,
                channel=channel,
                target=target,
                treaties=args.treaty or (),
                countries=args.country or (),
                kinds=args.event or (),
                digest=args.digest,
                now=datetime.now(UTC),
            )
        except subscriptions.BadSubscription as bad:
            raise _usage(f"tracker subscribe: {bad}") from None
        if channel == "email":
            try:  # a failure rolls the subscription back: nothing is left behind
                subscriptions.send_opt_in(settings, sub)
            except DeliveryError as failed:
                raise _usage(
                    "tracker subscribe: the confirmation email could not be sent "
                    f"({' '.join(failed.reason.split())}); no subscription was made"
                ) from None
        found = subscriptions.describe(sub, with_secret=True)
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        state = (
            "pending: a confirmation email was sent" if found["state"] == "pending" else "active"
        )
        print(f"subscription {found['id']} ({found['channel']} {found['target']}): {state}")
        print(f"covers {found['covers']}")
        if "secret" in found:
            print(f"webhook secret (X-Tracker-Signature HMAC-SHA256 key): {found['secret']}")
    return 0


def cmd_subscriptions(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.alerts import subscriptions
    from tracker.cli.render import table

    with _database(settings) as database, database.read() as session:
        rows = subscriptions.listing(session)
    if args.json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print("no subscriptions (see `tracker subscribe --help`)")
    else:
        print(
            table(
                ("id", "channel", "target", "state", "covers"),
                [(r["id"], r["channel"], r["target"], r["state"], r["covers"]) for r in rows],
            )
        )
    return 0


def cmd_unsubscribe(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.alerts import subscriptions

    with _database(settings) as database, database.write() as session:
        sub = subscriptions.end(session, args.id, datetime.now(UTC))
    if sub is None:
        raise _usage(f"tracker unsubscribe: no subscription {args.id}")
    print(f"subscription {args.id}: unsubscribed")
    return 0


def cmd_dispatch(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.alerts.job import dispatch_once

    with _database(settings):  # upgrades the schema first
        pass
    print(dispatch_once(settings, batch=args.batch).summary())
    return 0


def cmd_deliveries(args: argparse.Namespace, settings: Settings) -> int:
    from tracker.alerts.outbox import delivery_rows
    from tracker.cli.render import table

    with _database(settings) as database, database.read() as session:
        found = delivery_rows(session, args.state, args.limit, args.source)
    rows = [
        {
            "id": d["id"],
            "event_id": d["event"]["id"],
            "event": d["event"]["kind"],
            "treaty": d["event"]["treaty"],  # its public id (None: an event about a source)
            "source": d["event"]["source"],
            "subscription": d["subscription"]["id"],
            "channel": d["subscription"]["channel"],
            "target": d["subscription"]["target"],
            "state": d["state"],
            "attempts": d["attempts"],
            "due_at": d["due_at"].isoformat(),
            "sent_at": d["sent_at"].isoformat() if d["sent_at"] else None,
            "last_error": d["last_error"],
            "idempotency_key": d["idempotency_key"],
        }
        for d in found
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(
            table(
                ("id", "event", "treaty", "subscription", "state", "attempts", "last error"),
                [
                    (
                        r["id"],
                        in_words(r["event"]),
                        r["treaty"] or f"(source {r['source'] or '?'})",
                        r["subscription"],
                        in_words(r["state"]),
                        r["attempts"],
                        r["last_error"] or "",
                    )
                    for r in rows
                ],
            )
            if rows
            else "no deliveries"
        )
    return 0


def add_commands(sub: Any) -> None:
    """Register the alert commands on the `tracker` sub-parsers."""
    subscribe = sub.add_parser("subscribe", help="subscribe a channel to events")
    where = subscribe.add_mutually_exclusive_group(required=True)
    where.add_argument("--email", metavar="ADDR")
    where.add_argument("--webhook", metavar="URL")
    where.add_argument("--apprise", metavar="URL")
    subscribe.add_argument(
        "--treaty", action="append", metavar="ID", help="repeatable; default all"
    )
    subscribe.add_argument("--country", action="append", metavar="ISO3", help="repeatable")
    subscribe.add_argument(
        "--event",
        action="append",
        choices=[k.value for k in ALERT_KINDS],
        metavar="KIND",
        help="repeatable: " + ", ".join(ALERT_KINDS),
    )
    subscribe.add_argument(
        "--digest", choices=[d.value for d in DigestMode], default=DigestMode.IMMEDIATE.value
    )
    subscribe.add_argument("--json", action="store_true")
    subscribe.set_defaults(handler=cmd_subscribe)
    listing = sub.add_parser("subscriptions", help="list subscriptions")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_subscriptions)
    unsubscribe = sub.add_parser("unsubscribe", help="end a subscription")
    unsubscribe.add_argument("id", type=int, metavar="ID")
    unsubscribe.set_defaults(handler=cmd_unsubscribe)
    dispatch = sub.add_parser("dispatch", help="deliver the alerts due now, once")
    dispatch.add_argument(
        "--batch",
        type=_positive,
        default=DEFAULT_BATCH,
        metavar="N",
        help=f"deliveries claimed at a time (default {DEFAULT_BATCH})",
    )
    dispatch.set_defaults(handler=cmd_dispatch)
    deliveries = sub.add_parser("deliveries", help="the outbox: deliveries and their outcome")
    deliveries.add_argument("--state", choices=[s.value for s in DeliveryState])
    deliveries.add_argument("--limit", type=int, default=100)
    deliveries.add_argument(
        "--source", choices=registry.slugs(), help="only the deliveries of this source's events"
    )
    deliveries.add_argument("--json", action="store_true")
    deliveries.set_defaults(handler=cmd_deliveries)
