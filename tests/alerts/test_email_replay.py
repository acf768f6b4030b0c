"""TPNW replay (Jan 2018, then Feb 2026) to an email subscriber, through the command line, a
real SMTP server on loopback (aiosmtpd) and the app's signed links: double opt-in (nothing but
the confirmation email before the address is confirmed), the threshold-crossed alert exactly
once with its plain-text part and RFC 8058 headers, and unsubscribe by one POST."""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from support.own_pages import write_tpnw_replay

from db.models import Delivery
from tracker.cli import main
from tracker.settings import Settings
from tracker.web.app import create_app

# slow: a real page history replayed through a local SMTP server, over 3 s a test
pytestmark = [pytest.mark.db, pytest.mark.slow]

PUBLIC = "http://tracker.test"
ADDRESS = "a@example.org"
NOTHING = "dispatch: 0 claimed, 0 sent, 0 to retry, 0 dead"


@pytest.fixture
def tpnw(tmp_path: Path) -> tuple[Path, Path]:
    """TPNW's two pages, Jan 2018 then Feb 2026: the project's own (support.own_pages); the
    real XML and page in tests/conformance/test_replay_*_real.py."""
    return write_tpnw_replay(tmp_path)


class Mailbox:
    """aiosmtpd handler: every message accepted, with its envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def env(monkeypatch, settings, mailbox):
    monkeypatch.setenv("TRACKER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TRACKER_SMTP_URL", f"smtp://127.0.0.1:{mailbox[1]}")
    monkeypatch.setenv("TRACKER_SECRET_KEY", "replay-secret-" + "s" * 32)
    monkeypatch.setenv("TRACKER_PUBLIC_URL", PUBLIC)
    monkeypatch.setenv("TRACKER_MAIL_FROM", "Treaty Tracker <alerts@tracker.test>")


@pytest.fixture
def client(env, session_factory) -> Iterator[TestClient]:
    """The app as `tracker run` builds it: settings from the same environment as the CLI."""
    with TestClient(create_app(session_factory, Settings.from_env())) as c:
        yield c


def run(capsys, *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def subscribe(capsys) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        run(
            capsys,
            "subscribe",
            "--email",
            ADDRESS,
            "--event",
            "threshold_crossed",
            "--treaty",
            "XXVI-9",
            "--json",
        )
    )
    assert found["state"] == "pending" and "secret" not in found
    return found


def replay(capsys, pages: tuple[Path, Path]) -> None:
    first, second = pages
    run(capsys, "ingest", "--source", "untc", "--observed-at", "2018-01-15", str(first))
    run(capsys, "ingest", "--source", "untc", str(second))


def state(capsys, sub_id: int) -> str:
    rows = json.loads(run(capsys, "subscriptions", "--json"))
    return str(next(r["state"] for r in rows if r["id"] == sub_id))


def text_of(msg: EmailMessage) -> str:
    assert msg.get_content_type() == "text/plain"
    return str(msg.get_content()).replace("\r\n", "\n")


def confirm_path(box: Mailbox) -> str:
    """The confirm link of the one opt-in email, as a path on the app."""
    ((rcpts, opt_in),) = box.messages
    assert rcpts == [ADDRESS] and opt_in["Subject"] == "Confirm your subscription"
    (url,) = re.findall(r"\S+/subscriptions/confirm/\S+", text_of(opt_in))
    assert url.startswith(PUBLIC + "/subscriptions/confirm/")
    return url[len(PUBLIC) :]


def deliveries(session_factory) -> int:
    with session_factory() as session:
        return int(session.scalar(select(func.count(Delivery.id))) or 0)


def test_nothing_but_the_opt_in_email_before_confirmation(
    env, capsys, mailbox, client, session_factory, tpnw
):
    box, _ = mailbox
    sub = subscribe(capsys)
    path = confirm_path(box)  # exactly one email so far: the opt-in

    replay(capsys, tpnw)  # the threshold is crossed while the address is unconfirmed
    assert run(capsys, "dispatch").strip() == NOTHING
    assert len(box.messages) == 1 and deliveries(session_factory) == 0
    assert state(capsys, sub["id"]) == "pending"

    # Confirming later does not send what happened before the confirmation.
    assert client.post(path).status_code == 200
    assert state(capsys, sub["id"]) == "active"
    assert run(capsys, "dispatch").strip() == NOTHING
    assert len(box.messages) == 1


def test_the_confirmed_subscriber_gets_the_alert_once_and_leaves_in_one_post(
    env, capsys, mailbox, client, session_factory, tpnw
):
    box, _ = mailbox
    sub = subscribe(capsys)
    path = confirm_path(box)

    assert client.get(path).status_code == 200  # a mail scanner's prefetch confirms nothing
    assert state(capsys, sub["id"]) == "pending"
    confirmed = client.post(path)
    assert confirmed.status_code == 200 and "Subscription confirmed" in confirmed.text
    assert state(capsys, sub["id"]) == "active"

    replay(capsys, tpnw)
    assert run(capsys, "dispatch").strip() == "dispatch: 1 claimed, 1 sent, 0 to retry, 0 dead"
    assert len(box.messages) == 2
    rcpts, alert = box.messages[1]
    assert rcpts == [ADDRESS] and alert["To"] == ADDRESS
    assert alert["From"] == "Treaty Tracker <alerts@tracker.test>"
    assert alert["Subject"].startswith("XXVI-9: the entry-into-force threshold was met")
    assert not alert.is_multipart()  # the plain-text part is the message
    text = text_of(alert)
    assert "(XXVI-9)" in text
    assert "The entry-into-force threshold was met on 2020-10-24." in text
    assert "Entry into force (computed): 2021-01-22." in text
    assert "Counts: 3 parties" in text and "-> 74 parties" in text
    assert f"Treaty page: {PUBLIC}/treaties/XXVI-9" in text
    assert "XXVI-9__tpnw.html" in text  # the evidence: the page it was seen on
    assert f"{PUBLIC}/subscriptions/manage/" in text
    unsubscribe = alert["List-Unsubscribe"]
    assert (
        unsubscribe.startswith(f"<{PUBLIC}/subscriptions/unsubscribe/") and unsubscribe[-1] == ">"
    )
    assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with session_factory() as session:
        (delivery,) = session.scalars(select(Delivery))
        assert (delivery.state, delivery.attempts) == ("sent", 1)
        assert alert["X-Tracker-Delivery"] == delivery.idempotency_key

    assert run(capsys, "dispatch").strip() == NOTHING  # exactly once
    assert len(box.messages) == 2

    # RFC 8058: the mail client's one POST, no page, no cookie.
    answer = client.post(
        unsubscribe[1:-1][len(PUBLIC) :],
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200
    assert state(capsys, sub["id"]) == "unsubscribed"
    assert len(box.messages) == 2
