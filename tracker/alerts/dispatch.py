"""The dispatcher: claim due deliveries, send them, record each outcome; retry with backoff.

Guarantees (each one tested by killing real dispatcher processes, tests/alerts):

- A claim marks a batch of rows `sending` under a lease and a claim token, in its own
  transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serializes writers). A claim is
  not a try: it spends no attempt.
- A try is recorded (`attempts + 1`, committed, only on rows that still carry this claim's
  token) before the message is handed to the channel, and only when the channel can send it at
  once: a webhook's tries are counted as its senders come free (those of the messages that will
  be in flight together, in one transaction), an e-mail's just before it goes on the
  connection. No counted try waits in a queue behind other sends, so a process killed while
  sending has counted the tries it had in flight (sent, outcomes unknown: tried again later,
  same key) and, at most, the few it was handing over in that instant; one killed between
  claim and send has counted none. A kill does not use up the tries of messages still queued.
- A batch is prepared in one read (each event's context loaded once), then sent: webhooks
  concurrently (a bounded pool, one HTTP client), e-mails one after the other on one kept SMTP
  connection (reopened when lost); one message's failure is that message's outcome only. The
  batch's outcomes are written together as they come (a transaction per `OUTCOMES_AT_ONCE`,
  or per `OUTCOMES_EVERY` seconds), and every `OUTCOMES_TAIL` seconds once no message of the
  batch waits its turn (so a small batch's slow sends are written as each one ends). After a
  crash mid-batch (an exception out of the sending), the outcomes known are written; the
  messages in flight stay counted.
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

Here: the loop (`dispatch_due`) and its report. Its parts: claims, leases and tries
(tracker.alerts.claims), preparing and sending a batch's groups (tracker.alerts.sending),
writing outcomes (tracker.alerts.outcomes), what is never sent (tracker.alerts.withheld); what
wakes the dispatcher when deliveries are committed (tracker.alerts.wake).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from db.unit_of_work import Writer
from tracker.alerts.channels import Channel
from tracker.alerts.claims import DEFAULT_LEASE, Heartbeat, begin_tries, claim_batch, new_token
from tracker.alerts.outcomes import DEFAULT_MAX_ATTEMPTS, Outcome, record_many
from tracker.alerts.sending import Links, Prepared, groups, prepare, send_batch
from tracker.settings import DEFAULTS

log = logging.getLogger("tracker.alerts")

DEFAULT_BATCH = 200
# The outcomes of a batch's sends are written together, as they come: OUTCOMES_AT_ONCE of them,
# or what came in OUTCOMES_EVERY seconds (so a crash leaves few sent ones unrecorded: those
# are sent again, same key).
OUTCOMES_AT_ONCE = 100
OUTCOMES_EVERY = 0.25
# Once no message of the batch waits its turn, what comes is written every OUTCOMES_TAIL
# seconds: a small batch's slow sends are each written as they end, a big batch's last few
# together.
OUTCOMES_TAIL = 0.02


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
    # the tries' transactions (one per e-mail) on one held connection
    with Writer(sessions) as writer:
        while True:
            token = new_token()
            with writes:
                claimed = claim_batch(sessions, now(), batch, lease, token)
            if not claimed:
                break
            report.claimed += len(claimed)
            with Heartbeat(sessions, token, lease, now, writes):
                _work(
                    sessions,
                    _Claim(claimed, token, lease, writes, writer),
                    channels,
                    public_url,
                    links,
                    now,
                    max_attempts,
                    report,
                )
    if report.claimed:
        log.info("%s", report.summary(), extra={"event": "dispatch", **report.__dict__})
    return report


def _count(report: DispatchReport, results: list[list[str]]) -> None:
    for result in (r for group in results for r in group):
        setattr(report, result, getattr(report, result) + 1)


@dataclass(frozen=True)
class _Claim:
    """A claimed batch, with what its writes go through: this process's write lock (the
    heartbeat's and the sends'), and the held connection its tries are counted on."""

    rows: dict[int, str | None]  # id -> its previous claim's token
    token: str
    lease: timedelta
    writes: threading.Lock
    writer: Writer


def _work(
    sessions: sessionmaker[Session],
    claim: _Claim,
    channels: Mapping[str, Channel],
    public_url: str,
    links: Links | None,
    now: Callable[[], datetime],
    max_attempts: int,
    report: DispatchReport,
) -> None:
    """One claimed batch: prepared in one read; what is not tried written in one transaction;
    the rest sent (concurrently where the channel can), each try counted as it is handed over;
    their outcomes written in batches (OUTCOMES_*)."""
    batch = groups(sessions, claim.rows)
    prepared = prepare(sessions, batch, channels, public_url, links, max_attempts)
    untried: list[tuple[list[int], Outcome]] = []
    to_try: list[tuple[list[int], Prepared]] = []
    for group, ready in zip(batch, prepared, strict=True):
        untried += [([row], Outcome("cancelled", why)) for row, why in ready.dropped]
        left = {row for row, _ in ready.dropped}  # a digest's rows that are never sent
        group = [d for d in group if d not in left]
        if ready.skip is not None:
            untried.append((group, ready.skip))
        else:
            to_try.append((group, ready))
    if untried:
        with claim.writes:
            _count(report, record_many(sessions, untried, claim.token, now(), max_attempts))
    if not to_try:
        return
    known: list[tuple[list[int], Outcome]] = []
    flushed = [time.monotonic()]

    def flush() -> None:
        if known:
            with claim.writes:
                _count(report, record_many(sessions, known, claim.token, now(), max_attempts))
            known.clear()
        flushed[0] = time.monotonic()

    handed = [0]  # how many of to_try have been handed over (or refused) so far

    def begin(indexes: list[int]) -> list[int]:
        handed[0] += len(indexes)
        chosen = _begin(sessions, [to_try[i] for i in indexes], claim, now, max_attempts, report)
        return [indexes[k] for k in chosen]

    def done(i: int, outcome: Outcome) -> None:
        known.append((to_try[i][0], outcome))
        since = time.monotonic() - flushed[0]
        if (
            len(known) >= OUTCOMES_AT_ONCE
            or since >= OUTCOMES_EVERY
            or (handed[0] == len(to_try) and since >= OUTCOMES_TAIL)  # none waits its turn
        ):
            flush()

    try:
        send_batch(to_try, done, begin)
    finally:  # a crash mid-batch: what is known is written; what was in flight stays counted
        flush()


def _begin(
    sessions: sessionmaker[Session],
    handing: list[tuple[list[int], Prepared]],
    claim: _Claim,
    now: Callable[[], datetime],
    max_attempts: int,
    report: DispatchReport,
) -> list[int]:
    """Count the tries of the groups of `handing`, about to be handed over at once (committed
    before any of them is); what was taken over or retracted meanwhile is not sent. The
    indexes in `handing` of the ones to send now."""
    with claim.writes:
        tries = begin_tries(
            sessions, [g for g, _ in handing], claim.token, now(), claim.lease, claim.writer
        )
    if tries.lost:
        lost = [handing[i][0] for i in tries.lost]
        log.warning(
            "deliveries %s: taken over by another dispatcher before being "
            "tried (the lease ran out); not sent by this one",
            lost,
        )
        report.lost += sum(len(g) for g in lost)
    if tries.retracted:  # retracted since prepared: cancel them, requeue the rest of a digest
        why = Outcome("cancelled", "event retracted (or disputed) before it was sent")
        late: list[tuple[list[int], Outcome]] = []
        for i, rows in tries.retracted.items():
            late.append((rows, why))
            late.append(([d for d in handing[i][0] if d not in rows], Outcome("requeued")))
        with claim.writes:
            done = record_many(sessions, late, claim.token, now(), max_attempts)
        report.cancelled += sum(len(r) for r in done[0::2])
        report.deferred += sum(len(r) for r in done[1::2])
    return tries.tried
