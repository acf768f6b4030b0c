"""Subscribers' signed links: round trip, purpose, tampering, expiry, no key, settings."""

from __future__ import annotations

import time

import itsdangerous
import pytest

from tracker.alerts.links import (
    DAY,
    MAX_AGE,
    PURPOSES,
    BadLink,
    NoSecretKey,
    links_for,
    make_token,
    read_token,
    require_secret,
)
from tracker.settings import Settings

KEY = "a-long-random-secret-key-for-tests"


@pytest.mark.parametrize("purpose", PURPOSES)
def test_round_trip(purpose: str) -> None:
    token = make_token(KEY, purpose, 4711)
    assert read_token(KEY, purpose, token) == 4711
    assert "/" not in token and "+" not in token  # URL-safe


@pytest.mark.parametrize(
    ("made", "read"), [("unsubscribe", "confirm"), ("manage", "unsubscribe"), ("confirm", "manage")]
)
def test_token_for_one_purpose_fails_for_another(made: str, read: str) -> None:
    with pytest.raises(BadLink, match=f"not a valid {read} link"):
        read_token(KEY, read, make_token(KEY, made, 1))


def test_tampered_and_foreign_tokens_are_refused() -> None:
    token = make_token(KEY, "confirm", 12)
    payload, _, rest = token.partition(".")
    forged = (
        make_token(KEY, "confirm", 13).partition(".")[0] + "." + rest
    )  # other id, old signature
    flipped = token[:-10] + ("A" if token[-10] != "A" else "B") + token[-9:]
    for bad in (forged, flipped, token + "x", "", "garbage", payload):
        with pytest.raises(BadLink):
            read_token(KEY, "confirm", bad)
    with pytest.raises(BadLink):
        read_token("another-key", "confirm", token)


def test_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    eight_days_ago = int(time.time()) - 8 * DAY
    with monkeypatch.context() as m:
        m.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: eight_days_ago)
        token = make_token(KEY, "confirm", 5)
    assert MAX_AGE["confirm"] == 7 * DAY
    with pytest.raises(BadLink, match="expired") as failed:
        read_token(KEY, "confirm", token)
    assert failed.value.expired is True
    assert read_token(KEY, "confirm", token, max_age=9 * DAY) == 5
    fresh = make_token(KEY, "confirm", 5)
    with pytest.raises(BadLink, match="expired"):
        read_token(KEY, "confirm", fresh, max_age=-1)


def test_payload_must_be_a_subscription_id() -> None:
    """A token signed with our key and salt but carrying something else is still refused."""
    other = itsdangerous.URLSafeTimedSerializer(KEY, salt="tracker.alerts.manage").dumps("12")
    assert read_token(KEY, "manage", make_token(KEY, "manage", 12)) == 12
    with pytest.raises(BadLink):
        read_token(KEY, "manage", str(other))


def test_missing_secret_is_refused_with_a_clear_message() -> None:
    for secret in (None, ""):
        with pytest.raises(NoSecretKey, match="TRACKER_SECRET_KEY is not set"):
            make_token(secret, "confirm", 1)
        with pytest.raises(NoSecretKey):
            read_token(secret, "confirm", "anything")
        with pytest.raises(NoSecretKey):
            links_for("http://127.0.0.1:8000", secret, 1)
        with pytest.raises(NoSecretKey):
            require_secret(secret)
    assert require_secret(KEY) == KEY


def test_unknown_purpose() -> None:
    with pytest.raises(ValueError, match="unknown link purpose"):
        make_token(KEY, "delete", 1)


def test_links_for() -> None:
    links = links_for("https://alerts.example.org/tracker/", KEY, 31)
    assert set(links) == {"confirm_url", "unsubscribe_url", "manage_url"}
    for purpose in PURPOSES:
        url = links[f"{purpose}_url"]
        prefix = f"https://alerts.example.org/tracker/subscriptions/{purpose}/"
        assert url.startswith(prefix)
        assert read_token(KEY, purpose, url.removeprefix(prefix)) == 31


def test_settings() -> None:
    default = Settings.from_env({})
    assert default.secret_key is None and default.public_url == "http://127.0.0.1:8000"
    assert "TRACKER_SECRET_KEY" not in default.to_env()
    settings = Settings.from_env(
        {"TRACKER_SECRET_KEY": KEY, "TRACKER_PUBLIC_URL": "https://alerts.example.org/"}
    )
    assert settings.secret_key == KEY and settings.public_url == "https://alerts.example.org"
    assert Settings.from_env(settings.to_env()) == settings
    with pytest.raises(ValueError, match="TRACKER_PUBLIC_URL"):
        Settings.from_env({"TRACKER_PUBLIC_URL": "alerts.example.org"})
