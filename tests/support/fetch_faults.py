"""Fetch faults for crawl tests: answers a `tracker.devtools.mirror.MirrorServer` can give instead of its
recorded page (`server.respond(target, responder)`), a loopback TCP proxy that can be cut (a
database outage without stopping the database server), and running `tracker crawl --json`."""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from support.untc_render import Page, Row, render
from tracker.sources.untc.urls import status_page_url

Handler = BaseHTTPRequestHandler


def target(treaty: str) -> str:
    """The status page's path and query on any mirror."""
    url = status_page_url("http://x", treaty)
    return url[len("http://x") :]


def status_body(treaty: str, *extra: str) -> bytes:
    """A valid status page of `treaty` (chapter XXVI) with Austria, plus `extra` signatories."""
    rows = [Row("Austria", signature=date(2017, 9, 20), consent=date(2018, 5, 8))]
    rows += [Row(name, signature=date(2019, 1, 2)) for name in extra]
    return render(Page(treaty, f"Treaty {treaty}", rows))


def send(
    handler: Handler,
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    ctype: str = "text/html; charset=utf-8",
) -> bool:
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    if status != 304:
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if status != 304 and body:
        handler.wfile.write(body)
    return True


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


@dataclass
class Seen:
    """What a responder was asked: each request's time and conditional headers."""

    requests: list[dict[str, Any]] = field(default_factory=list)

    def note(self, handler: Handler) -> None:
        self.requests.append(
            {
                "at": time.monotonic(),
                "path": handler.path,
                "if_none_match": handler.headers.get("If-None-Match"),
                "if_modified_since": handler.headers.get("If-Modified-Since"),
            }
        )


def redirect(
    location: str, status: int = 302, seen: Seen | None = None
) -> Callable[[Handler], bool]:
    def answer(handler: Handler) -> bool:
        if seen is not None:
            seen.note(handler)
        return send(handler, status, b"", {"Location": location})

    return answer


def hang(seconds: float) -> Callable[[Handler], bool]:
    """Accept the request, then say nothing for `seconds` (longer than the download timeout)."""

    def answer(handler: Handler) -> bool:
        time.sleep(seconds)
        with contextlib.suppress(OSError):
            send(handler, 200, b"too late")
        return True

    return answer


def reset_mid_body(body: bytes) -> Callable[[Handler], bool]:
    """Promise the whole body, send a tenth of it, then reset the connection (TCP RST)."""

    def answer(handler: Handler) -> bool:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[: len(body) // 10])
        handler.wfile.flush()
        sock = handler.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        handler.close_connection = True
        return True

    return answer


class Validating:
    """A page served with validators the way a server chooses: `etag` and/or `last_modified`,
    answering 304 to a matching If-None-Match or a not-older If-Modified-Since. Its `body` can
    change between crawls; `bad_304` makes it answer 304 with its *current* ETag to any
    If-None-Match (a confused server)."""

    def __init__(self, body: bytes, *, etag: bool = True, last_modified: bool = True) -> None:
        self.seen = Seen()
        self.use_etag, self.use_last_modified = etag, last_modified
        self.bad_304 = False
        self.set(body)

    def set(self, body: bytes, *, etag: str | None = None) -> None:
        self.body = body
        self.etag = etag or etag_of(body)
        # one second later than the previous version at least: Last-Modified has 1 s resolution
        previous = getattr(self, "modified", 0.0)
        self.modified = max(float(int(time.time())) - 100, previous + 1)

    def headers(self) -> dict[str, str]:
        out = {}
        if self.use_etag:
            out["ETag"] = self.etag
        if self.use_last_modified:
            out["Last-Modified"] = email.utils.formatdate(self.modified, usegmt=True)
        return out

    def __call__(self, handler: Handler) -> bool:
        self.seen.note(handler)
        inm = handler.headers.get("If-None-Match")
        ims = handler.headers.get("If-Modified-Since")
        if inm is not None and self.use_etag:
            if inm == self.etag or self.bad_304:
                return send(handler, 304, b"", self.headers())
        elif ims is not None and self.use_last_modified:
            since = email.utils.parsedate_to_datetime(ims).timestamp()
            if self.modified <= since:
                return send(handler, 304, b"", self.headers())
        return send(handler, 200, self.body, self.headers())


class InTurn:
    """Answer with each responder in turn (the last one repeats)."""

    def __init__(self, *answers: Callable[[Handler], bool]) -> None:
        self.answers = list(answers)
        self.seen = Seen()

    def __call__(self, handler: Handler) -> bool:
        self.seen.note(handler)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer(handler)


@dataclass
class CrawlResult:
    returncode: int
    summary: dict[str, Any]
    stderr: str
    seconds: float

    def problem(self, page_part: str) -> dict[str, Any]:
        """The one listed problem whose page URL contains `page_part`."""
        found = [p for p in self.summary.get("problems", []) if page_part in p["page"]]
        assert len(found) == 1, (page_part, self.summary.get("problems"))
        return found[0]

    def assert_balanced(self) -> None:
        s = self.summary
        assert s["balanced"] is True, s
        assert s["asked"] == s["accepted"] + s["unchanged"] + s["quarantined"] + s["failed"], s
        for kind, c in s["by_kind"].items():
            assert c["asked"] == c["accepted"] + c["unchanged"] + c["quarantined"] + c["failed"], (
                kind
            )


def tracker(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracker.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def crawl(env: dict[str, str], base_url: str, *treaties: str, **extra_env: str) -> CrawlResult:
    """`tracker crawl --json` (the catalogue, or these treaties); its exit status and summary."""
    args = ["crawl", "--source", "untc", "--json", "--base-url", base_url]
    for treaty in treaties:
        args += ["--treaty", treaty]
    started = time.monotonic()
    done = tracker({**env, **extra_env}, *args)
    seconds = time.monotonic() - started
    try:
        summary = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"no JSON summary: {done.stdout}\n{done.stderr}") from None
    return CrawlResult(done.returncode, summary, done.stderr, seconds)


def crawl_env(cli_env: dict[str, str], data_dir: Path, **extra: str) -> dict[str, str]:
    """Fast, test-sized crawl settings: no delay, no retries, short timeouts."""
    return {
        **cli_env,
        "TRACKER_DATA_DIR": str(data_dir),
        "TRACKER_DOWNLOAD_DELAY": "0",
        "TRACKER_RETRY_TIMES": "0",
        "TRACKER_DOWNLOAD_TIMEOUT": "2",
        "TRACKER_LOG_LEVEL": "WARNING",
        "TRACKER_CRAWL_TIMEOUT": "120",
        **extra,
    }
