"""Alerts about a WIPO treaty, end to end on loopback: a webhook receiver and an SMTP server get
the consent event of a later Marrakesh page (Austria ratified), named by its public id
WIPO-843 in the subject, the text and the link, which the dashboard answers (200). The webhook
payload keeps the source and the source's own id beside the public id. Subscriptions filter on
public ids (typed in any case); a bare WIPO id names no WIPO treaty."""

from __future__ import annotations

import email
import email.policy
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from support.alert_receivers import WebhookReceiver, webhook_receiver
from support.two_sources import AUSTRIA_RATIFIED, austria_ratifies_marrakesh, seed_two_sources

from db.models import Delivery, Event, Treaty
from tracker.alerts import subscriptions
from tracker.alerts.job import dispatch_once
from tracker.alerts.outbox import delivery_rows
from tracker.services.answer_cache import ANSWERS
from tracker.settings import Settings
from tracker.web.app import create_app

pytestmark = pytest.mark.db

PUBLIC = "http://testserver"  # the TestClient's base: the alert's link is fetched as sent
NOW = datetime(2026, 2, 11, 13, tzinfo=UTC)


class Inbox:
    """aiosmtpd handler keeping every message."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as found:
        yield found


@pytest.fixture
def alerting(settings: Settings, smtp: tuple[Inbox, int]) -> Settings:
    return settings.replace(
        public_url=PUBLIC,
        webhook_allowlist=("127.0.0.0/8",),
        smtp_url=f"smtp://127.0.0.1:{smtp[1]}",
        secret_key="s" * 40,
    )


def subscribe(
    session_factory: sessionmaker[Session], settings: Settings, channel: str, target: str, *ids
) -> int:
    with session_factory.begin() as session:
        sub = subscriptions.create(
            session, settings, channel=channel, target=target, treaties=ids, now=NOW
        )
        subscriptions.confirm(session, sub.id, NOW)  # email: as if its link was followed
        return sub.id


def test_a_wipo_event_is_alerted_by_its_public_id_and_its_link_resolves(
    session_factory, alerting, receiver, smtp
):
    seed_two_sources(session_factory)
    hook = subscribe(session_factory, alerting, "webhook", receiver.url(), "wipo-843")
    mail = subscribe(session_factory, alerting, "email", "ana@example.org", "WIPO-843")
    untc_only = subscribe(session_factory, alerting, "webhook", receiver.url("/untc"), "XXVI-9")
    bare = subscribe(session_factory, alerting, "webhook", receiver.url("/bare"), "843")
    with session_factory() as session:
        stored = {s.id: s.treaties for s in subscriptions.every(session)}
    assert stored[hook] == ["WIPO-843"]  # the prefix as the source spells it

    austria_ratifies_marrakesh(session_factory, "2026-02-11")
    with session_factory() as session:
        marrakesh = session.scalars(select(Treaty).where(Treaty.external_id == "843")).one()
        (consent,) = session.scalars(
            select(Event).where(Event.treaty_id == marrakesh.id, Event.kind == "consent")
        )
        delivered = list(session.scalars(select(Delivery)))
        targets = {d.subscription_id for d in delivered if d.event_id == consent.id}
    assert (consent.participant_name, consent.legal_date) == ("Austria", AUSTRIA_RATIFIED)
    assert targets == {hook, mail}  # not the UNTC one, not the bare "843"
    assert {untc_only, bare}.isdisjoint(targets)

    report = dispatch_once(alerting)
    assert report.sent == 2, report.summary()

    # The webhook: the public id, and the source with its own id beside it.
    ((path, body),) = [(r.path, json.loads(r.body)) for r in receiver.snapshot()]
    assert path == "/hook"
    treaty = body["treaty"]
    assert treaty == {
        "id": "WIPO-843",
        "source": "wipo",
        "external_id": "843",
        "title": "Marrakesh VIP Treaty",
        "url": f"{PUBLIC}/treaties/WIPO-843",
    }
    assert body["event"]["kind"] == "consent" and body["event"]["iso3"] == "AUT"
    assert body["counts"] == {
        "before": {"signatories": 3, "parties": 3},
        "after": {"signatories": 3, "parties": 4},
    }
    assert set(body) == {
        "event", "treaty", "counts", "remaining", "entry_into_force", "deciding_deposits",
        "evidence", "delivery", "subscription", "forecast",
    }  # fmt: skip
    assert body["forecast"] is None  # only an approaching event carries one
    assert body["evidence"]["source_url"].startswith("https://www.wipo.int/wipolex/")

    # The e-mail: the subject and the text name WIPO-843, the link is the treaty page's.
    inbox, _ = smtp
    (message,) = inbox.messages
    assert message["Subject"] == "WIPO-843: Austria became a party (ratification)"
    text = str(message.get_body(("plain",)).get_content())
    assert "Marrakesh VIP Treaty (WIPO-843)" in text
    link = next(w for w in text.split() if w.startswith(f"{PUBLIC}/treaties/"))
    assert link == treaty["url"]

    ANSWERS.clear()
    client = TestClient(create_app(session_factory, alerting, clock=lambda: NOW))
    page = client.get(link)
    assert page.status_code == 200 and "Marrakesh VIP Treaty" in page.text
    assert "Austria" in page.text

    # The operators' outbox names the treaty by its public id, and filters by source.
    with session_factory() as session:
        wipo_rows = delivery_rows(session, source="wipo")
        untc_rows = delivery_rows(session, source="untc")
    assert {(r["event"]["treaty"], r["event"]["source"]) for r in wipo_rows} == {
        ("WIPO-843", "wipo")
    }
    assert untc_rows == []
