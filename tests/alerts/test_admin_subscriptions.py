"""The operators' subscription API through the real app: bearer token; create (a webhook's
secret once; email pending, its opt-in email sent to a real SMTP server on loopback, or 502 and
nothing kept), list, end; 422 with the reason; the delivery outbox with a dead delivery."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from statuses import member, page, status

from db.models import Delivery, Subscription
from tracker.alerts.channels import DeliveryError, Message, Recipient
from tracker.alerts.dispatch import dispatch_due
from tracker.alerts.links import read_token
from tracker.services.ingest import ingest_page
from tracker.web.app import create_app

pytestmark = pytest.mark.db

TOKEN = "s3cret-operator-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KEY = "k" * 40
HOOK = "http://127.0.0.1:9/hook"  # allow-listed loopback: never called here
NOW = datetime(2020, 3, 10, 12, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mailbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[arg-type]
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def configured(settings, smtp):
    return settings.replace(
        admin_token=TOKEN,
        webhook_allowlist=("127.0.0.0/8",),
        secret_key=KEY,
        public_url="https://tracker.example",
        smtp_url=f"smtp://127.0.0.1:{smtp[1]}",
    )


@pytest.fixture
def client(session_factory, configured) -> Iterator[TestClient]:
    with TestClient(create_app(session_factory, configured)) as c:
        yield c


def count(session_factory) -> int:
    with session_factory() as session:
        return int(session.scalar(select(func.count(Subscription.id))) or 0)


OPERATIONS = [
    ("post", "/api/subscriptions", {"channel": "webhook", "target": HOOK}),
    ("get", "/api/subscriptions", None),
    ("delete", "/api/subscriptions/1", None),
    ("get", "/api/deliveries?state=dead", None),
]


@pytest.mark.parametrize(("method", "url", "body"), OPERATIONS)
def test_the_token_is_required(client, session_factory, method, url, body):
    kw = {"json": body} if body else {}
    missing = client.request(method, url, **kw)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    wrong = client.request(method, url, headers={"Authorization": "Bearer nope"}, **kw)
    assert wrong.status_code == 401
    basic = client.request(method, url, headers={"Authorization": f"Basic {TOKEN}"}, **kw)
    assert basic.status_code == 401
    assert count(session_factory) == 0


@pytest.mark.parametrize(("method", "url", "body"), OPERATIONS)
def test_disabled_without_an_admin_token(session_factory, configured, method, url, body):
    app = create_app(session_factory, configured.replace(admin_token=None))
    with TestClient(app) as c:
        answer = c.request(method, url, headers=AUTH, **({"json": body} if body else {}))
    assert answer.status_code == 403 and "TRACKER_ADMIN_TOKEN" in answer.json()["detail"]
    assert count(session_factory) == 0


def test_create_list_and_end_a_webhook_subscription(client, session_factory):
    made = client.post(
        "/api/subscriptions",
        headers=AUTH,
        json={
            "channel": "webhook",
            "target": HOOK,
            "treaties": ["XXVI-9"],
            "countries": ["aut", "FRA"],
            "kinds": ["consent", "threshold_crossed"],
        },
    )
    assert made.status_code == 201, made.text
    sub = made.json()
    assert sub["state"] == "active" and sub["digest"] == "immediate"
    assert (sub["treaties"], sub["countries"]) == (["XXVI-9"], ["AUT", "FRA"])
    assert len(sub["secret"]) == 64 and int(sub["secret"], 16) >= 0
    with session_factory() as session:
        stored = session.get_one(Subscription, sub["id"])
        assert stored.secret == sub["secret"] and stored.kinds == ["consent", "threshold_crossed"]

    listed = client.get("/api/subscriptions", headers=AUTH)
    assert listed.status_code == 200
    (row,) = listed.json()
    assert row["id"] == sub["id"] and row["target"] == HOOK and "secret" not in row
    assert row["covers"].startswith("treaties XXVI-9; countries AUT, FRA")

    ended = client.delete(f"/api/subscriptions/{sub['id']}", headers=AUTH)
    assert ended.status_code == 200
    assert ended.json()["state"] == "unsubscribed" and ended.json()["unsubscribed_at"]
    again = client.delete(f"/api/subscriptions/{sub['id']}", headers=AUTH)
    assert again.status_code == 200
    assert again.json()["unsubscribed_at"] == ended.json()["unsubscribed_at"]
    assert [r["state"] for r in client.get("/api/subscriptions", headers=AUTH).json()] == [
        "unsubscribed"
    ]
    missing = client.delete("/api/subscriptions/999", headers=AUTH)
    assert missing.status_code == 404 and "no subscription 999" in missing.json()["detail"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"channel": "sms", "target": "+4312345"}, "channel"),
        ({"channel": "email", "target": "not-an-address"}, "not an email address"),
        ({"channel": "webhook", "target": "http://10.1.2.3/hook"}, "refused"),
        ({"channel": "webhook", "target": "ftp://127.0.0.1/x"}, "must be http:// or https://"),
        ({"channel": "apprise", "target": "nosuchservice://x"}, "not an Apprise URL"),
        ({"channel": "webhook", "target": HOOK, "countries": ["AUTX"]}, "bad country 'AUTX'"),
        ({"channel": "webhook", "target": HOOK, "treaties": ["XXVI 9"]}, "bad treaty"),
        ({"channel": "webhook", "target": HOOK, "kinds": ["rumour"]}, "kinds"),
        ({"channel": "webhook", "target": HOOK, "digest": "weekly"}, "digest"),
        ({"channel": "webhook", "target": HOOK, "colour": "red"}, "colour"),
        ({"channel": "email", "target": "a@example.org\nBcc: b@example.org"}, "target"),
        ({"target": HOOK}, "channel"),
    ],
)
def test_bad_subscriptions_are_422_with_the_reason(client, session_factory, smtp, body, reason):
    answer = client.post("/api/subscriptions", headers=AUTH, json=body)
    assert answer.status_code == 422, answer.text
    assert reason in str(answer.json()["detail"])
    assert count(session_factory) == 0 and smtp[0].messages == []


def test_an_email_subscription_is_pending_and_gets_its_opt_in_email(client, smtp):
    made = client.post(
        "/api/subscriptions",
        headers=AUTH,
        json={"channel": "email", "target": "ana@example.org", "kinds": ["threshold_crossed"]},
    )
    assert made.status_code == 201, made.text
    sub = made.json()
    assert sub["state"] == "pending" and "secret" not in sub
    (msg,) = smtp[0].messages
    assert msg["To"] == "ana@example.org" and msg["Subject"] == "Confirm your subscription"
    body = msg.get_content()
    (confirm_url,) = [w for w in body.split() if "/subscriptions/confirm/" in w]
    assert confirm_url.startswith("https://tracker.example/subscriptions/confirm/")
    assert read_token(KEY, "confirm", confirm_url.rsplit("/", 1)[1]) == sub["id"]
    assert "events threshold crossed" in body


def test_when_the_opt_in_email_fails_nothing_is_kept(session_factory, configured, smtp):
    down = configured.replace(smtp_url=f"smtp://127.0.0.1:{free_port()}")  # nobody listens
    with TestClient(create_app(session_factory, down)) as c:
        answer = c.post(
            "/api/subscriptions",
            headers=AUTH,
            json={"channel": "email", "target": "ana@example.org"},
        )
        assert answer.status_code == 502
        assert "confirmation email could not be sent" in answer.json()["detail"]
        assert "no subscription was made" in answer.json()["detail"]
        assert c.get("/api/subscriptions", headers=AUTH).json() == []
    assert count(session_factory) == 0


def test_email_without_a_secret_key_is_unavailable(session_factory, configured, smtp):
    with TestClient(create_app(session_factory, configured.replace(secret_key=None))) as c:
        answer = c.post(
            "/api/subscriptions", headers=AUTH, json={"channel": "email", "target": "a@b.example"}
        )
    assert answer.status_code == 503 and "TRACKER_SECRET_KEY" in answer.json()["detail"]
    assert count(session_factory) == 0 and smtp[0].messages == []


class Refusing:
    """A channel whose receiver refuses everything for good (like an HTTP 410)."""

    def __init__(self) -> None:
        self.calls = 0

    def send(self, recipient: Recipient, message: Message) -> None:
        self.calls += 1
        raise DeliveryError("HTTP 410 Gone", retryable=False)


@pytest.mark.usefixtures("fake_parser")
def test_deliveries_show_the_dead_one(client, session_factory):
    sub = client.post(
        "/api/subscriptions",
        headers=AUTH,
        json={"channel": "webhook", "target": HOOK, "countries": ["AUT"]},
    ).json()
    parties = [member(f"State {i}", None, consent=f"2020-01-{i + 1:02d}") for i in range(28)]
    ingest_page(session_factory, page(status(*parties), "2020-02-01"))
    austria = member("Austria", "AUT", consent="2020-01-30")
    ingest_page(session_factory, page(status(*parties, austria), "2020-03-01"))

    pending = client.get("/api/deliveries", headers=AUTH, params={"state": "pending"}).json()
    assert [(d["state"], d["attempts"]) for d in pending] == [("pending", 0)]

    refusing = Refusing()
    report = dispatch_due(session_factory, {"webhook": refusing}, now=lambda: NOW, max_attempts=1)
    assert (report.claimed, report.dead, refusing.calls) == (1, 1, 1)

    answer = client.get("/api/deliveries", headers=AUTH, params={"state": "dead"})
    assert answer.status_code == 200
    (dead,) = answer.json()
    with session_factory() as session:
        row = session.scalars(select(Delivery)).one()
    assert dead["id"] == row.id and dead["state"] == "dead"
    assert dead["event"]["kind"] == "consent" and dead["event"]["treaty"] == "XXVI-9"
    assert dead["event"]["participant"] == "Austria"
    assert dead["event"]["legal_date"] == "2020-01-30"
    assert dead["subscription"] == {"id": sub["id"], "channel": "webhook", "target": HOOK}
    assert dead["attempts"] == 1
    assert dead["last_error"] == "HTTP 410 Gone (refused; retried all the same)"
    assert dead["idempotency_key"] == row.idempotency_key
    assert dead["sent_at"] is None and dead["due_at"].startswith("2020-03-01")

    for state in ("pending", "sending", "sent"):
        assert client.get("/api/deliveries", headers=AUTH, params={"state": state}).json() == []
    assert [d["id"] for d in client.get("/api/deliveries", headers=AUTH).json()] == [row.id]


@pytest.mark.parametrize(
    "params", [{"state": "lost"}, {"limit": 0}, {"limit": 1001}, {"limit": "many"}]
)
def test_bad_delivery_queries_are_422(client, params):
    answer = client.get("/api/deliveries", headers=AUTH, params=params)
    assert answer.status_code == 422
    assert next(iter(params)) in str(answer.json()["detail"])


def test_the_operations_are_documented(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/api/subscriptions"]) == {"get", "post"}
    post = paths["/api/subscriptions"]["post"]["responses"]
    assert {"201", "401", "403", "422", "502", "503"} <= set(post)
    assert set(paths["/api/subscriptions/{subscription_id}"]) == {"delete"}
    assert "404" in paths["/api/subscriptions/{subscription_id}"]["delete"]["responses"]
    assert set(paths["/api/deliveries"]) == {"get"}
