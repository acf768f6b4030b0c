"""Subscribers' signed links through the real app: confirm (a GET shows a button and changes
nothing; the POST activates), RFC 8058 one-click unsubscribe (one POST, idempotent), the manage
page; bad, tampered, wrong-purpose, expired tokens are 400 pages, unknown ids 404, no key 503."""

from __future__ import annotations

import re
import time
import types
from datetime import UTC, datetime

import itsdangerous.timed
import pytest
from fastapi.testclient import TestClient

from db.models import Subscription
from tracker.alerts import subscriptions
from tracker.alerts.links import DAY, MAX_AGE, links_for, make_token, read_token
from tracker.web.app import create_app

pytestmark = pytest.mark.db

KEY = "test-secret-key-" + "x" * 32
PUBLIC = "https://tracker.example"
ONE_CLICK = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def configured(settings):
    return settings.replace(secret_key=KEY, public_url=PUBLIC, smtp_url="smtp://127.0.0.1:1")


@pytest.fixture
def client(session_factory, configured):
    with TestClient(create_app(session_factory, configured)) as c:
        yield c


def new_email(session_factory, configured, **kw) -> int:
    """A pending email subscription, made by the real `create` (no email is sent here)."""
    with session_factory.begin() as session:
        sub = subscriptions.create(
            session,
            configured,
            channel="email",
            target=kw.pop("target", "ana@example.org"),
            treaties=kw.pop("treaties", ["XXVI-9"]),
            kinds=kw.pop("kinds", ["threshold_crossed"]),
            now=datetime(2026, 2, 1, tzinfo=UTC),
            **kw,
        )
        return sub.id


def row(session_factory, sub_id: int) -> Subscription:
    with session_factory() as session:
        found = session.get(Subscription, sub_id)
        assert found is not None
        return found


def path(url: str) -> str:
    assert url.startswith(PUBLIC + "/subscriptions/")
    return url[len(PUBLIC) :]


def links(sub_id: int) -> dict[str, str]:
    return {k: path(v) for k, v in links_for(PUBLIC, KEY, sub_id).items()}


def test_confirm_get_shows_a_button_and_changes_nothing_post_activates(
    client, session_factory, configured
):
    sub_id = new_email(session_factory, configured)
    url = links(sub_id)["confirm_url"]
    for _ in range(2):  # a mail scanner prefetching the link, then the person
        page = client.get(url)
        assert page.status_code == 200
        assert re.search(
            r'<form method="post">\s*<button type="submit">Confirm</button>', page.text
        )
        assert "ana@example.org" in page.text and "XXVI-9" in page.text
        assert "threshold crossed" in page.text
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "no-referrer"
    pending = row(session_factory, sub_id)
    assert (pending.state, pending.confirmed_at) == ("pending", None)

    done = client.post(url)
    assert done.status_code == 200
    assert "Subscription confirmed" in done.text
    assert "treaties XXVI-9; all countries; events threshold crossed" in done.text
    active = row(session_factory, sub_id)
    assert active.state == "active" and active.confirmed_at is not None

    again = client.post(url)  # a second click changes nothing
    assert again.status_code == 200
    assert row(session_factory, sub_id).confirmed_at == active.confirmed_at
    assert "already confirmed" in client.get(url).text


def test_one_click_unsubscribe_is_one_post_and_idempotent(client, session_factory, configured):
    sub_id = new_email(session_factory, configured)
    urls = links(sub_id)
    assert client.post(urls["confirm_url"]).status_code == 200

    page = client.get(urls["unsubscribe_url"])
    assert page.status_code == 200 and ">Unsubscribe</button>" in page.text
    assert 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert row(session_factory, sub_id).state == "active"  # the GET changed nothing

    # What a mail client sends for List-Unsubscribe-Post (RFC 8058): no cookie, no page.
    first = client.post(
        urls["unsubscribe_url"], content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK
    )
    assert first.status_code == 200 and "Unsubscribed" in first.text
    ended = row(session_factory, sub_id)
    assert ended.state == "unsubscribed" and ended.unsubscribed_at is not None

    second = client.post(
        urls["unsubscribe_url"], content=b"List-Unsubscribe=One-Click", headers=ONE_CLICK
    )
    assert second.status_code == 200
    assert row(session_factory, sub_id).unsubscribed_at == ended.unsubscribed_at
    assert "Already unsubscribed" in client.get(urls["unsubscribe_url"]).text
    # An ended subscription cannot be revived through its old confirm link.
    revived = client.post(urls["confirm_url"])
    assert revived.status_code == 409 and row(session_factory, sub_id).state == "unsubscribed"


def test_a_pending_subscription_can_be_unsubscribed_too(client, session_factory, configured):
    sub_id = new_email(session_factory, configured)
    answer = client.post(links(sub_id)["unsubscribe_url"])  # the page's own form, empty body
    assert answer.status_code == 200
    assert row(session_factory, sub_id).state == "unsubscribed"


def test_manage_page_shows_the_subscription_and_changes_the_digest(
    client, session_factory, configured
):
    sub_id = new_email(session_factory, configured, countries=["aut"])
    urls = links(sub_id)
    page = client.get(urls["manage_url"])
    assert page.status_code == 200
    text = page.text
    assert 'email: <span class="nowrap">ana@example.org</span>' in text
    assert "XXVI-9" in text and "AUT" in text and "threshold crossed" in text
    assert "waiting for confirmation" in text
    assert 'value="immediate" checked' in text
    # The unsubscribe button posts to a valid unsubscribe link of this subscription.
    (action,) = re.findall(r'<form method="post" action="(/subscriptions/unsubscribe/[^"]+)"', text)
    assert read_token(KEY, "unsubscribe", action.rsplit("/", 1)[1]) == sub_id
    assert row(session_factory, sub_id).state == "pending"  # the GET changed nothing

    changed = client.post(urls["manage_url"], content=b"digest=daily", headers=ONE_CLICK)
    assert changed.status_code == 200 and "from now on, one daily digest" in changed.text
    assert row(session_factory, sub_id).digest == "daily"

    bad = client.post(urls["manage_url"], content=b"digest=weekly", headers=ONE_CLICK)
    assert bad.status_code == 422 and row(session_factory, sub_id).digest == "daily"

    assert client.post(action).status_code == 200
    after = client.get(urls["manage_url"])
    assert "ended (unsubscribed)" in after.text and "<button" not in after.text
    refused = client.post(urls["manage_url"], content=b"digest=immediate", headers=ONE_CLICK)
    assert refused.status_code == 409 and row(session_factory, sub_id).digest == "daily"


def tampered(token: str) -> str:
    """The same token with one character of its signature changed (not the last one: its low
    bits are base64 padding, so changing it may leave the signature's bytes as they were)."""
    pos = len(token) - 5
    return token[:pos] + ("A" if token[pos] != "A" else "B") + token[pos + 1 :]


@pytest.mark.parametrize("method", ["get", "post"])
def test_bad_tokens_are_400_and_change_nothing(client, session_factory, configured, method):
    sub_id = new_email(session_factory, configured)
    urls = links(sub_id)
    confirm_token = urls["confirm_url"].rsplit("/", 1)[1]
    unsubscribe_token = urls["unsubscribe_url"].rsplit("/", 1)[1]
    cases = {
        f"/subscriptions/confirm/{tampered(confirm_token)}": "not a valid confirm link",
        f"/subscriptions/confirm/{unsubscribe_token}": "not a valid confirm link",  # purpose
        f"/subscriptions/unsubscribe/{confirm_token}": "not a valid unsubscribe link",
        f"/subscriptions/manage/{unsubscribe_token}": "not a valid manage link",
        "/subscriptions/unsubscribe/garbage": "not a valid unsubscribe link",
        f"/subscriptions/confirm/{make_token('another key', 'confirm', sub_id)}": "not a valid",
    }
    for url, message in cases.items():
        answer = getattr(client, method)(url)
        assert answer.status_code == 400, url
        assert message in answer.text, url
        assert answer.headers["content-type"].startswith("text/html")
    assert row(session_factory, sub_id).state == "pending"


@pytest.mark.parametrize("method", ["get", "post"])
def test_expired_links_say_so(client, session_factory, configured, monkeypatch, method):
    sub_id = new_email(session_factory, configured)
    signed_at = time.time() - MAX_AGE["confirm"] - DAY  # eight days ago: confirm links last 7
    with monkeypatch.context() as past:
        past.setattr(itsdangerous.timed, "time", types.SimpleNamespace(time=lambda: signed_at))
        old_confirm = make_token(KEY, "confirm", sub_id)
        old_manage = make_token(KEY, "manage", sub_id)
        old_unsubscribe = make_token(KEY, "unsubscribe", sub_id)
    confirm = getattr(client, method)(f"/subscriptions/confirm/{old_confirm}")
    assert confirm.status_code == 400
    assert "This confirm link has expired" in confirm.text and "7 days" in confirm.text
    assert "Subscribe again" in confirm.text
    assert row(session_factory, sub_id).state == "pending"
    # An eight-day-old manage or unsubscribe link still works (90 days, a year).
    assert client.get(f"/subscriptions/manage/{old_manage}").status_code == 200
    assert (
        getattr(client, method)(f"/subscriptions/unsubscribe/{old_unsubscribe}").status_code == 200
    )


@pytest.mark.parametrize("purpose", ["confirm", "unsubscribe", "manage"])
def test_unknown_subscription_is_404(client, purpose):
    url = f"/subscriptions/{purpose}/{make_token(KEY, purpose, 424242)}"
    for answer in (client.get(url), client.post(url)):
        assert answer.status_code == 404
        assert "There is no subscription 424242" in answer.text


def test_without_a_secret_key_the_links_are_503(session_factory, configured):
    sub_id = new_email(session_factory, configured)
    urls = links(sub_id)
    app = create_app(session_factory, configured.replace(secret_key=None))
    with TestClient(app) as c:
        for url in urls.values():
            for answer in (c.get(url), c.post(url)):
                assert answer.status_code == 503, url
                assert "TRACKER_SECRET_KEY" in answer.text
    assert row(session_factory, sub_id).state == "pending"


def test_the_links_are_not_in_the_openapi_document(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/subscriptions")]
