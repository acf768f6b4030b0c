"""Webhooks: a signed JSON POST, refused for non-public targets unless allow-listed (SSRF)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import httpx

from tracker.alerts.channels import Begin, DeliveryError, Message, Recipient, failure_of

USER_AGENT = "treaty-tracker/0.1 (alerts; webhook)"
SIGNATURE_HEADER = "X-Tracker-Signature"
DELIVERY_HEADER = "X-Tracker-Delivery"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_RETRY_STATUSES = frozenset({408, 429})
MAX_RESPONSE = 64 * 1024  # bytes of a receiver's answer read; the rest is dropped
DEFAULT_CONCURRENCY = 8  # requests of a batch in flight at once (send_many)


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The one serialization that is signed and sent: compact, sorted keys, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def sign(secret: str, body: bytes) -> str:
    """The `X-Tracker-Signature` value: `sha256=<hex HMAC-SHA256(secret, body)>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """For receivers: does `header` sign exactly `body` with `secret`? (constant time)"""
    expected = sign(secret, body).encode()
    return hmac.compare_digest(expected, (header or "").strip().encode("utf-8", "replace"))


def networks(items: Iterable[str | Network]) -> list[Network]:
    """Allow-list entries (CIDR strings or networks) as networks."""
    return [ipaddress.ip_network(str(item).strip(), strict=False) for item in items]


def _split(url: str) -> httpx.URL:
    """Parse `url`, refusing anything but http(s) with a host (ValueError)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"webhook URL {url!r} is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise ValueError(f"webhook URL {url!r} must be http:// or https://")
    if not parsed.host:
        raise ValueError(f"webhook URL {url!r} has no host")
    return parsed


def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (an IP literal is itself), sorted; OSError if none."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
    if not found:
        raise OSError(f"{host} has no address")
    return sorted(found, key=lambda a: (a.version, int(a)))


def _resolve(parsed: httpx.URL) -> list[IPAddress]:
    """Every address the URL's host resolves to; OSError if none."""
    try:
        return [ipaddress.ip_address(parsed.host)]
    except ValueError:
        pass
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return resolve_host(parsed.raw_host.decode("ascii"), port)


def _forbidden(addr: IPAddress) -> str | None:
    """Why `addr` is not a public unicast address, or None if it is."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    for kind in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
        if getattr(addr, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if addr.is_global else "non-public"


def refusal(
    host: str, addrs: list[IPAddress], allow: list[Network], what: str = "webhook"
) -> str | None:
    """Why a connection to `host` (resolved to `addrs`) is refused, or None if allowed: every
    address must be public, or inside an allow-listed network."""
    for addr in addrs:
        kind = _forbidden(addr)
        if kind and not any(addr in net for net in allow):
            return (
                f"{what} host {host} resolves to {kind} address {addr}; refused "
                "(add its network to TRACKER_WEBHOOK_ALLOWLIST to allow it)"
            )
    return None


def _refusal(parsed: httpx.URL, addrs: list[IPAddress], allow: list[Network]) -> str | None:
    return refusal(parsed.host, addrs, allow)


def check_target(url: str, allowlist: Iterable[str | Network] = ()) -> list[IPAddress]:
    """Subscribe-time check: an http(s) URL whose every address is public or allow-listed.

    Returns the addresses; raises ValueError with the reason otherwise."""
    parsed = _split(url)
    try:
        addrs = _resolve(parsed)
    except OSError as exc:
        raise ValueError(f"webhook host {parsed.host} does not resolve: {exc}") from None
    reason = _refusal(parsed, addrs, networks(allowlist))
    if reason:
        raise ValueError(reason)
    return addrs


class WebhookChannel:
    """POSTs `message.payload`, signed with the recipient's secret, to the recipient's URL.

    The host is resolved and checked on every send, and the request goes to the checked address
    (Host header and TLS server name kept), so a DNS answer cannot change between check and use.

    `send_many` sends a batch concurrently: at most `concurrency` requests at once, from a pool
    of threads kept across batches, through the channel's one pooled client (its connections
    kept alive across batches).
    """

    def __init__(
        self,
        allowlist: Iterable[str | Network] = (),
        timeout: float = 10,
        client: httpx.Client | None = None,
        user_agent: str = USER_AGENT,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self.allowlist = networks(allowlist)
        self.user_agent = user_agent
        self.concurrency = max(1, concurrency)
        self._own = client is None
        limits = httpx.Limits(
            max_connections=self.concurrency, max_keepalive_connections=self.concurrency
        )
        self.client = client or httpx.Client(
            timeout=timeout, follow_redirects=False, trust_env=False, limits=limits
        )
        self._pool: ThreadPoolExecutor | None = None
        self._start = threading.Lock()

    def send(self, recipient: Recipient, message: Message) -> None:
        if not recipient.secret:
            raise DeliveryError("webhook subscription has no signing secret", retryable=False)
        try:
            parsed = _split(recipient.target)
            body = body_bytes(message.payload)
        except (ValueError, TypeError) as exc:
            raise DeliveryError(str(exc), retryable=False) from None
        try:
            addrs = _resolve(parsed)
        except OSError as exc:
            raise DeliveryError(f"cannot resolve {parsed.host}: {exc}") from None
        reason = _refusal(parsed, addrs, self.allowlist)
        if reason:
            raise DeliveryError(reason, retryable=False)
        headers = httpx.Headers(message.headers)  # extra headers; ours below replace any same name
        headers.update(
            {
                "Host": parsed.netloc.decode("ascii"),
                "Content-Type": "application/json",
                "User-Agent": self.user_agent,
                SIGNATURE_HEADER: sign(recipient.secret, body),
                "Idempotency-Key": message.idempotency_key,
                DELIVERY_HEADER: message.idempotency_key,
            }
        )
        request = self.client.build_request(
            "POST",
            parsed.copy_with(host=str(addrs[0])),
            content=body,
            headers=headers,
            extensions={"sni_hostname": parsed.raw_host.decode("ascii")},
        )
        try:
            response = self.client.send(request, stream=True, follow_redirects=False)
            try:  # read (up to a cap, unparsed) so that the connection can be reused
                read = 0
                for chunk in response.iter_raw():
                    read += len(chunk)
                    if read > MAX_RESPONSE:
                        break
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"webhook timed out: {type(exc).__name__}") from None
        except httpx.TransportError as exc:
            raise DeliveryError(f"webhook connection failed: {exc or type(exc).__name__}") from None
        status = response.status_code
        if 200 <= status < 300:
            return
        retryable = status in _RETRY_STATUSES or status >= 500
        raise DeliveryError(f"webhook answered HTTP {status}", retryable=retryable)

    def send_many(
        self,
        items: list[tuple[Recipient, Message]],
        done: Callable[[int, Exception | None], None] | None = None,
        begin: Begin | None = None,
    ) -> list[Exception | None]:
        """Send each (recipient, message) as `send` does, at most `concurrency` at once, all
        through this channel's one pooled client; per item, None (sent) or the exception its
        send raised (a DeliveryError, or a bug), in the items' order. `done(index, result)` is
        called in this thread as each one ends, in the order they end.

        `begin(indexes)` is called, in this thread, just before those items are handed over,
        only when as many senders are free to take them at once: it returns the ones to send
        (the others are not sent; their entry is None and `done` is not called for them). So
        whatever `begin` counts is in flight at once, never waiting in a queue."""
        results: list[Exception | None] = [None] * len(items)
        start = begin or (lambda indexes: indexes)
        if self.concurrency == 1 or len(items) < 2:
            for i, (r, m) in enumerate(items):
                if start([i]):
                    results[i] = failure_of(self.send, r, m)
                    if done is not None:
                        done(i, results[i])
            return results
        with self._start:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="webhook")
            pool = self._pool
        waiting = deque(range(len(items)))
        running: dict[Future[Exception | None], int] = {}
        try:
            while waiting or running:
                free = min(self.concurrency - len(running), len(waiting))
                if free:
                    for i in start([waiting.popleft() for _ in range(free)]):
                        running[pool.submit(failure_of, self.send, *items[i])] = i
                    if not running:
                        continue
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    i = running.pop(future)
                    results[i] = future.result()
                    if done is not None:
                        done(i, results[i])
        finally:
            for future in running:
                future.cancel()  # a crash here: what has not started is not sent
        return results

    def close(self) -> None:
        """Close the HTTP clients if this channel made them."""
        with self._start:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        if self._own:
            self.client.close()
