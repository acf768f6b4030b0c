"""The dispatcher: claim due deliveries, send them, record each outcome; retry with backoff.

Guarantees (each one tested by killing real dispatcher processes, tests/alerts):

- A claim marks a batch of rows `sending` under a lease and a claim token, in its own
  transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serializes writers). A claim is
  not a try: it spends no attempt.
- A try is recorded (`attempts + 1`, in its own committed transaction, only on rows that still
  carry this claim's token) just before the message is handed to the channel. A process killed
  during a send has therefore counted that try; one killed between claim and send has not.
- While a batch is being worked through, a heartbeat thread renews the lease of every row the
  claim still holds, every third of the lease. So a live dispatcher keeps its claim however
  long the batch takes, and a second dispatcher only takes rows over from one that stopped
  renewing (killed, or unable to reach the database for two thirds of a lease). A dispatcher
  that finds a row of its batch taken over does not send it.
- A row taken over after a crash is sent again with the same idempotency key (and the same
  bytes): the only way a delivery repeats.
- Outcomes: sent; or, after a failed try, `pending` again after `backoff(attempts)` until
  `attempts` reaches `max_attempts`, then `dead`. A row taken over with `max_attempts` tries
  already counted (the last one cut short by a crash) is `dead` without another try. A refusal
  the channel calls permanent (HTTP 4xx, SMTP 5xx, an address the guard refuses at send time)
  is retried like any other failure: receivers get fixed, and a delivery is never dead unless
  it was tried `max_attempts` times.
- A delivery whose event was retracted (tracker.services.retraction) is never sent: `cancelled`
  when it comes up or when the retraction lands between its preparation and its try (checked in
  the try's own transaction), and a failed try of it is not retried but `cancelled`. A digest
  leaves such rows out. A retraction notice goes out only where the retracted alert may have
  arrived (sent, or tried at least once); otherwise it is `cancelled` too.
- Not a try, so never dead: a delivery whose subscription has ended is `cancelled`; one whose
  channel is not configured in this process (e.g. email without TRACKER_SMTP_URL), or whose
  message cannot be rendered (a bug, logged), goes back to `pending` for `DEFERRAL`, attempts
  unchanged, with the reason in `last_error`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Self

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from db.engine import SQLITE_BEGIN, one_line
from db.models import Delivery, Event, Subscription
from tracker.alerts.channels import Channel, DeliveryError, Message, Recipient
from tracker.alerts.messages import load_context, render
from tracker.alerts.model import backoff
from tracker.alerts.redact import redact_text
from tracker.settings import DEFAULTS

log = logging.getLogger("tracker.alerts")

DEFAULT_BATCH = 200
DEFAULT_LEASE = timedelta(seconds=DEFAULTS.delivery_lease_seconds)
DEFAULT_MAX_ATTEMPTS = DEFAULTS.delivery_max_attempts
# Event states whose deliveries are never sent: retracted, or held as disputed.
NEVER_SENT: tuple[str, ...] = ("retracted", "disputed")
DISPUTED = "event disputed (held until the depositary's page agrees or an operator confirms it)"
DEFERRAL = timedelta(minutes=10)  # wait before a delivery that was not tried is claimed again
Links = Callable[[int], dict[str, str]]


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    cancelled: int = 0  # subscription ended: never sent, not a failure
    deferred: int = 0  # not tried (channel not configured, message not rendered): later
    lost: int = 0  # taken over by another dispatcher before this one tried them

    def summary(self) -> str:
        text = (
            f"dispatch: {self.claimed} claimed, {self.sent} sent, {self.retried} to retry, "
            f"{self.dead} dead"
        )
        for name, count in (
            ("cancelled", self.cancelled),
            ("deferred (not tried)", self.deferred),
            ("taken over by another dispatcher", self.lost),
        ):
            if count:
                text += f", {count} {name}"
        return text


def new_token() -> str:
    return uuid.uuid4().hex


def claim(
    sessions: sessionmaker[Session],
    now: datetime,
    batch: int,
    lease: timedelta,
    token: str | None = None,
) -> list[int]:
    """Take up to `batch` due deliveries (or ones whose lease ran out) for this process."""
    return list(_claim(sessions, now, batch, lease, token or new_token()))


def _claim(
    sessions: sessionmaker[Session], now: datetime, batch: int, lease: timedelta, token: str
) -> dict[int, str | None]:
    """Claim a batch under `token`; map each id to its previous claim's token (None: never
    claimed), which tells the rows of one earlier claim apart, so that a digest re-claimed after
    a crash or a failed try keeps its composition (and its key)."""
    with sessions.begin() as session:
        session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
        due = or_(
            and_(Delivery.state == "pending", Delivery.due_at <= now),
            and_(Delivery.state == "sending", Delivery.claimed_until < now),
        )
        query = (
            select(Delivery.id, Delivery.claim_token)
            .where(due)
            .order_by(Delivery.due_at, Delivery.id)
            .limit(batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claimed = {i: previous for i, previous in session.execute(query)}
        if claimed:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(list(claimed)))
                .values(state="sending", claimed_until=now + lease, claim_token=token)
            )
    return claimed


def _ours(token: str) -> tuple:
    return (Delivery.claim_token == token, Delivery.state == "sending")


def renew(sessions: sessionmaker[Session], token: str, now: datetime, lease: timedelta) -> int:
    """Extend the lease of every row this claim still holds; return how many."""
    with sessions.begin() as session:
        session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
        result = session.execute(
            update(Delivery).where(*_ours(token)).values(claimed_until=now + lease)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class _Heartbeat:
    """Renews a claim's lease every third of it, in a thread, until stopped.

    `lock` serializes its writes with the dispatcher's own (one process, one writer at a time:
    no lock waits between the two on either database)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        token: str,
        lease: timedelta,
        now: Callable[[], datetime],
        lock: threading.Lock,
    ) -> None:
        self.sessions, self.token, self.lease, self.now, self.lock = (
            sessions,
            token,
            lease,
            now,
            lock,
        )
        self.period = max(lease.total_seconds() / 3, 0.01)
        self.renewals = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="delivery-lease", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                with self.lock:
                    renew(self.sessions, self.token, self.now(), self.lease)
                self.renewals += 1
            except Exception as error:  # noqa: BLE001 (the next beat tries again)
                log.warning(
                    "could not renew the lease of claim %s: %s",
                    self.token[:8],
                    one_line(error),
                )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class _Lost(Exception):
    """Some rows of a group no longer belong to this claim (another dispatcher took them)."""


class _Retracted(Exception):
    """Some rows of a group carry an event retracted since the group was prepared."""

    def __init__(self, rows: list[int]) -> None:
        super().__init__(rows)
        self.rows = rows


def _begin_try(
    sessions: sessionmaker[Session],
    group: list[int],
    token: str,
    now: datetime,
    lease: timedelta,
) -> None:
    """Record a try on every row of `group` (and renew its lease), committed before the send;
    _Lost, with nothing recorded, if any of them is no longer this claim's; _Retracted if an
    event was retracted meanwhile (checked in the same transaction: a retraction committed
    before this try is always seen, so its notice and this send cannot cross)."""
    with sessions.begin() as session:
        session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
        retracted = session.scalars(
            select(Delivery.id)
            .join(Event, Event.id == Delivery.event_id)
            .where(Delivery.id.in_(group), Event.state.in_(NEVER_SENT))
        ).all()
        if retracted:
            raise _Retracted(list(retracted))
        result = session.execute(
            update(Delivery)
            .where(Delivery.id.in_(group), *_ours(token))
            .values(attempts=Delivery.attempts + 1, claimed_until=now + lease)
        )
        if (result.rowcount or 0) != len(group):  # type: ignore[attr-defined]
            raise _Lost  # rolls the transaction back: no try recorded


@dataclass(frozen=True)
class _Outcome:
    kind: str  # sent | tried (failed) | cancelled | deferred | requeued | exhausted
    error: str | None = None


def _record(
    sessions: sessionmaker[Session],
    group: list[int],
    token: str,
    now: datetime,
    outcome: _Outcome,
    max_attempts: int,
) -> list[str]:
    """Write one outcome on all the rows of a group this claim still holds, in one transaction
    (a digest is one send); return the report field of each row written."""
    results = []
    with sessions.begin() as session:
        session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})
        rows = session.scalars(
            select(Delivery)
            .where(Delivery.id.in_(group), *_ours(token))
            .order_by(Delivery.id)
            .with_for_update()
        ).all()
        if len(rows) != len(group):
            log.warning(
                "deliveries %s: taken over by another dispatcher while this one held them "
                "(its lease ran out); outcome %s not recorded, a repeat carries the same key",
                sorted(set(group) - {r.id for r in rows}),
                outcome.kind,
            )
        retracted = _retracted(session, [row.event_id for row in rows])
        for row in rows:
            row.claimed_until = None
            error = (outcome.error or "")[:2000] or None
            if outcome.kind == "tried" and row.event_id in retracted:
                row.state, row.last_error = "cancelled", f"event retracted; last try: {error}"
                results.append("cancelled")
            elif outcome.kind == "sent":
                row.state, row.sent_at, row.last_error = "sent", now, None
                results.append("sent")
            elif outcome.kind == "cancelled":
                row.state, row.last_error = "cancelled", error
                results.append("cancelled")
            elif outcome.kind == "exhausted":
                row.state, row.last_error = "dead", error
                results.append("dead")
            elif outcome.kind == "deferred":
                row.state, row.due_at, row.last_error = "pending", now + DEFERRAL, error
                results.append("deferred")
            elif outcome.kind == "requeued":  # not tried: due again at once
                row.state, row.due_at = "pending", now
                results.append("deferred")
            elif row.attempts < max_attempts:
                row.state, row.due_at, row.last_error = (
                    "pending",
                    now + backoff(row.attempts),
                    error,
                )
                results.append("retried")
            else:
                row.state, row.last_error = "dead", error
                results.append("dead")
    return results


def _unsendable(session: Session, deliveries: list[Delivery]) -> dict[int, str]:
    """The deliveries that must never be sent, with why: their event was retracted; or it is a
    retraction notice and the retracted alert never reached this subscriber (no try of it)."""
    retracted = _retracted(session, [d.event_id for d in deliveries])
    found = {
        d.id: "event retracted before it was sent" for d in deliveries if d.event_id in retracted
    }
    held = _disputed(session, [d.event_id for d in deliveries if d.id not in found])
    found |= {d.id: DISPUTED for d in deliveries if d.event_id in held}
    events = {
        e.id: e
        for e in session.scalars(
            select(Event).where(Event.id.in_({d.event_id for d in deliveries}))
        )
    }
    for d in deliveries:
        notice = events.get(d.event_id)
        if d.id in found or notice is None or notice.kind != "retraction":
            continue
        original = session.scalar(
            select(Delivery).where(
                Delivery.event_id == notice.details.get("retracted_event"),
                Delivery.subscription_id == d.subscription_id,
            )
        )
        if original is None or (original.state != "sent" and original.attempts == 0):
            found[d.id] = "the withdrawn alert never reached this subscriber: nothing to withdraw"
    return found


def _disputed(session: Session, event_ids: list[int]) -> set[int]:
    """Which of these events are held as disputed (never sent while they are). The outbox
    writes no delivery for one; a delivery that exists all the same is cancelled, not sent (the
    event's own deliveries are enqueued when it becomes final)."""
    if not event_ids:
        return set()
    query = select(Event.id).where(Event.id.in_(set(event_ids)), Event.state == "disputed")
    return set(session.scalars(query))


def _retracted(session: Session, event_ids: list[int]) -> set[int]:
    """Which of these events were retracted (never to be sent from now on)."""
    if not event_ids:
        return set()
    query = select(Event.id).where(Event.id.in_(set(event_ids)), Event.state == "retracted")
    return set(session.scalars(query))


def _groups(sessions: sessionmaker[Session], claimed: dict[int, str | None]) -> list[list[int]]:
    """One group per immediate delivery; for daily digests one per (subscription, earlier
    claim): a digest claimed again after a crash or a failed try is re-sent whole, same key."""
    with sessions() as session:
        rows = session.execute(
            select(Delivery.id, Delivery.subscription_id, Subscription.digest)
            .join(Subscription, Subscription.id == Delivery.subscription_id)
            .where(Delivery.id.in_(list(claimed)))
            .order_by(Delivery.id)
        ).all()
    single = [[d] for d, _, digest in rows if digest != "daily"]
    daily: dict[tuple[int, str | None], list[int]] = {}
    for d, sub, digest in rows:
        if digest == "daily":
            daily.setdefault((sub, claimed[d]), []).append(d)
    return single + list(daily.values())


def _in_order(message: Message) -> tuple[str, str, str]:
    event = message.payload["event"]
    return (event["observed_at"], event.get("legal_date") or "", event.get("participant") or "")


def digest_of(messages: list[Message]) -> Message:
    """Several alerts as one message; its key is derived from theirs (the same on a retry)."""
    if len(messages) == 1:
        return messages[0]
    keys = "".join(sorted(m.idempotency_key for m in messages))
    messages = sorted(messages, key=_in_order)
    first = messages[0]
    return Message(
        subject=f"Treaty tracker: {len(messages)} updates (daily digest)",
        text="\n----\n\n".join(m.text for m in messages),
        payload={"digest": [m.payload for m in messages]},
        idempotency_key="digest-" + hashlib.sha256(keys.encode()).hexdigest()[:40],
        unsubscribe_url=first.unsubscribe_url,
        manage_url=first.manage_url,
    )


@dataclass(frozen=True)
class _Prepared:
    """A group ready to send, or the reason it will not be tried now."""

    recipient: Recipient
    channel: Channel | None = None
    message: Message | None = None
    skip: _Outcome | None = None
    # rows left out of the group (a digest), never to be sent, each with why: cancelled
    dropped: tuple[tuple[int, str], ...] = ()


def _prepare(
    sessions: sessionmaker[Session],
    group: list[int],
    channels: Mapping[str, Channel],
    public_url: str,
    links: Links | None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> _Prepared:
    """Load and render one claimed delivery, or one digest of several (no try yet)."""
    with sessions() as session:
        deliveries = [session.get_one(Delivery, i) for i in group]
        sub = session.get_one(Subscription, deliveries[0].subscription_id)
        recipient = Recipient(sub.id, sub.channel, sub.target, sub.secret)
        if sub.state != "active":
            return _Prepared(recipient, skip=_Outcome("cancelled", f"subscription {sub.state}"))
        unsendable = _unsendable(session, deliveries)
        if len(unsendable) == len(deliveries):
            return _Prepared(recipient, skip=_Outcome("cancelled", next(iter(unsendable.values()))))
        dropped = tuple(unsendable.items())
        deliveries = [d for d in deliveries if d.id not in unsendable]
        if any(d.attempts >= max_attempts for d in deliveries):  # the last try was cut short
            reason = (
                f"tried {max_attempts} times; the last try was interrupted (the dispatcher "
                f"stopped during the send), its outcome unknown; last error: "
                f"{deliveries[0].last_error or 'none'}"
            )
            return _Prepared(recipient, skip=_Outcome("exhausted", reason), dropped=dropped)
        channel = channels.get(sub.channel)
        if channel is None:
            reason = f"channel {sub.channel} is not configured in this dispatcher; not tried"
            return _Prepared(recipient, skip=_Outcome("deferred", reason), dropped=dropped)
        try:
            extra = links(sub.id) if links and sub.channel == "email" else None
            message = digest_of(
                [render(load_context(session, d), d, sub, public_url, extra) for d in deliveries]
            )
        except Exception as crash:  # a bug in rendering: not a try, never dead
            log.exception("deliveries %s: cannot render the message", group)
            reason = f"cannot render the message ({type(crash).__name__}); not tried"
            return _Prepared(recipient, skip=_Outcome("deferred", reason), dropped=dropped)
    return _Prepared(recipient, channel, message, dropped=dropped)


def _send(prepared: _Prepared, group: list[int]) -> _Outcome:
    """Hand the message to its channel: the try itself."""
    assert prepared.channel is not None and prepared.message is not None
    target = prepared.recipient.target
    try:
        prepared.channel.send(prepared.recipient, prepared.message)
    except DeliveryError as failed:
        kind = "" if failed.retryable else " (refused; retried all the same)"
        return _Outcome("tried", redact_text(failed.reason, target) + kind)
    except Exception as crash:  # noqa: BLE001 (a bug in a channel must not stop the others)
        reason = redact_text(f"{type(crash).__name__}: {crash}", target)
        log.error("deliveries %s: channel error: %s", group, reason)
        return _Outcome("tried", reason)
    return _Outcome("sent")


def dispatch_due(
    sessions: sessionmaker[Session],
    channels: Mapping[str, Channel],
    *,
    public_url: str = DEFAULTS.public_url,
    links: Links | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    batch: int = DEFAULT_BATCH,
    lease: timedelta = DEFAULT_LEASE,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> DispatchReport:
    """Deliver everything due now, batch after batch, once each; report what happened."""
    report = DispatchReport()
    writes = threading.Lock()  # this process's writes: the heartbeat's and the sends'
    while True:
        token = new_token()
        with writes:
            claimed = _claim(sessions, now(), batch, lease, token)
        if not claimed:
            break
        report.claimed += len(claimed)
        with _Heartbeat(sessions, token, lease, now, writes):
            for group in _groups(sessions, claimed):
                prepared = _prepare(sessions, group, channels, public_url, links, max_attempts)
                for row, why in prepared.dropped:  # a digest's rows that are never sent
                    with writes:
                        done = _record(
                            sessions, [row], token, now(), _Outcome("cancelled", why), max_attempts
                        )
                    report.cancelled += len(done)
                    group = [d for d in group if d != row]
                outcome = prepared.skip
                if outcome is None:
                    try:
                        with writes:
                            _begin_try(sessions, group, token, now(), lease)
                    except _Retracted as late:  # retracted since prepared: cancel, redo the rest
                        why = _Outcome(
                            "cancelled", "event retracted (or disputed) before it was sent"
                        )
                        rest = [d for d in group if d not in late.rows]
                        with writes:
                            done = _record(sessions, late.rows, token, now(), why, max_attempts)
                            again = _record(
                                sessions, rest, token, now(), _Outcome("requeued"), max_attempts
                            )
                        report.cancelled += len(done)
                        report.deferred += len(again)
                        continue
                    except _Lost:
                        log.warning(
                            "deliveries %s: taken over by another dispatcher before being "
                            "tried (the lease ran out); not sent by this one",
                            group,
                        )
                        report.lost += len(group)
                        continue
                    outcome = _send(prepared, group)
                with writes:
                    results = _record(sessions, group, token, now(), outcome, max_attempts)
                for result in results:
                    setattr(report, result, getattr(report, result) + 1)
    if report.claimed:
        log.info("%s", report.summary(), extra={"event": "dispatch", **report.__dict__})
    return report
