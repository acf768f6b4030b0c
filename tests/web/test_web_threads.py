"""The web server's threads (tracker.web.threads): requests' synchronous code runs at most
`TRACKER_WEB_THREADS` at a time, and an e-mail sent from a request runs on threads of its own,
so a mail server that does not answer holds up no other request.

Each test runs the app with its lifespan (`with TestClient(app)`), as uvicorn runs it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from support.two_sources import seed_two_sources

from tracker.alerts import subscriptions
from tracker.settings import ConfigError, Settings
from tracker.web import api
from tracker.web.app import create_app

pytestmark = pytest.mark.db

TOKEN = "threads-admin-token"
NOW = datetime(2026, 2, 4, 9, tzinfo=UTC)


@pytest.fixture
def seeded(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    seed_two_sources(session_factory)  # XXVI-9 among them: what the Follow form asks for
    return session_factory


@pytest.fixture
def mail_ready(settings: Settings) -> Settings:
    return settings.replace(
        secret_key="threads-secret-key-" + "x" * 32,
        smtp_url="smtp://127.0.0.1:1",
        admin_token=TOKEN,
        public_url="https://tracker.example",
    )


def test_the_setting_is_read_and_bounded(settings: Settings) -> None:
    assert Settings.from_env({"TRACKER_DATABASE_URL": settings.database_url}).web_threads == 2
    assert Settings.from_env({"TRACKER_WEB_THREADS": "5"}).web_threads == 5
    for bad in ("0", "65", "many"):
        with pytest.raises(ConfigError, match=r"^TRACKER_WEB_THREADS "):
            Settings.from_env({"TRACKER_WEB_THREADS": bad})


@pytest.mark.parametrize("threads", [1, 2])
def test_at_most_web_threads_requests_are_answered_at_once(
    seeded, settings: Settings, monkeypatch, threads: int
) -> None:
    """Six requests at once, each computed for 0.15 s: never more than `threads` at a time
    (with anyio's default of 40 threads, all six would be)."""
    lock = threading.Lock()
    running = {"now": 0, "peak": 0}

    def slow_answer(session, treaty_id, day, encode) -> bytes:
        with lock:
            running["now"] += 1
            running["peak"] = max(running["peak"], running["now"])
        time.sleep(0.15)
        with lock:
            running["now"] -= 1
        return b"{}"

    monkeypatch.setattr(api, "current_encoded", slow_answer)
    app = create_app(seeded, settings.replace(web_threads=threads), clock=lambda: NOW)
    codes: list[int] = []
    with TestClient(app) as client:
        workers = [
            threading.Thread(
                target=lambda: codes.append(client.get("/api/treaties/XXVI-9").status_code)
            )
            for _ in range(6)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=30)
    assert codes == [200] * 6
    assert running["peak"] == threads


def _stuck_mail_server(monkeypatch) -> tuple[threading.Event, threading.Event]:
    """The opt-in e-mail's send waits until `release` (a mail server that does not answer)."""
    sending, release = threading.Event(), threading.Event()

    def send_opt_in(settings, sub) -> None:
        sending.set()
        release.wait(timeout=20)

    monkeypatch.setattr(subscriptions, "send_opt_in", send_opt_in)
    return sending, release


def _while_its_email_hangs(app, monkeypatch, post: Callable[[TestClient], int]) -> int:
    """`post` made (in a thread) while its e-mail's send hangs: /healthz must answer 200
    within 5 s meanwhile (with 1 web thread). The status `post` got once the send returned."""
    sending, release = _stuck_mail_server(monkeypatch)
    done: list[int] = []
    with TestClient(app) as client:
        poster = threading.Thread(target=lambda: done.append(post(client)))
        poster.start()
        try:
            assert sending.wait(timeout=10), "the e-mail's send never started"
            answer: list[int] = []
            asker = threading.Thread(
                target=lambda: answer.append(client.get("/healthz").status_code)
            )
            asker.start()
            asker.join(timeout=5)
            assert answer == [200], "/healthz did not answer while the e-mail was being sent"
            assert not done  # the request's e-mail is still being sent
        finally:
            release.set()
            poster.join(timeout=30)
    assert len(done) == 1
    return done[0]


def test_an_operator_subscription_whose_email_hangs_holds_up_no_other_request(
    seeded, mail_ready: Settings, monkeypatch
) -> None:
    app = create_app(seeded, mail_ready.replace(web_threads=1), clock=lambda: NOW)

    def subscribe(client: TestClient) -> int:
        return client.post(
            "/api/subscriptions",
            json={"channel": "email", "target": "someone@example.org"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        ).status_code

    assert _while_its_email_hangs(app, monkeypatch, subscribe) == 201


def test_a_follow_request_whose_email_hangs_holds_up_no_other_request(
    seeded, mail_ready: Settings, monkeypatch
) -> None:
    app = create_app(seeded, mail_ready.replace(web_threads=1), clock=lambda: NOW)
    form = urlencode([("email", "reader@example.org"), ("treaty", "XXVI-9")]).encode()

    def follow(client: TestClient) -> int:
        content_type = {"content-type": "application/x-www-form-urlencoded"}
        return client.post("/follow", content=form, headers=content_type).status_code

    assert _while_its_email_hangs(app, monkeypatch, follow) == 200
