"""Subscriptions: create (validated per channel), list, end; the channels built from settings."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import Delivery, Subscription
from db.vocabulary import ALERT_KINDS, DigestMode, in_words
from tracker.alerts.channels import Channel, Recipient
from tracker.alerts.redact import redact_target
from tracker.settings import Settings
from tracker.sources import registry


class BadSubscription(ValueError):
    """A subscription that cannot be made, with the reason."""


def _codes(values: Sequence[str], what: str, pattern: str) -> list[str]:
    out = []
    for v in values:
        v = v.strip()
        if not re.fullmatch(pattern, v):
            raise BadSubscription(f"bad {what} {v!r}")
        out.append(v.upper() if what == "country" else v)
    return sorted(set(out))


def _treaty_ids(values: Sequence[str]) -> list[str]:
    """Treaty filters as public ids (what events are matched on), a source's prefix as it
    spells it: `wipo-843` is stored as WIPO-843."""
    out = []
    for v in _codes(values, "treaty", r"[A-Za-z0-9.\-]{1,64}"):
        found = registry.split_id(v)
        if found is not None and found[0].id_prefix:
            source, own = found
            v = source.public_id(own)
        out.append(v)
    return sorted(set(out))


def covers(sub: Subscription) -> str:
    """The filters in words, for people."""
    parts = [
        "treaties " + ", ".join(sub.treaties) if sub.treaties else "all treaties",
        "countries " + ", ".join(sub.countries) if sub.countries else "all countries",
        "events " + ", ".join(in_words(k) for k in sub.kinds) if sub.kinds else "all events",
        "a daily digest" if sub.digest == "daily" else "each event as it happens",
    ]
    return "; ".join(parts)


def describe(
    sub: Subscription, *, with_secret: bool = False, with_dates: bool = False
) -> dict[str, Any]:
    """A subscription as answered; `with_dates`: when it was confirmed and ended, too."""
    found: dict[str, Any] = {
        "id": sub.id,
        "channel": sub.channel,
        "target": redact_target(sub.channel, sub.target),  # credentials masked; stored whole
        "treaties": sub.treaties,
        "countries": sub.countries,
        "kinds": sub.kinds,
        "digest": sub.digest,
        "state": sub.state,
        "created_at": sub.created_at.isoformat() if sub.created_at else None,
        "covers": covers(sub),
    }
    if with_secret and sub.secret:
        found["secret"] = sub.secret
    if with_dates:
        found |= {"confirmed_at": sub.confirmed_at, "unsubscribed_at": sub.unsubscribed_at}
    return found


def email_address(text: str) -> str:
    """One email address, normalized (domain lowercased, IDNA, Unicode NFC); BadSubscription
    for anything else: a list, a display name, a trailing newline, a quoted local part, an IP
    literal, a special-use domain. Syntax only (no DNS: check_deliverability is off)."""
    from tracker.alerts.email import one_address

    try:
        return one_address(text)
    except ValueError as bad:
        raise BadSubscription(f"not an email address: {text!r} ({bad})") from None


def _check_target(settings: Settings, channel: str, target: str) -> str:
    """The target to store (an email address normalized), or BadSubscription."""
    if channel == "email":
        target = email_address(target)
        if not settings.secret_key:
            raise BadSubscription("email subscriptions need TRACKER_SECRET_KEY (for signed links)")
        if not settings.smtp_url:
            raise BadSubscription("email subscriptions need TRACKER_SMTP_URL")
    elif channel == "webhook":
        from tracker.alerts.webhook import check_target

        try:
            check_target(target, settings.webhook_allowlist)
        except ValueError as refused:
            raise BadSubscription(str(refused)) from None
    elif channel == "apprise":
        from tracker.alerts.apprise_channel import check_apprise_url

        try:
            check_apprise_url(target, settings.webhook_allowlist)
        except ValueError as refused:
            raise BadSubscription(str(refused)) from None
    else:
        raise BadSubscription(f"unknown channel {channel!r}")
    return target


def create(
    session: Session,
    settings: Settings,
    *,
    channel: str,
    target: str,
    treaties: Sequence[str] = (),
    countries: Sequence[str] = (),
    kinds: Sequence[str] = (),
    digest: str = DigestMode.IMMEDIATE.value,
    now: datetime,
) -> Subscription:
    """A new subscription: active at once, except email, pending until confirmed."""
    target = _check_target(settings, channel, target)
    unknown = sorted(set(kinds) - set(ALERT_KINDS))
    if unknown:
        raise BadSubscription(
            f"unknown event kind(s) {', '.join(unknown)}; known: {', '.join(ALERT_KINDS)}"
        )
    if digest not in tuple(DigestMode):
        raise BadSubscription(f"digest is {' or '.join(DigestMode)}")
    sub = Subscription(
        channel=channel,
        target=target,
        secret=secrets.token_hex(32) if channel == "webhook" else None,
        treaties=_treaty_ids(treaties),
        countries=_codes(countries, "country", r"[A-Za-z]{3}"),
        kinds=sorted(set(kinds)),
        digest=digest,
        state="pending" if channel == "email" else "active",
        created_at=now,
        confirmed_at=None if channel == "email" else now,
    )
    session.add(sub)
    session.flush()
    return sub


def send_opt_in(settings: Settings, sub: Subscription) -> None:
    """Send the double opt-in email (nothing else is sent before it is confirmed)."""
    from tracker.alerts.email import opt_in_message
    from tracker.alerts.links import links_for

    links = links_for(settings.public_url, settings.secret_key, sub.id)
    _send_email(settings, sub, opt_in_message(links, covers(sub), key=f"confirm-{sub.id}"))


def send_already_following(settings: Settings, sub: Subscription, now: datetime) -> None:
    """Tell an address that it already follows what it asked for, with its manage link."""
    from tracker.alerts.email import already_message
    from tracker.alerts.links import links_for

    links = links_for(settings.public_url, settings.secret_key, sub.id)
    key = f"already-{sub.id}-{now.timestamp():.0f}"
    _send_email(settings, sub, already_message(links, covers(sub), key=key))


def _send_email(settings: Settings, sub: Subscription, message: Any) -> None:
    from tracker.alerts.email import EmailChannel

    channel = EmailChannel(settings.smtp_url or "", settings.mail_from)
    try:
        channel.send(Recipient(sub.id, "email", sub.target), message)
    finally:
        channel.close()


def filters(
    treaties: Sequence[str], countries: Sequence[str], kinds: Sequence[str]
) -> tuple[list[str], list[str], list[str]]:
    """Treaty, country and kind filters as stored (public ids, ISO codes upper case, sorted),
    or BadSubscription naming what is wrong."""
    unknown = sorted(set(kinds) - set(ALERT_KINDS))
    if unknown:
        raise BadSubscription(
            f"unknown event kind(s) {', '.join(unknown)}; known: {', '.join(ALERT_KINDS)}"
        )
    return (
        _treaty_ids(treaties),
        _codes(countries, "country", r"[A-Za-z]{3}"),
        sorted(set(kinds)),
    )


def set_filters(
    session: Session,
    sub: Subscription,
    treaties: Sequence[str],
    countries: Sequence[str],
    kinds: Sequence[str],
) -> bool:
    """Change what the subscription follows (empty: every treaty, country, kind); whether it
    changed. BadSubscription for a malformed filter."""
    new = filters(treaties, countries, kinds)
    old = (list(sub.treaties or ()), list(sub.countries or ()), list(sub.kinds or ()))
    sub.treaties, sub.countries, sub.kinds = new
    session.flush()
    return new != old


def same_email_subscription(
    session: Session,
    address: str,
    treaties: Sequence[str],
    countries: Sequence[str],
    kinds: Sequence[str],
) -> Subscription | None:
    """The email subscription of `address` (normalized) with exactly these filters that has
    not ended, if any (the active one first)."""
    wanted = filters(treaties, countries, kinds)
    found = session.scalars(
        select(Subscription)
        .where(
            Subscription.channel == "email",
            Subscription.target == address,
            Subscription.state != "unsubscribed",
        )
        .order_by(Subscription.id)
    )
    same = [
        s
        for s in found
        if (list(s.treaties or ()), list(s.countries or ()), list(s.kinds or ())) == wanted
    ]
    same.sort(key=lambda s: s.state != "active")
    return same[0] if same else None


def end(session: Session, sub_id: int, now: datetime) -> Subscription | None:
    """End a subscription; its deliveries not yet sent are `cancelled` (a delivery a dispatcher
    is sending right now finishes; one claimed but not yet tried is cancelled by the dispatcher
    when it finds the subscription ended)."""
    sub = session.get(Subscription, sub_id)
    if sub is not None and sub.state != "unsubscribed":
        sub.state, sub.unsubscribed_at = "unsubscribed", now
        session.execute(
            update(Delivery)
            .where(Delivery.subscription_id == sub_id, Delivery.state == "pending")
            .values(state="cancelled", last_error="subscription ended", claimed_until=None)
        )
    return sub


def confirm(session: Session, sub_id: int, now: datetime) -> Subscription | None:
    sub = session.get(Subscription, sub_id)
    if sub is not None and sub.state == "pending":
        sub.state, sub.confirmed_at = "active", now
    return sub


def every(session: Session) -> list[Subscription]:
    """Every subscription, by id."""
    return list(session.scalars(select(Subscription).order_by(Subscription.id)))


def listing(session: Session) -> list[dict[str, Any]]:
    return [describe(s) for s in every(session)]


def set_digest(session: Session, sub: Subscription, digest: str) -> bool:
    """Change the subscription's digest mode; whether it changed."""
    changed = sub.digest != digest
    sub.digest = digest
    session.flush()
    return changed


def load(session: Session, sub_id: int, *, lock: bool = False) -> Subscription | None:
    """One subscription (None: no such id); `lock`: its row locked for the transaction."""
    return session.get(Subscription, sub_id, with_for_update=lock)


def channels_from_settings(settings: Settings) -> dict[str, Channel]:
    """The channels this configuration can use (email only with TRACKER_SMTP_URL)."""
    from tracker.alerts.apprise_channel import AppriseChannel
    from tracker.alerts.webhook import WebhookChannel

    channels: dict[str, Channel] = {
        "webhook": WebhookChannel(
            settings.webhook_allowlist, concurrency=settings.webhook_concurrency
        ),
        "apprise": AppriseChannel(settings.webhook_allowlist),
    }
    if settings.smtp_url:
        from tracker.alerts.email import EmailChannel

        channels["email"] = EmailChannel(settings.smtp_url, settings.mail_from)
    return channels
