"""Email over SMTP: one kept-open connection, plain text, RFC 8058 one-click unsubscribe; a
batch sent on it with the next messages rendered meanwhile (`send_many`)."""

from __future__ import annotations

import contextlib
import email.policy
import functools
import re
import smtplib
import ssl
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from email.headerregistry import (
    Address,
    Group,
    HeaderRegistry,
    MessageIDHeader,
    UniqueAddressHeader,
    UnstructuredHeader,
)
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

from tracker.alerts.channels import Begin, DeliveryError, Message, Recipient, failure_of
from tracker.alerts.links import DAY, MAX_AGE

PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


def one_address(text: str) -> str:
    """`text` as one email address, normalized; ValueError (the reason) for anything else: a
    list, a display name, a trailing newline, a quoted local part, an IP literal, a special-use
    domain. Syntax only: no DNS (check_deliverability off)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return str(validate_email(text, check_deliverability=False).normalized)
    except EmailNotValidError as bad:
        raise ValueError(str(bad)) from None


# RFC 5322's limit on a line, CRLF excluded.
MAX_LINE = 998
# Headers whose value a mail client reads as it is, never decoding RFC 2047 encoded words in
# it: the one-click unsubscribe link (RFC 2369, 8058) and the delivery key receivers deduplicate
# on.
VERBATIM = ("list-unsubscribe", "x-tracker-delivery")


class _Verbatim(UnstructuredHeader):
    """A header written on one line as it is. The standard folding turns a value that cannot be
    folded within 78 characters (a URL has no space to fold at) into encoded words
    (`=?utf-8?q?=3Chttps=3A//...`), which clients do not decode in these headers: a signed
    unsubscribe link, about 90 characters, would reach them unusable. A value that is not ASCII
    or would make a line longer than RFC 5322 allows is refused (ValueError), never encoded."""

    def fold(self, *, policy: Any) -> str:
        line = f"{self.name}: {self}"
        if not line.isascii() or len(line) > MAX_LINE:
            raise ValueError(
                f"the {self.name} header must be ASCII on one line of at most {MAX_LINE} "
                f"characters (it is {len(line)}): it cannot be folded or encoded"
            )
        return line + policy.linesep


# Parsing an address or a message id is most of the cost of a message's headers, each message
# its own: To and Message-ID take a shortcut for the plain values the channel writes there. A
# bare ASCII address (dot-atoms) or <id@domain> whose line fits in 78 characters is written by
# the standard folding as it is; such a value is kept as it is, unparsed, and written so (the
# same bytes: tests/alerts/test_email.py compares both over many values). Any other value is
# parsed and folded as the standard classes do.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOMAIN = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_PLAIN_ADDRESS = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@({_DOMAIN})")
_PLAIN_ID = re.compile(rf"<[A-Za-z0-9._-]+@{_DOMAIN}>")
_FOLD_AT = 78


class _KeptAsIs:
    """A header kept unparsed (no parse tree) is written as it is; any other is folded as
    its standard class folds it."""

    def fold(self, *, policy: Any) -> str:
        if self._parse_tree is None:  # type: ignore[attr-defined]
            return f"{self.name}: {self}{policy.linesep}"  # type: ignore[attr-defined]
        return str(super().fold(policy=policy))  # type: ignore[misc]


class _PlainTo(_KeptAsIs, UniqueAddressHeader):
    """To: see above."""

    @classmethod
    def parse(cls, value: Any, kwds: dict[str, Any]) -> None:
        plain = _PLAIN_ADDRESS.fullmatch(value) if isinstance(value, str) else None
        if plain is None or len("To: ") + len(value) > _FOLD_AT:
            super().parse(value, kwds)
            return
        kwds["groups"] = [Group(None, [Address(username=plain[1], domain=plain[2])])]
        kwds["decoded"], kwds["parse_tree"] = value, None


class _PlainMessageId(_KeptAsIs, MessageIDHeader):
    """Message-ID: see above."""

    @classmethod
    def parse(cls, value: Any, kwds: dict[str, Any]) -> None:
        if (
            not isinstance(value, str)
            or _PLAIN_ID.fullmatch(value) is None
            or len("Message-ID: ") + len(value) > _FOLD_AT
        ):
            super().parse(value, kwds)
            return
        kwds["decoded"], kwds["parse_tree"] = value, None


class _Headers(HeaderRegistry):
    """The standard registry, making each header class once (rendering gets ~1.5x faster),
    writing the VERBATIM headers as they are, and To and Message-ID's plain values unparsed."""

    def __init__(self) -> None:
        super().__init__()
        for name in VERBATIM:
            self.map_to_type(name, _Verbatim)
        self.map_to_type("to", _PlainTo)
        self.map_to_type("message-id", _PlainMessageId)

    @functools.cache  # noqa: B019 (one registry for the process)
    def __getitem__(self, name: str) -> type:
        return super().__getitem__(name)


class _Policy(email.policy.EmailPolicy):
    """The SMTP policy, remembering the headers it parsed and folded last: the messages of a
    batch repeat most of theirs (From, Subject, the MIME headers, the Date of one second), and
    parsing and folding a header is most of rendering a message. The same value gives the same
    (immutable) header object and the same folded bytes as without the memory."""

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if self is not POLICY or type(value) is not str:
            return super().header_store_parse(name, value)
        return _parsed(name, value)

    def fold_binary(self, name: str, value: Any) -> bytes:
        if self is not POLICY:  # e.g. its SMTPUTF8 clone: as it always was
            return super().fold_binary(name, value)
        key = (name, id(value))
        found = _FOLDED.get(key)
        if found is not None and found[0] is value:
            return found[1]
        folded = super().fold_binary(name, value)
        if len(_FOLDED) >= _MEMORY:
            _FOLDED.clear()
        _FOLDED[key] = (value, folded)  # `value` kept: its id cannot be reused meanwhile
        return folded


_MEMORY = 4096
_FOLDED: dict[tuple[str, int], tuple[Any, bytes]] = {}


@functools.lru_cache(maxsize=_MEMORY)
def _parsed(name: str, value: str) -> tuple[str, Any]:
    return email.policy.EmailPolicy.header_store_parse(POLICY, name, value)


POLICY = _Policy(linesep="\r\n", header_factory=_Headers())  # email.policy.SMTP, remembering


@dataclass(frozen=True)
class SmtpServer:
    """`TRACKER_SMTP_URL` taken apart."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        """`smtp://user:pass@host:port`, `smtp+starttls://...`, `smtps://...`; else ValueError."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in PORTS or not parts.hostname:
            raise ValueError("SMTP URL must be smtp://, smtps:// or smtp+starttls://host[:port]")
        user, password = (unquote(v) if v else None for v in (parts.username, parts.password))
        return cls(scheme, parts.hostname, parts.port or PORTS[scheme], user, password)


class EmailChannel:
    """Sends each message on one SMTP connection kept open across sends (thread-safe)."""

    def __init__(self, smtp_url: str, sender: str, timeout: float = 30) -> None:
        self.server = SmtpServer.parse(smtp_url)
        self.sender = sender
        self.envelope_from = parseaddr(sender)[1] or sender
        self.domain = self.envelope_from.rpartition("@")[2] or "localhost"
        self.timeout = timeout
        self._conn: smtplib.SMTP | None = None
        self._lock = threading.Lock()
        self._start = threading.Lock()
        self._sender: ThreadPoolExecutor | None = None
        self.connections = 0  # connections opened so far

    def render(self, recipient: Recipient, message: Message) -> EmailMessage:
        """The message as sent: text part, delivery and unsubscribe headers."""
        msg = EmailMessage(policy=POLICY)
        key = re.sub(r"[^A-Za-z0-9._-]", "-", message.idempotency_key)
        msg["Subject"] = message.subject
        msg["From"] = self.sender
        msg["To"] = recipient.target
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = f"<{key}@{self.domain}>"  # the same on every retry
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Tracker-Delivery"] = message.idempotency_key
        if message.unsubscribe_url:
            msg["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        for name, value in message.headers.items():  # extra headers, never replacing ours
            if name not in msg:
                msg[name] = value
        msg.set_content(message.text, cte="quoted-printable")
        return msg

    def send(self, recipient: Recipient, message: Message) -> None:
        data, utf8 = self._build(recipient, message)
        self._transmit(recipient.target, data, utf8)

    def send_many(
        self,
        items: list[tuple[Recipient, Message]],
        done: Callable[[int, Exception | None], None] | None = None,
        begin: Begin | None = None,
    ) -> list[Exception | None]:
        """Send each (recipient, message) as `send` does, one after the other on the one kept
        connection (a sender thread): each message is rendered while the one before it is on
        the connection, so rendering overlaps the server's answers; no thread renders ahead
        (one rendering the whole batch competed for the interpreter with the thread counting
        the tries, whose transactions then waited). Per item, None (sent) or the exception
        its send raised, in the items' order; `done(index, result)` is called as each one
        ends. A connection lost between two messages is reopened for the next one; a message
        that failed is that message's failure only.

        `begin([index])` says whether to send that message (if not: its entry is None, and
        `done` is not called for it). It is called for each message while the one before it is
        on the connection (so what it does overlaps the server's answer), never earlier: of the
        messages it was called for, at most one is waiting to be handed over at any time."""
        start = begin or (lambda indexes: indexes)
        if len(items) < 2:
            results: list[Exception | None] = [None] * len(items)
            if items and start([0]):
                results[0] = failure_of(self.send, *items[0])
                if done is not None:
                    done(0, results[0])
            return results
        with self._start:
            if self._sender is None:
                self._sender = ThreadPoolExecutor(1, thread_name_prefix="email-send")
            sender = self._sender
        results: list[Exception | None] = [None] * len(items)
        on_wire: tuple[int, Future[Exception | None]] | None = None

        def landed() -> None:  # the message on the connection: its outcome
            assert on_wire is not None
            j, transmit = on_wire
            results[j] = transmit.result()
            if done is not None:
                done(j, results[j])

        try:
            for i, (recipient, message) in enumerate(items):
                try:
                    data, utf8 = self._build(recipient, message)
                except Exception as failed:  # noqa: BLE001 (the caller tells them apart)
                    unbuilt: Exception | None = failed
                else:
                    unbuilt = None
                if not start([i]):  # while message i - 1 is on the connection
                    continue
                if on_wire is not None:
                    landed()
                    on_wire = None
                if unbuilt is not None:
                    results[i] = unbuilt
                    if done is not None:
                        done(i, unbuilt)
                    continue
                on_wire = (
                    i,
                    sender.submit(failure_of, self._transmit, recipient.target, data, utf8),
                )
            if on_wire is not None:
                landed()
                on_wire = None
        finally:
            if on_wire is not None:  # a crash: let the message on the connection finish
                on_wire[1].exception()
        return results

    def _build(self, recipient: Recipient, message: Message) -> tuple[bytes, bool]:
        """The message's bytes as sent, and whether they need SMTPUTF8."""
        try:
            one_address(recipient.target)  # a row stored before addresses were validated
        except ValueError as bad:
            raise DeliveryError(f"not one email address: {bad}", retryable=False) from None
        try:
            rendered = self.render(recipient, message)
            utf8 = not (recipient.target + self.envelope_from).isascii()
            data = rendered.as_bytes(policy=POLICY.clone(utf8=True) if utf8 else POLICY)
        except (ValueError, TypeError) as exc:
            raise DeliveryError(f"cannot build the message: {exc}", retryable=False) from None
        return data, utf8

    def _transmit(self, to: str, data: bytes, utf8: bool) -> None:
        """MAIL, RCPT and DATA on the kept connection (reopened once if found gone)."""
        with self._lock:
            for attempt in (1, 2):
                conn = self._connection()
                try:
                    self._envelope(conn, to, utf8)
                    break
                except ConnectionError as exc:  # gone before anything was sent: reconnect
                    self._drop()
                    if attempt == 2:
                        raise DeliveryError(f"SMTP connection lost: {exc}") from None
            reply: object
            try:
                code, reply = conn.data(data)
            except smtplib.SMTPDataError as exc:  # DATA itself refused
                code, reply = exc.smtp_code, exc.smtp_error
            except OSError as exc:
                self._drop()
                raise DeliveryError(f"SMTP error while sending: {exc}") from None
            if code != 250:
                self._refused(conn, "message refused", code, reply, code < 500)

    def _envelope(self, conn: smtplib.SMTP, to: str, utf8: bool) -> None:
        """MAIL FROM and RCPT TO; ConnectionError when the kept connection turns out gone."""
        if utf8 and not conn.has_extn("smtputf8"):
            raise DeliveryError("the SMTP server cannot take non-ASCII addresses", retryable=False)
        options = ["SMTPUTF8", "BODY=8BITMIME"] if utf8 else []
        try:
            what, retry = f"sender {self.envelope_from} refused", True
            code, reply = conn.mail(self.envelope_from, options)
            if code == 250:
                what, (code, reply) = f"recipient {to} refused", conn.rcpt(to)
                retry = code < 500
        except OSError as exc:  # SMTPServerDisconnected too
            raise ConnectionError(str(exc) or type(exc).__name__) from None
        if code in (250, 251):
            return
        if code == 421:
            raise ConnectionError(f"server closing: {reply.decode(errors='replace')}")
        self._refused(conn, what, code, reply, retry)

    def _refused(
        self, conn: smtplib.SMTP, what: str, code: int, reply: object, retry: bool
    ) -> NoReturn:
        """Reset the transaction (or drop the connection) and raise the refusal."""
        try:
            conn.rset()
        except OSError:  # SMTPException is an OSError
            self._drop()
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        raise DeliveryError(f"{what}: {code} {text}", retryable=retry)

    def _connection(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        conn: smtplib.SMTP | None = None
        srv, tls = self.server, ssl.create_default_context()
        try:
            if srv.scheme == "smtps":
                conn = smtplib.SMTP_SSL(srv.host, srv.port, timeout=self.timeout, context=tls)
            else:
                conn = smtplib.SMTP(srv.host, srv.port, timeout=self.timeout)
            if srv.scheme == "smtp+starttls":
                conn.starttls(context=tls)  # says EHLO before; again below
            conn.ehlo()
            if srv.username:
                conn.login(srv.username, srv.password or "")
        except OSError as exc:  # SMTPException is an OSError
            if conn is not None:
                conn.close()
            raise DeliveryError(f"cannot connect to SMTP {srv.host}:{srv.port}: {exc}") from None
        self._conn = conn
        self.connections += 1
        return conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """QUIT and close the kept connection, if any."""
        with self._start:
            pool, self._sender = self._sender, None
        if pool is not None:
            pool.shutdown(wait=True)
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                with contextlib.suppress(OSError):
                    conn.quit()
                conn.close()


def opt_in_message(links: Mapping[str, str], covers: str, *, key: str) -> Message:
    """The double opt-in email; `links` from `links_for`, `covers`: the filters in words."""
    text = (
        "Someone, probably you, asked to receive treaty ratification alerts at this address.\n\n"
        f"The subscription covers: {covers}\n\n"
        f"To confirm it, open this link (it works for {MAX_AGE['confirm'] // DAY} days):\n"
        f"{links['confirm_url']}\n\n"
        "If you did not ask for this, ignore this message: nothing will be sent to you.\n"
    )
    payload = {"kind": "confirm", "covers": covers, "confirm_url": links["confirm_url"]}
    unsubscribe, manage = links.get("unsubscribe_url"), links.get("manage_url")
    return Message("Confirm your subscription", text, payload, key, unsubscribe, manage)


def already_message(links: Mapping[str, str], covers: str, *, key: str) -> Message:
    """The answer to a follow request for what this address already follows (active): no new
    subscription, its manage link instead; sent where a confirmation would have been, so the
    form's answer never tells who is subscribed."""
    text = (
        "Someone, probably you, asked to receive treaty ratification alerts at this address.\n\n"
        f"This address already receives them: {covers}\n\n"
        f"To change or end that subscription, open this link:\n{links['manage_url']}\n\n"
        "If you did not ask for this, ignore this message: nothing has changed.\n"
    )
    payload = {"kind": "already_subscribed", "covers": covers, "manage_url": links["manage_url"]}
    unsubscribe, manage = links.get("unsubscribe_url"), links.get("manage_url")
    return Message("You already follow this", text, payload, key, unsubscribe, manage)
