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

Here: the loop (`dispatch_due`) and its report. Its parts: claims, leases and tries
(tracker.alerts.claims), preparing and sending a group (tracker.alerts.sending), writing an
outcome (tracker.alerts.outcomes), what is never sent (tracker.alerts.withheld).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tracker.alerts.channels import Channel
from tracker.alerts.claims import (
    DEFAULT_LEASE,
    Heartbeat,
    Lost,
    Retracted,
    begin_try,
    claim_batch,
    new_token,
)
from tracker.alerts.outcomes import DEFAULT_MAX_ATTEMPTS, Outcome, record
from tracker.alerts.sending import Links, groups, prepare, send
from tracker.settings import DEFAULTS

log = logging.getLogger("tracker.alerts")

DEFAULT_BATCH = 200


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
    while True:
        token = new_token()
        with writes:
            claimed = claim_batch(sessions, now(), batch, lease, token)
        if not claimed:
            break
        report.claimed += len(claimed)
        with Heartbeat(sessions, token, lease, now, writes):
            for group in groups(sessions, claimed):
                prepared = prepare(sessions, group, channels, public_url, links, max_attempts)
                for row, why in prepared.dropped:  # a digest's rows that are never sent
                    with writes:
                        done = record(
                            sessions, [row], token, now(), Outcome("cancelled", why), max_attempts
                        )
                    report.cancelled += len(done)
                    group = [d for d in group if d != row]
                outcome = prepared.skip
                if outcome is None:
                    try:
                        with writes:
                            begin_try(sessions, group, token, now(), lease)
                    except Retracted as late:  # retracted since prepared: cancel, redo the rest
                        why = Outcome(
                            "cancelled", "event retracted (or disputed) before it was sent"
                        )
                        rest = [d for d in group if d not in late.rows]
                        with writes:
                            done = record(sessions, late.rows, token, now(), why, max_attempts)
                            again = record(
                                sessions, rest, token, now(), Outcome("requeued"), max_attempts
                            )
                        report.cancelled += len(done)
                        report.deferred += len(again)
                        continue
                    except Lost:
                        log.warning(
                            "deliveries %s: taken over by another dispatcher before being "
                            "tried (the lease ran out); not sent by this one",
                            group,
                        )
                        report.lost += len(group)
                        continue
                    outcome = send(prepared, group)
                with writes:
                    results = record(sessions, group, token, now(), outcome, max_attempts)
                for result in results:
                    setattr(report, result, getattr(report, result) + 1)
    if report.claimed:
        log.info("%s", report.summary(), extra={"event": "dispatch", **report.__dict__})
    return report
