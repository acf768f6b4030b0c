"""Webhooks against a real HTTP receiver on loopback: signed raw body, headers, status handling,
timeouts, no redirects, and the SSRF guard (private targets refused unless allow-listed)."""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tracker.alerts import webhook
from tracker.alerts.channels import DeliveryError, Message, Recipient
from tracker.alerts.webhook import WebhookChannel, body_bytes, check_target, sign, verify
from tracker.settings import ConfigError, Settings

LOOPBACK = ["127.0.0.0/8", "::1/128"]
Hooks = Callable[..., WebhookChannel]
SECRET = "whsec-3f9a"
PAYLOAD = {
    "treaty": "XXVI-9",
    "kind": "threshold_crossed",
    "counts": {"parties": 50, "before": 49},
    "state": "Côte d’Ivoire",
}


@dataclass
class Receiver:
    """A real HTTP server: keeps every request, answers `status` after `delay` seconds."""

    port: int = 0
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    clients: set[tuple[str, int]] = field(default_factory=set)  # client (address, port) seen

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        disable_nagle_algorithm = True  # else each answer waits ~40 ms for a delayed ACK

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append((self.path, dict(self.headers.items()), body))
            state.clients.add(self.client_address)
            time.sleep(state.delay)
            self.send_response(state.status)
            for name, value in state.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            try:
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:  # the client gave up (timeout tests): nothing to answer
                self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    """Makes channels (loopback allow-listed unless told) and closes them after the test."""
    made: list[WebhookChannel] = []

    def make(allowlist: list[str] = LOOPBACK, **kw: Any) -> WebhookChannel:
        made.append(WebhookChannel(allowlist=allowlist, **kw))
        return made[-1]

    yield make
    for channel in made:
        channel.close()


def message(key: str = "dlv-0001-abc") -> Message:
    return Message(subject="s", text="t", payload=PAYLOAD, idempotency_key=key)


def recipient(url: str, secret: str | None = SECRET) -> Recipient:
    return Recipient(id=7, channel="webhook", target=url, secret=secret)


def test_signed_body_and_headers_arrive(receiver: Receiver, hooks: Hooks) -> None:
    channel = hooks()
    channel.send(recipient(receiver.url()), message("dlv-42"))
    [(path, headers, body)] = receiver.requests
    assert path == "/hook"
    assert body == body_bytes(PAYLOAD)  # the bytes received are the bytes signed
    assert (
        body
        == json.dumps(PAYLOAD, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert json.loads(body) == PAYLOAD and "Côte d’Ivoire".encode() in body
    assert headers["X-Tracker-Signature"] == sign(SECRET, body)
    assert verify(SECRET, body, headers["X-Tracker-Signature"])
    assert not verify("another-secret", body, headers["X-Tracker-Signature"])
    assert not verify(SECRET, body + b" ", headers["X-Tracker-Signature"])
    assert not verify(SECRET, body, None) and not verify(SECRET, body, "sha256=é")
    assert headers["Content-Type"] == "application/json"
    assert headers["Idempotency-Key"] == headers["X-Tracker-Delivery"] == "dlv-42"
    assert headers["User-Agent"].startswith("treaty-tracker/")


def test_many_sends_reuse_a_connection(receiver: Receiver, hooks: Hooks) -> None:
    channel = hooks()
    for i in range(50):
        channel.send(recipient(receiver.url(f"/hook/{i}")), message(f"dlv-{i}"))
    assert len(receiver.requests) == 50
    assert len(receiver.clients) == 1  # one kept-alive connection


def test_host_is_resolved_once_and_the_checked_address_is_used(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, hooks: Hooks
) -> None:
    """The request goes to the address that passed the check, with the name as Host."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def fake(host: str, *args: object, **kw: object) -> list:
        asked.append(host)
        return real("127.0.0.1" if host == "hooks.example.test" else host, *args, **kw)

    monkeypatch.setattr(webhook.socket, "getaddrinfo", fake)
    channel = hooks(["127.0.0.1/32"])
    channel.send(recipient(receiver.url(host="hooks.example.test")), message())
    assert asked.count("hooks.example.test") == 1  # checked once, then the address is used
    assert receiver.requests[0][1]["Host"] == f"hooks.example.test:{receiver.port}"


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (503, True), (408, True), (429, True), (404, False), (400, False), (410, False)],
)
def test_status_decides_retry(
    receiver: Receiver, status: int, retryable: bool, hooks: Hooks
) -> None:
    receiver.status = status
    with pytest.raises(DeliveryError) as failed:
        hooks().send(recipient(receiver.url()), message())
    assert failed.value.retryable is retryable
    assert str(status) in failed.value.reason
    assert len(receiver.requests) == 1


def test_2xx_other_than_200_is_sent(receiver: Receiver, hooks: Hooks) -> None:
    receiver.status = 204
    hooks().send(recipient(receiver.url()), message())
    assert len(receiver.requests) == 1


def test_redirect_is_not_followed(receiver: Receiver, hooks: Hooks) -> None:
    receiver.status, receiver.headers = 302, {"Location": receiver.url("/elsewhere")}
    with pytest.raises(DeliveryError) as failed:
        hooks().send(recipient(receiver.url()), message())
    assert failed.value.retryable is False
    assert [path for path, _, _ in receiver.requests] == ["/hook"]


def test_timeout_is_retryable(receiver: Receiver, hooks: Hooks) -> None:
    receiver.delay = 1.0
    started = time.monotonic()
    with pytest.raises(DeliveryError) as failed:
        hooks(timeout=0.2).send(recipient(receiver.url()), message())
    assert failed.value.retryable is True and "timed out" in failed.value.reason
    assert time.monotonic() - started < 0.9


def test_connection_refused_is_retryable(hooks: Hooks) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DeliveryError) as failed:
        hooks().send(recipient(f"http://127.0.0.1:{port}/"), message())
    assert failed.value.retryable is True


def test_no_secret_is_not_sent(receiver: Receiver, hooks: Hooks) -> None:
    with pytest.raises(DeliveryError) as failed:
        hooks().send(recipient(receiver.url(), secret=None), message())
    assert failed.value.retryable is False and receiver.requests == []


def test_loopback_refused_without_allowlist(receiver: Receiver, hooks: Hooks) -> None:
    for host in ("127.0.0.1", "localhost"):
        with pytest.raises(DeliveryError) as failed:
            hooks([]).send(recipient(receiver.url(host=host)), message())
        assert failed.value.retryable is False
        assert "loopback" in failed.value.reason
    assert receiver.requests == []  # refused before connecting


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.8.9.10:8080/",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/",
        "http://10.1.2.3/",
        "http://172.16.0.5/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://[fd00::1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://100.64.0.1/",
    ],
)
def test_check_target_refuses_non_public(url: str) -> None:
    with pytest.raises(ValueError, match="TRACKER_WEBHOOK_ALLOWLIST"):
        check_target(url)


@pytest.mark.parametrize(
    "url", ["ftp://93.184.216.34/", "file:///etc/passwd", "not a url", "http:///path", ""]
)
def test_check_target_refuses_other_schemes_and_junk(url: str) -> None:
    with pytest.raises(ValueError, match="webhook URL"):
        check_target(url)


def test_check_target_public_and_allowlisted() -> None:
    assert check_target("https://93.184.216.34/hook") == [ipaddress.ip_address("93.184.216.34")]
    assert check_target("http://[2606:4700::1111]:8443/x") == [
        ipaddress.ip_address("2606:4700::1111")
    ]
    assert check_target("http://10.1.2.3/", ["10.0.0.0/8"]) == [ipaddress.ip_address("10.1.2.3")]
    with pytest.raises(ValueError, match="private"):
        check_target("http://10.1.2.3/", ["192.168.0.0/16"])


def test_check_target_unresolvable_host() -> None:
    with pytest.raises(ValueError, match="does not resolve"):
        check_target("https://no-such-host.invalid/hook")


def test_allowlist_setting() -> None:
    assert Settings.from_env({}).webhook_allowlist == ()
    settings = Settings.from_env({"TRACKER_WEBHOOK_ALLOWLIST": " 10.0.0.0/8, ::1 ,127.0.0.1/8"})
    assert settings.webhook_allowlist == ("10.0.0.0/8", "::1/128", "127.0.0.0/8")
    assert Settings.from_env(settings.to_env()) == settings
    check_target("http://10.9.9.9/", settings.webhook_allowlist)
    with pytest.raises(ConfigError, match="TRACKER_WEBHOOK_ALLOWLIST"):
        Settings.from_env({"TRACKER_WEBHOOK_ALLOWLIST": "10.0.0.0/33"})
