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


# --- the address guard (the webhook's: loopback, private, link-local, reserved refused) -------

REFUSED_FORMS = [
    "json://127.0.0.1:8080/notify",
    "jsons://localhost/notify",
    "xml://10.1.2.3/",
    "form://192.168.1.10/hook",
    "json://[::1]:8080/",
    "json://169.254.169.254/latest",
    "form://100.64.0.1/",
    "xml://0.0.0.0/",
    "mailto://user:pass@example.org?smtp=127.0.0.1",
    "mailtos://user:pass@10.0.0.25:2525/to@example.org",
    "ntfy://127.0.0.1/treaty-alerts",
    "gotify://192.168.0.2/AbCdEfGhIjKlMnO",
    "matrix://user:pass@10.0.0.8/#alerts",
    "mmost://10.0.0.9/3ccdd113474722377935511fc85d3dd4",
    "apprise://127.0.0.1/abc123",
    "hassio://192.168.1.2/accesstoken",
    "rsyslog://127.0.0.1",
]


@pytest.mark.parametrize("url", REFUSED_FORMS)
def test_hosts_the_user_chose_are_refused_unless_allow_listed(url: str) -> None:
    with pytest.raises(ValueError, match=r"refused \(add its network to TRACKER_WEBHOOK_ALLOW"):
        check_apprise_url(url)
    check_apprise_url(
        url,
        [
            "127.0.0.0/8",
            "::1/128",
            "10.0.0.0/8",
            "192.168.0.0/16",
            "169.254.0.0/16",
            "100.64.0.0/10",
            "0.0.0.0/32",
        ],
    )


@pytest.mark.parametrize(
    "url",
    [
        "ntfy://treaty-alerts",  # ntfy.sh
        "tgram://123456789:abcdefg_hijklmnop/12315544/",
        "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general",
        "discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js",
        "json://93.184.216.34/hook",
    ],
)
def test_public_services_and_addresses_pass(url: str) -> None:
    check_apprise_url(url)  # no DNS needed: no host named, or a public address


def test_the_guard_is_checked_again_on_each_send(receiver: Receiver) -> None:
    url = f"json://127.0.0.1:{receiver.port}/notify"
    check_apprise_url(url, LOOPBACK)  # allowed when subscribed ...
    with pytest.raises(DeliveryError, match=r"loopback address 127.0.0.1; refused") as refused:
        AppriseChannel().send(to(url), MESSAGE)  # ... no longer allowed when sending
    assert refused.value.retryable is False
    assert receiver.bodies == []


class _Redirect(BaseHTTPRequestHandler):
    location = ""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(307)
        self.send_header("Location", self.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def redirector(receiver: Receiver) -> Iterator[str]:
    """An allow-listed server on 127.0.0.2 redirecting to the receiver on 127.0.0.1."""
    handler = type("R", (_Redirect,), {"location": f"http://127.0.0.1:{receiver.port}/inside"})
    server = ThreadingHTTPServer(("127.0.0.2", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"json://127.0.0.2:{server.server_address[1]}/out?redirect=yes"
    server.shutdown()
    server.server_close()


def test_a_redirect_is_not_followed_even_when_the_url_asks(
    redirector: str, receiver: Receiver
) -> None:
    check_apprise_url(redirector, ["127.0.0.2/32"])
    with pytest.raises(DeliveryError):
        AppriseChannel(["127.0.0.2/32"]).send(to(redirector), MESSAGE)
    assert receiver.bodies == []


def test_a_connection_the_url_does_not_show_is_checked_too(
    redirector: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under every plugin: were a redirect followed (here: redirects left on), the address it
    leads to is checked when resolved, and refused."""
    from tracker.alerts import apprise_channel

    real = apprise_channel.instantiate

    def redirects_on(url: str):
        instance = real(url)
        instance.redirects = True
        return instance

    monkeypatch.setattr(apprise_channel, "instantiate", redirects_on)
    with pytest.raises(DeliveryError, match=r"127.0.0.1 resolves to loopback address") as refused:
        AppriseChannel(["127.0.0.2/32"]).send(to(redirector), MESSAGE)
    assert refused.value.retryable is False
    assert receiver.bodies == []
    # Outside a send of ours, resolution is untouched.
    assert socket.getaddrinfo("127.0.0.1", 80)


def test_secrets_stay_out_of_errors_and_apprise_logs(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"json://hookuser:Hunter2Secret@127.0.0.1:{port}/path?+X-Token=TokValue99"
    with caplog.at_level("DEBUG"), pytest.raises(DeliveryError) as failed:
        AppriseChannel(LOOPBACK).send(to(url), MESSAGE)
    shown = failed.value.reason + "\n".join(r.getMessage() for r in caplog.records)
    assert caplog.records  # Apprise did log about the failure
    assert "Hunter2Secret" not in shown and "TokValue99" not in shown
