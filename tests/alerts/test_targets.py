"""What a subscription's target may be, and how it is shown.

- An email address is one address (email-validator, no DNS): in the CLI, the API, the
  subscriber pages and the email channel itself (for rows stored before validation).
- `tracker subscribe --email` with SMTP down: one line on stderr, exit 2, nothing created.
- Credentials inside webhook and Apprise URLs never appear in a listing (CLI, API, last_error,
  log lines), while the stored target stays whole.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from statuses import member, page, status

from db.models import Delivery, Subscription
from tracker.alerts.channels import DeliveryError, Message, Recipient
from tracker.alerts.dispatch import dispatch_due
from tracker.alerts.email import EmailChannel
from tracker.alerts.links import PATHS, make_token
from tracker.alerts.redact import redact_target
from tracker.cli import main
from tracker.services.ingest import ingest_page
from tracker.web.app import create_app

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "operator-token-for-targets"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KEY = "k" * 40
NOW = datetime(2020, 3, 10, 12, tzinfo=UTC)
NOT_ONE_ADDRESS = [
    "ana@example.org, bob@example.org",
    "ana@example.org,bob@example.org",
    "ana@example.org\n",
    "ana@example.org\r\nBcc: all@example.org",
    "Ana <ana@example.org>",
    '"ana,bob"@example.org',
    "ana@[127.0.0.1]",
    "ana@localhost",
    "ana@example.org;bob@example.org",
    " ana@example.org",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def env(monkeypatch, settings):
    monkeypatch.setenv("TRACKER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TRACKER_WEBHOOK_ALLOWLIST", "127.0.0.0/8")
    monkeypatch.setenv("TRACKER_SECRET_KEY", KEY)
    monkeypatch.setenv("TRACKER_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nothing there


def count(session_factory) -> int:
    with session_factory() as session:
        return int(session.scalar(select(func.count(Subscription.id))) or 0)


# --- one email address ---------------------------------------------------------------------


@pytest.mark.parametrize("address", NOT_ONE_ADDRESS)
def test_the_cli_refuses_anything_but_one_address(env, capsys, session_factory, address):
    assert main(["subscribe", "--email", address]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("tracker subscribe: not an email address")
    assert count(session_factory) == 0


@pytest.fixture
def client(session_factory, settings):
    configured = settings.replace(
        admin_token=TOKEN,
        webhook_allowlist=("127.0.0.0/8",),
        secret_key=KEY,
        smtp_url=f"smtp://127.0.0.1:{free_port()}",
    )
    with TestClient(create_app(session_factory, configured)) as c:
        yield c


@pytest.mark.parametrize("address", [a for a in NOT_ONE_ADDRESS if a.strip() == a or "\n" in a])
def test_the_api_refuses_anything_but_one_address(client, session_factory, address):
    answer = client.post(
        "/api/subscriptions", headers=AUTH, json={"channel": "email", "target": address}
    )
    assert answer.status_code == 422, answer.text
    assert count(session_factory) == 0


def test_an_address_is_stored_normalized(session_factory, settings):
    from tracker.alerts import subscriptions

    config = settings.replace(secret_key=KEY, smtp_url="smtp://127.0.0.1:25")
    with session_factory.begin() as session:
        sub = subscriptions.create(
            session, config, channel="email", target="Ana@EXAMPLE.Org", now=NOW
        )
    assert sub.target == "Ana@example.org"


def legacy_email_subscription(session_factory, target: str) -> int:
    """A row written before addresses were validated (the old pattern let these through)."""
    with session_factory.begin() as session:
        sub = Subscription(channel="email", target=target, state="pending", created_at=NOW)
        session.add(sub)
        session.flush()
        return sub.id


def test_the_confirm_page_refuses_a_stored_list_of_addresses(session_factory, settings):
    sub_id = legacy_email_subscription(session_factory, "ana@example.org,bob@example.org")
    config = settings.replace(secret_key=KEY)
    with TestClient(create_app(session_factory, config)) as c:
        path = PATHS["confirm"] + make_token(KEY, "confirm", sub_id)
        assert c.get(path).status_code == 200
        answer = c.post(path)
    assert answer.status_code == 422
    assert "not a single email address" in answer.text
    with session_factory() as session:
        assert session.get_one(Subscription, sub_id).state == "pending"


def test_the_email_channel_refuses_a_stored_list_before_any_smtp(settings):
    channel = EmailChannel(f"smtp://127.0.0.1:{free_port()}", "alerts@tracker.example")
    message = Message("s", "t", {}, "dlv-1")
    with pytest.raises(DeliveryError, match="not one email address") as refused:
        channel.send(Recipient(1, "email", "ana@example.org, bob@example.org"), message)
    assert refused.value.retryable is False and channel.connections == 0


# --- SMTP down ------------------------------------------------------------------------------


@pytest.mark.slow  # waits for the SMTP connection to fail: over 5 s
def test_subscribe_email_with_smtp_down_is_one_line_exit_2_and_nothing_made(
    cli_env, session_factory
):
    env = cli_env | {
        "TRACKER_SECRET_KEY": KEY,
        "TRACKER_SMTP_URL": f"smtp://127.0.0.1:{free_port()}",  # nothing listens there
    }
    done = subprocess.run(
        [sys.executable, "-m", "tracker.cli", "subscribe", "--email", "ana@example.org"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("tracker subscribe: the confirmation email could not be sent")
    assert "cannot connect to SMTP 127.0.0.1" in line and "no subscription was made" in line
    assert count(session_factory) == 0


# --- credentials redacted in every listing ------------------------------------------------

SECRETS = ("Hunter2Pass", "T0KEN5ecretSeg9", "QueryTok42", "ApPass77", "HdrKey55")
WEBHOOK = (
    "https://hookuser:Hunter2Pass@93.184.216.34/in/T0KEN5ecretSeg9?token=QueryTok42&format=json"
)
APPRISE = "json://apuser:ApPass77@127.0.0.1:9/notify?+X-Api-Key=HdrKey55"


class Failing:
    """A channel whose error quotes the whole target (as some libraries' errors do)."""

    def send(self, recipient: Recipient, message: Message) -> None:
        raise DeliveryError(f"POST {recipient.target} failed: {recipient.target!r}")


def no_secret(text: str) -> bool:
    return not any(secret in text for secret in SECRETS)


@pytest.mark.usefixtures("fake_parser")
def test_credentials_are_redacted_in_every_listing_and_log(
    env, capsys, caplog, client, session_factory
):
    for channel, target in (("webhook", WEBHOOK), ("apprise", APPRISE)):
        answer = client.post(
            "/api/subscriptions", headers=AUTH, json={"channel": channel, "target": target}
        )
        assert answer.status_code == 201, answer.text
        assert no_secret(answer.text)
    parties = [member(f"State {i}", None, consent=f"2020-01-{i + 1:02d}") for i in range(28)]
    ingest_page(session_factory, page(status(*parties), "2020-02-01"))
    austria = member("Austria", "AUT", consent="2020-01-30")
    ingest_page(session_factory, page(status(*parties, austria), "2020-03-01"))
    with caplog.at_level(logging.DEBUG):
        report = dispatch_due(
            session_factory, {"webhook": Failing(), "apprise": Failing()}, now=lambda: NOW
        )
    assert report.retried == 2
    assert no_secret("\n".join(r.getMessage() for r in caplog.records))

    shown = [
        client.get("/api/subscriptions", headers=AUTH).text,
        client.get("/api/deliveries", headers=AUTH).text,
    ]
    for argv in (
        ["subscriptions"],
        ["subscriptions", "--json"],
        ["deliveries"],
        ["deliveries", "--json"],
    ):
        assert main(argv) == 0
        shown.append(capsys.readouterr().out)
    for text in shown:
        assert no_secret(text), text
    listed = {r["channel"]: r["target"] for r in json.loads(shown[2 + 1])}
    assert listed == {
        "webhook": redact_target("webhook", WEBHOOK),
        "apprise": redact_target("apprise", APPRISE),
    }
    assert listed["webhook"] == "https://hookuser:***@93.184.216.34/in/***?token=***&format=json"
    assert listed["apprise"].startswith("json://apuser:***@127.0.0.1:9/notify")
    errors = [d["last_error"] for d in json.loads(shown[-1])]
    assert len(errors) == 2 and all("failed" in e for e in errors)
    # Stored whole: it is needed to send.
    with session_factory() as session:
        assert set(session.scalars(select(Subscription.target))) == {WEBHOOK, APPRISE}
        assert session.scalar(select(func.count(Delivery.id))) == 2
