"""Following a treaty or a country without an operator (tracker.web.follow), and the manage
page changing what a subscription follows.

- The treaty and country pages carry a Follow form (address, event kinds in words), shown only
  when the service can send email.
- `POST /follow` is double opt-in: a pending subscription and one confirmation email; the same
  request again sends the confirmation again (no second row); for an active subscription with
  the same filters, a notice with its manage link (no new row).
- The answer never tells which: the same status, headers and page for a new, a pending and an
  active address, and it is sent before anything that depends on the address is looked up.
- Rate limits per address and per client IP: 429 with Retry-After, the same for every address.
- The manage page changes treaties, countries and kinds (an unknown treaty saves nothing).
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from support.two_sources import seed_two_sources

from db.models import Subscription
from tracker.alerts import subscriptions
from tracker.alerts.email import already_message
from tracker.alerts.links import links_for, read_token
from tracker.services.answer_cache import ANSWERS
from tracker.settings import Settings
from tracker.web import follow
from tracker.web.app import create_app
from tracker.web.ratelimit import RateLimit

pytestmark = pytest.mark.db

KEY = "follow-secret-key-" + "x" * 32
PUBLIC = "https://tracker.example"
FORM = {"content-type": "application/x-www-form-urlencoded"}
NOW = datetime(2026, 2, 4, 9, tzinfo=UTC)


@pytest.fixture
def configured(settings: Settings) -> Settings:
    return settings.replace(secret_key=KEY, public_url=PUBLIC, smtp_url="smtp://127.0.0.1:1")


@pytest.fixture
def seeded(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    seed_two_sources(session_factory)
    ANSWERS.clear()
    return session_factory


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, int, str]]:
    """The emails the form's background work sends: (what, subscription id, address)."""
    mails: list[tuple[str, int, str]] = []
    monkeypatch.setattr(
        subscriptions, "send_opt_in", lambda s, sub: mails.append(("confirm", sub.id, sub.target))
    )
    monkeypatch.setattr(
        subscriptions,
        "send_already_following",
        lambda s, sub, now: mails.append(("already", sub.id, sub.target)),
    )
    return mails


@pytest.fixture
def app(seeded, configured):
    return create_app(seeded, configured, clock=lambda: NOW)


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app)


def body(email: str, **fields: Any) -> bytes:
    pairs: list[tuple[str, str]] = [("email", email)]
    for name, value in fields.items():
        for v in value if isinstance(value, list) else [value]:
            pairs.append((name, v))
    return urlencode(pairs).encode()


def ask(client: TestClient, email: str, **fields: Any):
    fields.setdefault("treaty", "XXVI-9")
    return client.post("/follow", content=body(email, **fields), headers=FORM)


def rows(session_factory) -> list[Subscription]:
    with session_factory() as session:
        return list(session.scalars(select(Subscription).order_by(Subscription.id)))


def comparable(answer) -> tuple[int, dict[str, str], str]:
    """Status, headers and page; not the date, nor the length (the address is in the page,
    which is compared whole)."""
    headers = {k: v for k, v in answer.headers.items() if k not in ("date", "content-length")}
    return answer.status_code, headers, answer.text


# --- the form on the pages ------------------------------------------------------------------


def test_the_treaty_and_country_pages_carry_the_follow_form(client):
    treaty = client.get("/treaties/WIPO-843").text
    assert '<form method="post" action="/follow"' in treaty
    assert '<input type="hidden" name="treaty" value="WIPO-843">' in treaty
    assert '<input type="checkbox" name="kind" value="entered_into_force"> entered into force' in (
        treaty
    )
    assert 'name="kind" value="source_unhealthy"' not in treaty  # operators' events
    country = client.get("/countries/AUT").text
    assert '<input type="hidden" name="country" value="AUT">' in country
    assert "Follow this country" in country and "Follow this treaty" in treaty


def test_without_email_the_form_is_not_offered(seeded, settings):
    client = TestClient(create_app(seeded, settings))
    assert 'action="/follow"' not in client.get("/treaties/XXVI-9").text
    answer = ask(client, "ana@example.org")
    assert answer.status_code == 503 and "unavailable" in answer.text


# --- double opt-in, and the same answer for everyone -----------------------------------------


def test_follow_makes_a_pending_subscription_and_sends_one_confirmation(client, seeded, sent):
    answer = ask(client, "Ana@Example.ORG", kind=["consent", "entered_into_force"])
    assert answer.status_code == 200, answer.text
    assert "Check your inbox" in answer.text and "Ana@example.org" in answer.text
    assert "treaty XXVI-9; events: consent, entered into force" in answer.text
    assert answer.headers["cache-control"] == "no-store"
    [sub] = rows(seeded)
    assert (sub.channel, sub.target, sub.state) == ("email", "Ana@example.org", "pending")
    assert (sub.treaties, sub.countries, sub.kinds) == (
        ["XXVI-9"],
        [],
        ["consent", "entered_into_force"],
    )
    assert sent == [("confirm", sub.id, "Ana@example.org")]
    country = ask(client, "bo@example.org", treaty=[], country="aut")
    assert country.status_code == 200
    assert rows(seeded)[-1].countries == ["AUT"] and rows(seeded)[-1].treaties == []


def test_the_answer_never_tells_whether_the_address_is_subscribed(client, seeded, sent):
    new = ask(client, "new@example.org", kind="consent")
    ask(client, "pending@example.org", kind="consent")
    ask(client, "active@example.org", kind="consent")
    with seeded.begin() as session:
        active = session.scalars(
            select(Subscription).where(Subscription.target == "active@example.org")
        ).one()
        subscriptions.confirm(session, active.id, NOW)
        active_id = active.id
    sent.clear()
    answers = {
        "pending": ask(client, "pending@example.org", kind="consent"),
        "active": ask(client, "active@example.org", kind="consent"),
        "other": ask(client, "other@example.org", kind="consent"),
    }
    page = comparable(answers["other"])
    for state, answer in answers.items():
        expected = page[2].replace("other@", f"{state}@")
        assert comparable(answer)[:2] == page[:2], state
        assert answer.text == expected, state
    assert comparable(new)[2] == page[2].replace("other@", "new@")
    # what happened differs, out of the answer: a resent confirmation, a notice, a new one
    kinds = [(what, target) for what, _id, target in sent]
    assert kinds == [
        ("confirm", "pending@example.org"),
        ("already", "active@example.org"),
        ("confirm", "other@example.org"),
    ]
    assert [s.target for s in rows(seeded)].count("pending@example.org") == 1
    assert [s.target for s in rows(seeded)].count("active@example.org") == 1
    assert sent[1][1] == active_id
    # other filters are another subscription (a second treaty), pending until confirmed
    ask(client, "active@example.org", treaty="WIPO-843", kind="consent")
    assert [s.target for s in rows(seeded)].count("active@example.org") == 2


def _post_raw(app, payload: bytes, events: list[str]) -> None:
    """One POST /follow straight through ASGI, noting when the answer's last byte went out."""
    incoming = [{"type": "http.request", "body": payload, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body"):
            events.append("answered")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/follow",
        "raw_path": b"/follow",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(payload)).encode()),
        ],
        "client": ("192.0.2.7", 5000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))


def test_the_answer_goes_out_before_the_address_is_looked_up(app, seeded, sent, monkeypatch):
    """Same timing class: nothing that depends on the address's subscriptions (the lookup, a
    new row, the email) runs before the whole answer is sent, for a new or an active one."""
    events: list[str] = []
    lookup = subscriptions.same_email_subscription

    def noted(*args: Any, **kw: Any) -> Any:
        events.append("looked up")
        return lookup(*args, **kw)

    monkeypatch.setattr(subscriptions, "same_email_subscription", noted)
    _post_raw(app, body("ana@example.org", treaty="XXVI-9"), events)
    with seeded.begin() as session:
        subscriptions.confirm(session, rows(seeded)[0].id, NOW)
    _post_raw(app, body("ana@example.org", treaty="XXVI-9"), events)
    assert events == ["answered", "looked up", "answered", "looked up"]
    assert [what for what, _id, _t in sent] == ["confirm", "already"]


def test_a_failed_confirmation_leaves_no_subscription(client, seeded, monkeypatch):
    from tracker.alerts.channels import DeliveryError

    def refuse(settings: Any, sub: Any) -> None:
        raise DeliveryError("connection refused")

    monkeypatch.setattr(subscriptions, "send_opt_in", refuse)
    answer = ask(client, "ana@example.org")
    assert answer.status_code == 200 and "Check your inbox" in answer.text  # the same answer
    assert rows(seeded) == []  # rolled back


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"email": "not an address"}, "not one email address"),
        ({"email": "a@example.org, b@example.org"}, "not one email address"),
        ({"email": "ana@example.org", "treaty": "XXVI-99"}, "unknown treaty &#39;XXVI-99&#39;"),
        ({"email": "ana@example.org", "treaty": []}, "Name a treaty or a country to follow"),
        ({"email": "ana@example.org", "kind": "source_unhealthy"}, "Unknown event kind"),
        ({"email": "ana@example.org", "country": "A1", "treaty": []}, "Bad country &#39;A1&#39;"),
    ],
)
def test_bad_requests_are_a_422_page_and_make_nothing(client, seeded, sent, fields, says):
    fields = dict(fields)
    email = fields.pop("email")
    answer = ask(client, email, **fields)
    assert answer.status_code == 422, answer.text
    assert says in answer.text, re.findall(r"<p class=\"notice[^>]*>([^<]*)<", answer.text)
    assert rows(seeded) == [] and sent == []


# --- rate limits ----------------------------------------------------------------------------


def test_rate_limited_per_address(client, seeded, sent):
    limit = follow.PER_ADDRESS[0]
    for _ in range(limit):
        assert ask(client, "ana@example.org").status_code == 200
    refused = ask(client, "ANA@example.org")  # the same address, spelled otherwise
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    assert "Too many follow requests" in refused.text
    assert len(sent) == limit  # the refused request sent nothing
    assert ask(client, "bo@example.org").status_code == 200  # another address still can


def test_rate_limited_per_client_ip(app, seeded, sent):
    clock = [0.0]
    app.state.follow_limits = follow.Limits(
        RateLimit(100, 3600), RateLimit(2, 60, clock=lambda: clock[0])
    )
    one = TestClient(app, client=("198.51.100.1", 1000))
    other = TestClient(app, client=("198.51.100.2", 1000))
    assert ask(one, "a@example.org").status_code == 200
    assert ask(one, "not an address").status_code == 422  # every POST counts
    refused = ask(one, "c@example.org")
    assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
    assert ask(other, "d@example.org").status_code == 200
    clock[0] = 61.0  # the window has passed
    assert ask(one, "e@example.org").status_code == 200
    assert [t for _w, _i, t in sent] == ["a@example.org", "d@example.org", "e@example.org"]


def test_the_rate_limit_answer_is_the_same_for_every_address(app, seeded, sent):
    app.state.follow_limits = follow.Limits(RateLimit(1, 3600), RateLimit(100, 3600))
    client = TestClient(app)
    ask(client, "new@example.org")
    ask(client, "known@example.org")
    with seeded.begin() as session:
        subscriptions.confirm(session, rows(seeded)[-1].id, NOW)
    new, known = ask(client, "new@example.org"), ask(client, "known@example.org")
    assert new.status_code == known.status_code == 429
    assert comparable(new) == comparable(known)


def test_rate_limit_window_unit():
    now = [0.0]
    limit = RateLimit(2, 10, clock=lambda: now[0])
    assert limit.hit("k") is None and limit.hit("k") is None
    assert limit.hit("k") == 10
    now[0] = 4.0
    assert limit.hit("k") == 6 and limit.hit("other") is None
    now[0] = 10.0
    assert limit.hit("k") is None  # the first hit left the window


# --- the manage page ------------------------------------------------------------------------


def manage_path(sub_id: int) -> str:
    return links_for(PUBLIC, KEY, sub_id)["manage_url"][len(PUBLIC) :]


def test_the_manage_page_changes_treaties_countries_and_kinds(client, seeded, sent):
    ask(client, "ana@example.org", kind="consent")
    [sub] = rows(seeded)
    url = manage_path(sub.id)
    page = client.get(url).text
    assert 'name="treaties" value="XXVI-9"' in page
    assert '<input type="checkbox" name="kind" value="consent" checked> consent' in page
    assert '<input type="checkbox" name="kind" value="withdrawal"> withdrawal' in page

    fields = [
        ("filters", "1"),
        ("treaties", "XXVI-9, wipo-843"),
        ("countries", "aut fra"),
        ("kind", "signature"),
        ("kind", "entered_into_force"),
    ]
    saved = client.post(url, content=urlencode(fields).encode(), headers=FORM)
    assert saved.status_code == 200, saved.text
    assert "Saved: it now covers treaties WIPO-843, XXVI-9; countries AUT, FRA" in saved.text, (
        re.findall(r"<p class=\"notice[^>]*>([^<]*)<", saved.text)
    )
    [sub] = rows(seeded)
    assert (sub.treaties, sub.countries, sub.kinds) == (
        ["WIPO-843", "XXVI-9"],
        ["AUT", "FRA"],
        ["entered_into_force", "signature"],
    )
    again = client.post(url, content=urlencode(fields).encode(), headers=FORM)
    assert "No change: it already covers" in again.text

    bad = urlencode([("filters", "1"), ("treaties", "XXVI-9, NOPE-1")]).encode()
    refused = client.post(url, content=bad, headers=FORM)
    assert refused.status_code == 422 and "unknown treaty" in refused.text
    assert rows(seeded)[0].treaties == ["WIPO-843", "XXVI-9"]  # nothing saved

    everything = urlencode([("filters", "1"), ("treaties", ""), ("countries", "")]).encode()
    assert client.post(url, content=everything, headers=FORM).status_code == 200
    [sub] = rows(seeded)
    assert (sub.treaties, sub.countries, sub.kinds) == ([], [], [])
    assert sub.digest == "immediate"  # the filters form leaves the delivery mode alone
    digest = client.post(url, content=b"digest=daily", headers=FORM)
    assert digest.status_code == 200 and rows(seeded)[0].digest == "daily"


def test_the_already_following_message_links_to_manage_only():
    links = links_for(PUBLIC, KEY, 7)
    message = already_message(links, "treaties XXVI-9", key="already-7")
    assert links["manage_url"] in message.text and links["confirm_url"] not in message.text
    assert read_token(KEY, "manage", message.manage_url.rsplit("/", 1)[1]) == 7
    assert message.subject == "You already follow this"


def test_the_confirmation_link_of_a_follow_request_activates_it(client, seeded, sent):
    ask(client, "ana@example.org")
    [(_what, sub_id, _target)] = sent
    confirm = links_for(PUBLIC, KEY, sub_id)["confirm_url"][len(PUBLIC) :]
    assert client.post(confirm).status_code == 200
    assert rows(seeded)[0].state == "active"
    with seeded() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 1
    assert re.search(r"already", ask(client, "ana@example.org").text)  # the page's words
    assert [w for w, _i, _t in sent] == ["confirm", "already"]
