"""TPNW replay (Jan 2018, then Feb 2026) with a real webhook receiver on loopback, through the
command line: the threshold-crossed alert arrives exactly once, signed, with its evidence."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from support.own_pages import write_tpnw_replay

from tracker.alerts.webhook import verify
from tracker.cli import main

pytestmark = pytest.mark.db


@pytest.fixture
def tpnw(tmp_path: Path) -> tuple[Path, Path]:
    """TPNW's two pages, Jan 2018 then Feb 2026: the project's own (support.own_pages); the
    real XML and page in tests/conformance/test_replay_*_real.py."""
    return write_tpnw_replay(tmp_path)


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver():
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


@pytest.fixture
def env(monkeypatch, settings):
    monkeypatch.setenv("TRACKER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TRACKER_WEBHOOK_ALLOWLIST", "127.0.0.0/8")


def run(capsys, *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.mark.slow  # the real TPNW page ingested and its alert sent: over 3 s
def test_threshold_crossed_arrives_once_signed(env, capsys, receiver, tpnw):
    first, second = tpnw
    sub = json.loads(
        run(
            capsys,
            "subscribe",
            "--webhook",
            receiver,
            "--treaty",
            "XXVI-9",
            "--event",
            "threshold_crossed",
            "--json",
        )
    )
    other = json.loads(
        run(capsys, "subscribe", "--webhook", receiver, "--country", "AUT", "--json")
    )
    run(capsys, "ingest", "--source", "untc", "--observed-at", "2018-01-15", str(first))
    run(capsys, "ingest", "--source", "untc", str(second))
    assert run(capsys, "dispatch").startswith("dispatch: ")
    assert run(capsys, "dispatch").strip() == "dispatch: 0 claimed, 0 sent, 0 to retry, 0 dead"

    by_sub: dict[int, list[dict]] = {}
    for headers, body in Receiver.received:
        payload = json.loads(body)
        by_sub.setdefault(payload["subscription"], []).append(payload)
        secret = sub["secret"] if payload["subscription"] == sub["id"] else other["secret"]
        assert verify(secret, body, headers["X-Tracker-Signature"])
        assert not verify("wrong", body, headers["X-Tracker-Signature"])
        assert headers["Idempotency-Key"] == payload["delivery"]
    (crossed,) = by_sub[sub["id"]]
    assert crossed["event"]["kind"] == "threshold_crossed"
    assert crossed["event"]["legal_date"] == "2020-10-24"
    assert crossed["entry_into_force"]["computed"] == "2021-01-22"
    assert (
        crossed["counts"]["before"]["parties"] == 3 and crossed["counts"]["after"]["parties"] == 74
    )
    assert crossed["evidence"]["source_url"].endswith("XXVI-9__tpnw.html")
    assert crossed["evidence"]["observed_at"].startswith("2026-02-03")
    # Austria's subscriber hears of Austria only (its ratification of 2018, seen in 2026).
    assert [p["event"]["iso3"] for p in by_sub[other["id"]]] == ["AUT"]


def test_dead_deliveries_are_listed(env, capsys, monkeypatch):
    """A webhook that always refuses, one try allowed: after dispatch, `tracker deliveries
    --state dead` lists it."""
    monkeypatch.setenv("TRACKER_DELIVERY_MAX_ATTEMPTS", "1")
    refused = ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    thread = threading.Thread(target=refused.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{refused.server_address[1]}/hook"
        run(capsys, "subscribe", "--webhook", url)
        _two_snapshots(capsys)
        assert run(capsys, "dispatch").strip() == "dispatch: 1 claimed, 0 sent, 0 to retry, 1 dead"
    finally:
        refused.shutdown()
        refused.server_close()
    (row,) = json.loads(run(capsys, "deliveries", "--state", "dead", "--json"))
    assert (row["event"], row["attempts"], row["last_error"]) == ("consent", 1, row["last_error"])
    assert "404" in row["last_error"]
    assert "dead" in run(capsys, "deliveries")


class _Refuse(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _two_snapshots(capsys) -> None:
    """One consent event through the fake parser (JSON statuses)."""
    import tempfile

    from statuses import body_of, fake_untc, member, status

    with fake_untc(), tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp) / "a.json", Path(tmp) / "b.json"
        first.write_bytes(body_of(status(member("Chile", "CHL", sig="2017-09-20"))))
        second.write_bytes(
            body_of(status(member("Chile", "CHL", sig="2017-09-20", consent="2019-03-01")))
        )
        run(capsys, "ingest", "--source", "untc", "--observed-at", "2019-01-01", str(first))
        run(capsys, "ingest", "--source", "untc", "--observed-at", "2019-04-01", str(second))


class _Busy(_Refuse):
    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(503)
        self.end_headers()


@pytest.mark.parametrize(
    ("attempts", "summary"), [("1", "0 to retry, 1 dead"), ("", "1 to retry, 0 dead")]
)
def test_the_number_of_tries_is_a_setting(env, capsys, monkeypatch, attempts, summary):
    monkeypatch.setenv("TRACKER_DELIVERY_MAX_ATTEMPTS", attempts)
    busy = ThreadingHTTPServer(("127.0.0.1", 0), _Busy)
    thread = threading.Thread(target=busy.serve_forever, daemon=True)
    thread.start()
    try:
        run(capsys, "subscribe", "--webhook", f"http://127.0.0.1:{busy.server_address[1]}/hook")
        _two_snapshots(capsys)
        assert run(capsys, "dispatch").strip().endswith(summary)
    finally:
        busy.shutdown()
        busy.server_close()
