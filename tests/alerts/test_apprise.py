"""Apprise through its JSON notifier (json://) against a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tracker.alerts.apprise_channel import AppriseChannel, check_apprise_url
from tracker.alerts.channels import DeliveryError, Message, Recipient

pytestmark = pytest.mark.filterwarnings("ignore:.imghdr. is deprecated:DeprecationWarning")

LOOPBACK = ("127.0.0.0/8",)  # the receivers here are on loopback: allow-listed
MESSAGE = Message(
    subject="TPNW: entry into force on 22 January 2021",
    text="Honduras became the 50th party on 24 October 2020.",
    payload={},
    idempotency_key="dlv-9",
)


class Receiver:
    """Keeps every POST body; answers `status`."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, bytes]] = []
        self.status = 200
        self.port = 0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state.bodies.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


def to(url: str) -> Recipient:
    return Recipient(id=1, channel="apprise", target=url)


def test_json_notifier_delivers(receiver: Receiver) -> None:
    url = f"json://127.0.0.1:{receiver.port}/notify"
    check_apprise_url(url, LOOPBACK)
    AppriseChannel(LOOPBACK).send(to(url), MESSAGE)
    [(path, body)] = receiver.bodies
    assert path == "/notify"
    sent = json.loads(body)
    assert sent["title"] == MESSAGE.subject
    assert sent["message"] == MESSAGE.text


def test_receiver_error_is_retryable(receiver: Receiver) -> None:
    receiver.status = 500
    with pytest.raises(DeliveryError) as failed:
        AppriseChannel(LOOPBACK).send(to(f"json://127.0.0.1:{receiver.port}/"), MESSAGE)
    assert failed.value.retryable is True
    assert len(receiver.bodies) == 1


def test_unreachable_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DeliveryError) as failed:
        AppriseChannel(LOOPBACK).send(to(f"json://127.0.0.1:{port}/"), MESSAGE)
    assert failed.value.retryable is True


@pytest.mark.parametrize("url", ["nope://x", "not a url", "", "   ", "https//missing-colon"])
def test_bad_url_refused(url: str) -> None:
    with pytest.raises(ValueError, match="Apprise URL"):
        check_apprise_url(url)
    with pytest.raises(DeliveryError) as failed:
        AppriseChannel(LOOPBACK).send(to(url), MESSAGE)
    assert failed.value.retryable is False


def test_known_service_forms_are_accepted() -> None:
    check_apprise_url("json://93.184.216.34/path")  # a public address (nothing is sent)
    check_apprise_url("ntfy://93.184.216.34/treaty-alerts")
    check_apprise_url("ntfy://treaty-alerts")  # ntfy.sh, the public service: no host named
    check_apprise_url("tgram://123456789:abcdefg_hijklmnop/12315544/")
