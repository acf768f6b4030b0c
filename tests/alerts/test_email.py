"""Email against a real SMTP server on loopback (aiosmtpd): the message as received, one kept
connection for many sends, reconnection, refused recipients, server down, the opt-in email."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from tracker.alerts.channels import DeliveryError, Message, Recipient
from tracker.alerts.email import EmailChannel, SmtpServer, opt_in_message
from tracker.alerts.links import links_for, read_token
from tracker.settings import ConfigError, Settings

SENDER = "Treaty Tracker <alerts@tracker.example>"
UNSUBSCRIBE = "https://tracker.example/subscriptions/unsubscribe/tok.en"


class Collector:
    """aiosmtpd handler: keeps envelopes and the sessions they came on; refuses some recipients."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.sessions: list[Session] = []
        self.refuse: dict[str, str] = {}  # address -> SMTP reply
        self.logins: list[tuple[bytes, bytes]] = []
        self.data_reply = "250 OK"  # what DATA answers

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        if not any(s is session for s in self.sessions):
            self.sessions.append(session)
        return self.data_reply

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        ok = data.password == b"p@ss:word"
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd replies 535

    def received(self, index: int = -1) -> EmailMessage:
        content = self.envelopes[index].content
        assert isinstance(content, bytes)
        return email.message_from_bytes(content, policy=email.policy.default)  # type: ignore[return-value]


def text_of(msg: EmailMessage) -> str:
    """The text part, with the wire's CRLF line ends as newlines."""
    return str(msg.get_content()).replace("\r\n", "\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(handler: Collector, port: int, **kw: Any) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kw)
    controller.start()
    return controller


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    handler, port = Collector(), free_port()
    controller = start(handler, port)
    yield handler, port
    controller.stop()


@pytest.fixture
def channel(smtp: tuple[Collector, int]) -> Iterator[EmailChannel]:
    sender = EmailChannel(f"smtp://127.0.0.1:{smtp[1]}", SENDER, timeout=5)
    yield sender
    sender.close()


def to(address: str = "ana@example.org") -> Recipient:
    return Recipient(id=3, channel="email", target=address)


def alert(key: str = "dlv-1", unsubscribe: str | None = UNSUBSCRIBE, text: str = "") -> Message:
    return Message(
        subject="TPNW: 50 parties — entry into force on 22 January 2021",
        text=text or "Honduras deposited its instrument of ratification.\nParties: 49 -> 50.\n",
        payload={},
        idempotency_key=key,
        unsubscribe_url=unsubscribe,
        manage_url="https://tracker.example/subscriptions/manage/x",
    )


def test_message_arrives_with_text_and_headers(smtp, channel: EmailChannel) -> None:
    handler, _ = smtp
    channel.send(to(), alert("dlv-0042"))
    [envelope] = handler.envelopes
    assert envelope.mail_from == "alerts@tracker.example"
    assert envelope.rcpt_tos == ["ana@example.org"]
    msg = handler.received()
    assert msg.get_content_type() == "text/plain" and not msg.is_multipart()
    assert text_of(msg) == alert().text
    assert msg["Subject"] == alert().subject  # non-ASCII subject survives encoding
    assert msg["From"] == SENDER and msg["To"] == "ana@example.org"
    assert msg["Date"] and msg["Message-ID"] == "<dlv-0042@tracker.example>"
    assert msg["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Tracker-Delivery"] == "dlv-0042"


def test_a_long_signed_unsubscribe_link_reaches_the_client_as_it_is(smtp, channel) -> None:
    # A real link: about 90 characters, so the header's line is over 78. The standard folding
    # turned such a line into RFC 2047 encoded words (`=?utf-8?q?=3Chttps=3A//...`), which mail
    # clients do not decode in List-Unsubscribe: the one-click unsubscribe did not work. A
    # parsed message hid it (the parser decodes them): the wire's bytes are what is checked.
    links = links_for("https://alerts.tracker.example", "k" * 32, 123456)
    url, key = links["unsubscribe_url"], "digest-" + "0123456789abcdef" * 4
    assert len(f"List-Unsubscribe: <{url}>") > 78
    channel.send(to(), alert(key, unsubscribe=url))
    content = smtp[0].envelopes[-1].content
    assert isinstance(content, bytes)
    head = content.split(b"\r\n\r\n", 1)[0]
    assert f"\r\nList-Unsubscribe: <{url}>\r\n".encode() in head
    assert f"\r\nX-Tracker-Delivery: {key}\r\n".encode() in head
    encoded = [line for line in head.split(b"\r\n") if b"=?" in line]
    assert all(line.startswith(b"Subject: ") for line in encoded)  # its dash: the one such word
    assert max(len(line) for line in head.split(b"\r\n")) <= 998
    assert smtp[0].received()["List-Unsubscribe"] == f"<{url}>"


def test_a_header_that_cannot_be_sent_as_it_is_is_refused_not_encoded(smtp, channel) -> None:
    for url in ("https://bücher.example/u/x", "https://alerts.example/u/" + "x" * 1000):
        with pytest.raises(DeliveryError) as refused:
            channel.send(to(), alert("dlv-9", unsubscribe=url))
        assert "List-Unsubscribe header must be ASCII on one line" in refused.value.reason
        assert not refused.value.retryable
    assert smtp[0].envelopes == []  # nothing went out


SHORTCUT_VALUES = {
    "To": [
        "ana@example.org",
        "Ana.Maria+alerts@Sub.Example.ORG",
        "o'brien!#$%&*/=?^_`{|}~-x@ex-ample.org",
        "a@b",  # a dotless domain
        "x" * 60 + "@example.org",  # its line: 76 characters
        "x" * 61 + "@example.org",  # 77
        "x" * 62 + "@example.org",  # 78: the last to fit
        "x" * 63 + "@example.org",  # 79: folded the standard way
        "x" * 200 + "@example.org",
        "ana@bücher.example",  # not ASCII
        "José@example.org",
        '"quoted local"@example.org',
        "Ana <ana@example.org>",
        "ana@example.org, bob@example.org",
        "ana..double@example.org",
        ".ana@example.org",
        "ana@[192.0.2.1]",
        "ana@example.org ",
        "",
    ],
    "Message-ID": [
        "<dlv-1@tracker.example>",
        "<0123456789abcdef0123456789abcdef@tracker.example.org>",
        "<digest-" + "a" * 40 + "@x.example>",
        "<" + "a" * 58 + "@x.org>",  # its line: 78
        "<" + "a" * 59 + "@x.org>",  # 79
        "<a b@x.org>",
        "<a@x.org",
        "a@x.org",
        "<á@x.org>",
        "<a@x_y.org>",
        "<>",
    ],
}


@pytest.mark.parametrize("name", list(SHORTCUT_VALUES))
def test_the_to_and_message_id_shortcuts_write_what_the_standard_classes_write(name) -> None:
    # The channel keeps a plain address or message id as it is instead of parsing it: every
    # value must come out as the standard SMTP policy writes it, the shortcut's and the others.
    from tracker.alerts.email import POLICY

    shortcut = 0
    for value in SHORTCUT_VALUES[name]:
        for policy, standard in (
            (POLICY, email.policy.SMTP),
            (POLICY.clone(utf8=True), email.policy.SMTP.clone(utf8=True)),
        ):
            try:
                theirs = standard.header_factory(name, value)
            except Exception as failed:  # noqa: BLE001 (the standard parser's own bugs)
                with pytest.raises(type(failed)):
                    policy.header_factory(name, value)
                continue
            ours = policy.header_factory(name, value)
            assert str(ours) == str(theirs), value
            assert ours.defects == theirs.defects or (not ours.defects) == (not theirs.defects)
            try:
                want: bytes | type = standard.fold_binary(name, theirs)
            except Exception as failed:  # noqa: BLE001 (then ours must fail too)
                want = type(failed)
            try:
                got: bytes | type = policy.fold_binary(name, ours)
            except Exception as failed:  # noqa: BLE001
                got = type(failed)
            assert got == want, value
        shortcut += getattr(ours, "_parse_tree", "") is None
    assert shortcut >= 4  # the shortcut was taken, for the plain values


def test_extra_headers_never_replace_ours(smtp, channel: EmailChannel) -> None:
    extra = {"List-Id": "<alerts.tracker.example>", "X-Tracker-Delivery": "forged", "To": "x@y.z"}
    channel.send(to(), dataclasses.replace(alert("dlv-7"), headers=extra))
    msg = smtp[0].received()
    assert msg["List-Id"] == "<alerts.tracker.example>"
    assert msg.get_all("X-Tracker-Delivery") == ["dlv-7"] and msg.get_all("To") == [
        "ana@example.org"
    ]


def test_no_unsubscribe_headers_without_url(smtp, channel: EmailChannel) -> None:
    channel.send(to(), alert(unsubscribe=None))
    msg = smtp[0].received()
    assert msg["List-Unsubscribe"] is None and msg["List-Unsubscribe-Post"] is None


def test_body_is_transparent(smtp, channel: EmailChannel) -> None:
    """Lines starting with a dot, very long lines and non-ASCII text arrive unchanged."""
    text = ".\n. leading dot\n" + "x" * 1200 + "\nCôte d’Ivoire, Türkiye\n"
    channel.send(to(), alert(text=text))
    assert text_of(smtp[0].received()) == text


def test_many_sends_reuse_one_connection(smtp, channel: EmailChannel) -> None:
    handler, _ = smtp
    for i in range(200):
        channel.send(to(f"user{i}@example.org"), alert(f"dlv-{i}"))
    assert len(handler.envelopes) == 200
    assert len(handler.sessions) == 1 and channel.connections == 1
    keys = [handler.received(i)["X-Tracker-Delivery"] for i in range(200)]
    assert keys == [f"dlv-{i}" for i in range(200)]


def test_reconnects_after_the_server_drops_the_connection() -> None:
    first, second, port = Collector(), Collector(), free_port()
    controller = start(first, port)
    channel = EmailChannel(f"smtp://127.0.0.1:{port}", SENDER, timeout=5)
    try:
        channel.send(to(), alert("dlv-a"))
        controller.stop()  # drops the kept connection
        controller = start(second, port)
        channel.send(to(), alert("dlv-b"))
    finally:
        channel.close()
        controller.stop()
    assert channel.connections == 2
    assert [first.received()["X-Tracker-Delivery"], second.received()["X-Tracker-Delivery"]] == [
        "dlv-a",
        "dlv-b",
    ]
    assert len(first.envelopes) == len(second.envelopes) == 1


@pytest.mark.parametrize(
    ("reply", "retryable"),
    [
        ("550 5.1.1 No such user", False),
        ("553 5.1.3 Bad address", False),
        ("450 4.2.1 Try later", True),
    ],
)
def test_refused_recipient(smtp, channel: EmailChannel, reply: str, retryable: bool) -> None:
    handler, _ = smtp
    handler.refuse["gone@example.org"] = reply
    with pytest.raises(DeliveryError) as failed:
        channel.send(to("gone@example.org"), alert())
    assert failed.value.retryable is retryable
    assert reply[:3] in failed.value.reason and "gone@example.org" in failed.value.reason
    channel.send(to(), alert("dlv-next"))  # the connection is still good after RSET
    assert [e.rcpt_tos for e in handler.envelopes] == [["ana@example.org"]]
    assert channel.connections == 1


@pytest.mark.parametrize(
    ("reply", "retryable"), [("554 5.7.1 Rejected as spam", False), ("451 4.3.0 Try later", True)]
)
def test_refused_message(smtp, channel: EmailChannel, reply: str, retryable: bool) -> None:
    handler, _ = smtp
    handler.data_reply = reply
    with pytest.raises(DeliveryError) as failed:
        channel.send(to(), alert())
    assert failed.value.retryable is retryable and reply[:3] in failed.value.reason
    handler.data_reply = "250 OK"
    channel.send(to(), alert("dlv-next"))
    assert channel.connections == 1


def test_server_down_is_retryable() -> None:
    channel = EmailChannel(f"smtp://127.0.0.1:{free_port()}", SENDER, timeout=2)
    with pytest.raises(DeliveryError) as failed:
        channel.send(to(), alert())
    assert failed.value.retryable is True and "cannot connect" in failed.value.reason


@pytest.mark.parametrize("smtputf8", [True, False])
def test_non_ascii_address(smtputf8: bool) -> None:
    handler, port = Collector(), free_port()
    controller = start(handler, port, enable_SMTPUTF8=smtputf8)
    channel = EmailChannel(f"smtp://127.0.0.1:{port}", SENDER, timeout=5)
    try:
        if smtputf8:
            channel.send(to("jürgen@bücher.example"), alert())
        else:
            with pytest.raises(DeliveryError) as failed:
                channel.send(to("jürgen@bücher.example"), alert())
    finally:
        channel.close()
        controller.stop()
    if smtputf8:
        assert handler.envelopes[0].rcpt_tos == ["jürgen@bücher.example"]
        assert handler.received()["To"] == "jürgen@bücher.example"
    else:
        assert failed.value.retryable is False and handler.envelopes == []


def test_header_injection_is_not_retryable(smtp, channel: EmailChannel) -> None:
    with pytest.raises(DeliveryError) as failed:
        channel.send(to("ana@example.org\nBcc: all@example.org"), alert())
    assert failed.value.retryable is False and smtp[0].envelopes == []


def test_login_with_credentials_from_the_url() -> None:
    handler, port = Collector(), free_port()
    controller = start(handler, port, authenticator=handler.authenticate, auth_require_tls=False)
    try:
        good = EmailChannel(f"smtp://robot:p%40ss%3Aword@127.0.0.1:{port}", SENDER, timeout=5)
        good.send(to(), alert())
        good.close()
        bad = EmailChannel(f"smtp://robot:nope@127.0.0.1:{port}", SENDER, timeout=5)
        with pytest.raises(DeliveryError) as failed:
            bad.send(to(), alert())
    finally:
        controller.stop()
    assert handler.logins[0] == (b"robot", b"p@ss:word")
    assert len(handler.envelopes) == 1 and failed.value.retryable is True
    assert "535" in failed.value.reason


def test_opt_in_message(smtp, channel: EmailChannel) -> None:
    links = links_for("https://tracker.example/", "k" * 32, 17)
    covers = "treaty XXVI-9; all countries; events: consent"
    channel.send(to(), opt_in_message(links, covers, key="confirm-17"))
    msg = smtp[0].received()
    assert msg["Subject"] == "Confirm your subscription"
    body = text_of(msg)
    assert links["confirm_url"] in body and covers in body
    token = links["confirm_url"].rsplit("/", 1)[1]
    assert read_token("k" * 32, "confirm", token) == 17
    assert msg["List-Unsubscribe"] == f"<{links['unsubscribe_url']}>"


def test_smtp_url_forms_and_settings() -> None:
    assert SmtpServer.parse("smtp://mail.example") == SmtpServer("smtp", "mail.example", 25)
    assert SmtpServer.parse("smtps://u:p%2Fw@mail.example") == SmtpServer(
        "smtps", "mail.example", 465, "u", "p/w"
    )
    assert SmtpServer.parse("smtp+starttls://mail.example:2525").port == 2525
    assert SmtpServer.parse("smtp+starttls://mail.example").port == 587
    with pytest.raises(ValueError, match="SMTP URL") as bad:
        SmtpServer.parse("http://user:hunter2@mail.example")
    assert "hunter2" not in str(bad.value)
    assert "hunter2" not in repr(SmtpServer.parse("smtp://user:hunter2@mail.example"))
    default = Settings.from_env({})
    assert default.smtp_url is None and default.mail_from == "treaty-tracker@localhost"
    settings = Settings.from_env(
        {"TRACKER_SMTP_URL": "smtp+starttls://u:p@mail.example", "TRACKER_MAIL_FROM": SENDER}
    )
    assert settings.smtp_url == "smtp+starttls://u:p@mail.example" and settings.mail_from == SENDER
    assert Settings.from_env(settings.to_env()) == settings
    with pytest.raises(ConfigError, match="TRACKER_SMTP_URL"):
        Settings.from_env({"TRACKER_SMTP_URL": "mail.example:25"})
