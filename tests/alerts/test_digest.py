"""The daily digest (issue 13: "today's digest is 1,360 lines"): one short message grouped by
treaty, a summary line each ("XXVI-9 (...): 3 new parties (A, B, C), 1 signature; threshold
met on ..."), each change on one line, one footer. Sent through the real dispatcher and e-mail
channel to an SMTP server on loopback (support.alert_receivers.smtp_receiver), read back from
the bytes it received."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime, timedelta

import pytest
from statuses import member, page, status
from support.alert_receivers import smtp_receiver

from db.models import Subscription
from tracker.alerts.digest import MAX_CHANGES, summary
from tracker.alerts.dispatch import dispatch_due
from tracker.alerts.email import EmailChannel
from tracker.alerts.links import links_for
from tracker.services.ingest import ingest_page

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]

PUBLIC = "https://tracker.example.org"
SECRET = "s" * 40
NOW = datetime(2020, 3, 10, 12, tzinfo=UTC)  # after the digest hour of 2020-03-02
TPNW = "XXVI-9 (Treaty on the Prohibition of Nuclear Weapons)"
OTHER = "XXVI-8"
OTHER_URL = "https://treaties.example/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=XXVI-8"


def states(first: int, n: int, **kw: str) -> list:
    """n participants "State NNN" from `first`, each with a consent (or what kw gives)."""
    start = date(2019, 1, 1)
    return [
        member(
            f"State {i:03d}",
            None,
            **{k: (start + timedelta(days=i)).isoformat() for k in kw.get("fields", ["consent"])},
        )
        for i in range(first, first + n)
    ]


def subscribe_daily(session_factory) -> None:
    with session_factory.begin() as session:
        session.add(
            Subscription(
                channel="email",
                target="ana@example.org",
                secret=None,
                treaties=[],
                countries=[],
                kinds=[],
                digest="daily",
                state="active",
            )
        )


def received_digest(session_factory) -> tuple[email.message.EmailMessage, list[str]]:
    """Dispatch what is due to a loopback SMTP server; the one message it got, and its lines."""
    with smtp_receiver() as (inbox, port):
        channel = EmailChannel(f"smtp://127.0.0.1:{port}", "Tracker <alerts@example.org>")
        try:
            report = dispatch_due(
                session_factory,
                {"email": channel},
                public_url=PUBLIC,
                links=lambda sub: links_for(PUBLIC, SECRET, sub),
                now=lambda: NOW,
            )
        finally:
            channel.close()
    assert report.sent == report.claimed > 1
    ((raw, to),) = inbox.messages  # one message for the whole day
    assert to == ["ana@example.org"]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    text = str(msg.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]
    return msg, text.rstrip("\n").split("\n")


def test_a_day_of_a_few_changes_is_one_message_grouped_by_treaty(session_factory):
    subscribe_daily(session_factory)
    ingest_page(session_factory, page(status(*states(0, 40)), "2020-02-01"))
    other = status(*states(0, 2), treaty=OTHER, title="Another Treaty")
    ingest_page(session_factory, page(other, "2020-02-01", url=OTHER_URL))
    # 2020-03-01: TPNW gains three parties and a signature; the other treaty one party
    signer = member("Signer", "SGN", sig="2020-02-20")
    ingest_page(session_factory, page(status(*states(0, 43), signer), "2020-03-01"))
    other = status(*states(0, 3), treaty=OTHER, title="Another Treaty")
    ingest_page(session_factory, page(other, "2020-03-01", url=OTHER_URL))

    msg, lines = received_digest(session_factory)
    assert msg["Subject"] == "Treaty tracker: 5 updates (daily digest)"
    assert lines[0] == "Treaty tracker, daily digest: 5 updates on 2 treaties."
    tpnw = lines.index(f"{TPNW}: 3 new parties (State 040, State 041, State 042), 1 signature")
    assert lines[tpnw + 1 : tpnw + 6] == [
        "- State 040 became a party (ratification) on 2019-02-10",
        "- State 041 became a party (ratification) on 2019-02-11",
        "- State 042 became a party (ratification) on 2019-02-12",
        "- Signer signed on 2020-02-20",
        f"Treaty page: {PUBLIC}/treaties/XXVI-9",
    ]
    other_at = lines.index("XXVI-8 (Another Treaty): 1 new party (State 002)")
    assert lines[other_at + 1 : other_at + 3] == [
        "- State 002 became a party (ratification) on 2019-01-03",
        f"Treaty page: {PUBLIC}/treaties/XXVI-8",
    ]
    # one footer, at the end; the unsubscribe link in its header
    assert lines[-2] == "--" and lines[-1].startswith(f"Manage or end this subscription: {PUBLIC}/")
    assert sum("Manage or end" in line for line in lines) == 1
    assert msg["List-Unsubscribe"].startswith(f"<{PUBLIC}/")
    assert len(lines) == 1 + 7 + 4 + 3


def test_a_day_of_many_events_stays_short(session_factory):
    """150 new parties, 20 signatures, the threshold met and entry into force in one day: before, one message of
    every alert's full text (nine lines or more each: over 1,500 lines); now a bounded one."""
    subscribe_daily(session_factory)
    ingest_page(session_factory, page(status(*states(0, 30)), "2020-02-01"))
    signers = states(200, 20, fields=["sig"])
    crowd = status(*states(0, 180), *signers, eif_date="2019-05-20")  # as the rule computes
    ingest_page(session_factory, page(crowd, "2020-03-01"))

    msg, lines = received_digest(session_factory)
    events = 150 + 20 + 2  # consents, signatures, threshold met, in force (approaching: baseline)
    assert msg["Subject"] == f"Treaty tracker: {events} updates (daily digest)"
    head = [line for line in lines if line.startswith(TPNW)]
    assert head == [
        f"{TPNW}: 150 new parties (State 030, State 031, State 032, State 033, State 034 and "
        "145 more), 20 signatures; threshold met on 2019-02-19; entered into force on 2019-05-20"
    ]
    changes = [line for line in lines if line.startswith("- ")]
    assert len(changes) == MAX_CHANGES + 1
    assert changes[-1] == f"- and {events - MAX_CHANGES} more: {PUBLIC}/treaties/XXVI-9"
    assert sum("Manage or end" in line for line in lines) == 1
    # the bound: heading, one block (summary, changes, "and more", page), footer
    assert len(lines) <= 2 + (MAX_CHANGES + 3) + 3 == 28
    assert len("\n".join(lines)) < 3000


def test_the_summary_counts_kinds_and_names_rule_events():
    def alert(kind: str, who: str | None = None, day: str | None = None, **extra) -> dict:
        return {"event": {"kind": kind, "participant": who, "legal_date": day}, **extra}

    assert summary(
        [
            alert("consent", "A"),
            alert("signature", "S"),
            alert("consent", "B"),
            alert("withdrawal", "W"),
            alert("approaching", remaining=2),
            alert("threshold_crossed", day="2020-10-24"),
            alert("entered_into_force", day="2021-01-22"),
        ]
    ) == (
        "2 new parties (A, B), 1 signature, 1 withdrawal (W); 2 instruments remain before the "
        "threshold; threshold met on 2020-10-24; entered into force on 2021-01-22"
    )
    assert summary([alert("correction", "C"), alert("correction", "D")]) == "2 corrections"
