"""Rule events the depositary's own page contradicts are held (`disputed`), never sent, until a
later page agrees or an operator confirms them; then each subscriber gets exactly one delivery.

Real receivers on loopback: an HTTP webhook server (tests/support/alert_receivers.py) and an
SMTP server in its own process; the real webhook and email channels send to them.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from statuses import member, page, status
from support.alert_receivers import smtp_process, webhook_receiver

from db.models import Delivery, Event, Subscription, Treaty
from tracker.alerts.dispatch import dispatch_due
from tracker.alerts.email import EmailChannel
from tracker.alerts.webhook import WebhookChannel
from tracker.cli import main
from tracker.services.ingest import ingest_page
from tracker.web.app import create_app

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("fake_parser")]

START = date(2020, 1, 6)
MET = START + timedelta(days=49)  # the 50th instrument (TPNW, XXVI-9: threshold 50)
EIF = MET + timedelta(days=90)
OTHER = EIF + timedelta(days=30)  # another entry-into-force date, as a wrong page would print
RULE_KINDS = ["approaching", "threshold_crossed", "entered_into_force"]


def parties(n: int) -> list:
    return [
        member(f"State {i:03d}", None, consent=(START + timedelta(days=i)).isoformat())
        for i in range(n)
    ]


def at(day: str, hour: int = 12) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC).replace(hour=hour)


def subscribe(session_factory, channel: str, target: str) -> int:
    with session_factory.begin() as session:
        sub = Subscription(
            channel=channel,
            target=target,
            secret="k" if channel == "webhook" else None,
            treaties=[],
            countries=[],
            kinds=RULE_KINDS,
            digest="immediate",
            state="active",
        )
        session.add(sub)
        session.flush()
        return sub.id


def rule_events(session_factory) -> list[Event]:
    with session_factory() as session:
        return list(
            session.scalars(select(Event).where(Event.kind.in_(RULE_KINDS)).order_by(Event.id))
        )


def deliveries(session_factory) -> list[Delivery]:
    with session_factory() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


class Receivers:
    """A webhook server and an SMTP server on loopback, and the channels that reach them."""

    def __init__(self, hook: Any, smtp: Any) -> None:
        self.hook, self.smtp = hook, smtp
        self.channels = {
            "webhook": WebhookChannel(allowlist=["127.0.0.0/8"]),
            "email": EmailChannel(f"smtp://127.0.0.1:{smtp.port}", "tracker@example.org"),
        }

    def dispatch(self, session_factory, when: datetime) -> int:
        return dispatch_due(session_factory, self.channels, now=lambda: when).sent

    def webhook_kinds(self) -> list[str]:
        return [json.loads(r.body)["event"]["kind"] for r in self.hook.snapshot()]

    def mail_count(self) -> int:
        return len(self.smtp.keys())


@pytest.fixture
def receivers(session_factory):
    with webhook_receiver() as hook, smtp_process() as smtp:
        found = Receivers(hook, smtp)
        subscribe(session_factory, "webhook", hook.url("/hook"))
        subscribe(session_factory, "email", "watcher@example.org")
        yield found


def held_crossing(session_factory, receivers: Receivers) -> Event:
    """44 parties; then a page whose table has 50 (the threshold) but that prints another
    entry-into-force date than the rule gives: the crossing is recorded, held, and nothing
    reaches either receiver."""
    ingest_page(session_factory, page(status(*parties(44)), "2020-03-01"))
    ingest_page(
        session_factory, page(status(*parties(50), eif_date=OTHER.isoformat()), "2020-03-02")
    )
    (crossed,) = [e for e in rule_events(session_factory) if e.kind == "threshold_crossed"]
    assert (crossed.state, crossed.legal_date) == ("disputed", MET)
    reason = crossed.details["disputed"]["reason"]
    assert reason == f"computed {EIF.isoformat()}, the depositary prints {OTHER.isoformat()}"
    assert crossed.details["entry_into_force"]["agrees"] is False
    assert not [d for d in deliveries(session_factory) if d.event_id == crossed.id]
    for hour in (13, 18):
        receivers.dispatch(session_factory, at("2020-03-02", hour))
    assert receivers.hook.count() == 0 and receivers.mail_count() == 0
    return crossed


def test_held_until_the_depositary_agrees_then_exactly_one_delivery_each(
    session_factory, receivers
):
    crossed = held_crossing(session_factory, receivers)
    # the same contradicting page again, and a daily evaluation: still held, still nothing sent
    ingest_page(
        session_factory, page(status(*parties(50), eif_date=OTHER.isoformat()), "2020-03-03")
    )
    receivers.dispatch(session_factory, at("2020-03-03", 13))
    assert receivers.hook.count() == 0 and receivers.mail_count() == 0

    agreeing = status(*parties(50), eif_date=EIF.isoformat())
    ingest_page(session_factory, page(agreeing, "2020-03-04"))
    (event,) = [e for e in rule_events(session_factory) if e.id == crossed.id]
    assert event.state == "final"
    assert event.details["settled"]["by"] == "evaluation"
    assert receivers.dispatch(session_factory, at("2020-03-04", 13)) == 2
    assert receivers.webhook_kinds() == ["threshold_crossed"]
    assert receivers.mail_count() == 1

    # more agreeing pages and dispatch runs: nothing more, ever
    ingest_page(session_factory, page(agreeing, "2020-03-05"))
    for day in ("2020-03-05", "2020-03-06"):
        receivers.dispatch(session_factory, at(day, 13))
    assert receivers.webhook_kinds() == ["threshold_crossed"]
    assert receivers.mail_count() == 1
    assert len([d for d in deliveries(session_factory) if d.event_id == crossed.id]) == 2


def test_an_operator_confirms_it_from_the_command_line_then_exactly_one_delivery_each(
    session_factory, receivers, settings, monkeypatch, capsys
):
    crossed = held_crossing(session_factory, receivers)
    monkeypatch.setenv("TRACKER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TRACKER_DATA_DIR", str(settings.data_dir))
    assert main(["confirm", "XXVI-9", "threshold_crossed"]) == 2  # no --reason, no --met-on
    assert "--reason" in capsys.readouterr().err
    assert main(["confirm", "XXVI-9", "entered_into_force", "--reason", "x"]) == 2
    assert "no disputed entered_into_force event" in capsys.readouterr().err
    assert receivers.hook.count() == 0 and receivers.mail_count() == 0

    why = "C.N.123.2020.TREATIES-XXVI.9 gives 2020-05-24; the page is late"
    code = main(["confirm", "XXVI-9", "threshold_crossed", "--reason", why, "--by", "ops-ana"])
    out = capsys.readouterr().out
    assert code == 0 and "threshold crossed" in out and "2 deliveries" in out
    (event,) = [e for e in rule_events(session_factory) if e.id == crossed.id]
    assert event.state == "final"
    assert event.details["settled"] | {"at": None} == {
        "by": "operator",
        "operator": "ops-ana",
        "reason": why,
        "at": None,
    }
    later = datetime.now(UTC) + timedelta(minutes=1)  # confirmed now: due now
    assert receivers.dispatch(session_factory, later) == 2
    # confirmed again: nothing is held any more; a later agreeing page sends nothing more
    assert main(["confirm", "XXVI-9", "--reason", why]) == 2
    ingest_page(session_factory, page(status(*parties(50), eif_date=EIF.isoformat()), "2020-03-04"))
    receivers.dispatch(session_factory, later + timedelta(days=1))
    assert receivers.webhook_kinds() == ["threshold_crossed"]
    assert receivers.mail_count() == 1
    assert len(set(receivers.smtp.keys())) == 1


def test_an_operator_confirms_it_over_the_api(session_factory, receivers, settings):
    crossed = held_crossing(session_factory, receivers)
    app = create_app(session_factory, settings.replace(admin_token="s3cret"))
    url = "/api/treaties/XXVI-9/disputed/confirm"
    auth = {"Authorization": "Bearer s3cret"}
    with TestClient(app) as client:
        assert client.post(url, json={"reason": "x"}).status_code == 401
        assert client.post(url, json={"reason": " "}, headers=auth).status_code == 422
        assert (
            client.post(url, json={"reason": "x", "kind": "consent"}, headers=auth).status_code
            == 422
        )
        answer = client.post(url, json={"reason": "C.N. notification seen"}, headers=auth)
        assert answer.status_code == 200, answer.text
        (confirmed,) = answer.json()["confirmed"]
        assert confirmed | {"deliveries": None} == {
            "id": crossed.id,
            "kind": "threshold_crossed",
            "legal_date": MET.isoformat(),
            "deliveries": None,
        }
        assert confirmed["deliveries"] == 2
        again = client.post(url, json={"reason": "again"}, headers=auth)
        assert again.status_code == 409 and "no disputed rule event" in again.json()["detail"]
        assert (
            client.post(
                "/api/treaties/NOPE/disputed/confirm", json={"reason": "x"}, headers=auth
            ).status_code
            == 404
        )
        history = client.get("/api/treaties/XXVI-9/events")
    (event,) = [e for e in rule_events(session_factory) if e.id == crossed.id]
    assert event.details["settled"]["operator"] == "operator API (bearer token)"
    assert event.details["settled"]["reason"] == "C.N. notification seen"
    later = datetime.now(UTC) + timedelta(minutes=1)  # confirmed now: due now
    assert receivers.dispatch(session_factory, later) == 2
    assert receivers.dispatch(session_factory, later + timedelta(days=1)) == 0
    assert receivers.webhook_kinds() == ["threshold_crossed"] and receivers.mail_count() == 1
    assert history.status_code == 200
    rows = history.json()
    rows = rows if isinstance(rows, list) else rows["events"]
    assert {e["kind"]: e["state"] for e in rows}["threshold_crossed"] == "final"


ATOM = "{http://www.w3.org/2005/Atom}"


def feed_entries(client: TestClient, path: str = "/feeds/treaties/XXVI-9.atom") -> dict[str, str]:
    """Each entry's title with its `updated`; the feed's own `updated` under the key "feed"."""
    root = ElementTree.fromstring(client.get(path).text.encode())
    found = {
        e.findtext(f"{ATOM}title") or "": e.findtext(f"{ATOM}updated") or ""
        for e in root.iter(f"{ATOM}entry")
    }
    return found | {"feed": root.findtext(f"{ATOM}updated") or ""}


CROSSED = (
    "XXVI-9 (Treaty on the Prohibition of Nuclear Weapons): "
    "The entry-into-force threshold was met on 2020-02-24"
)


def test_a_disputed_event_is_shown_with_its_state_but_left_out_of_the_feeds(
    session_factory, receivers, settings
):
    """Changed (review #10): the feeds listed a held event ("disputed: held, not confirmed");
    a public feed now carries settled events only. The API still shows it, as disputed."""
    held_crossing(session_factory, receivers)
    app = create_app(session_factory, settings)
    with TestClient(app) as client:
        for path in ("/feeds/treaties/XXVI-9.atom", "/feeds/events.atom"):
            entries = feed_entries(client, path)
            assert not [t for t in entries if "threshold crossed" in t], entries
            assert not [t for t in entries if "disputed" in t]
        events = client.get("/api/events").json()
    rows = events if isinstance(events, list) else events.get("events", [])
    (row,) = [e for e in rows if e["kind"] == "threshold_crossed"]
    assert row["state"] == "disputed"


STATES = ("suspicious", "retracted", "disputed", "confirmed", "final")


def test_no_suspicious_or_retracted_event_reaches_a_feed(session_factory, receivers, settings):
    crossed = held_crossing(session_factory, receivers)
    with session_factory.begin() as session:
        for state in STATES:
            session.add(
                Event(
                    treaty_id=crossed.treaty_id,
                    kind="action_disappeared" if state != "disputed" else "entered_into_force",
                    participant_name=f"State {state}",
                    legal_date=START,
                    observed_at=at("2020-03-02", 14),
                    details={},
                    state=state,
                )
            )
    app = create_app(session_factory, settings)
    with session_factory() as session:
        added = {
            e.participant_name: e.id
            for e in session.scalars(select(Event).where(Event.participant_name.like("State %")))
        }
    with TestClient(app) as client:
        for path in ("/feeds/treaties/XXVI-9.atom", "/feeds/events.atom"):
            root = ElementTree.fromstring(client.get(path).content)
            ids = {e.findtext(f"{ATOM}id").rsplit("/", 1)[1] for e in root.iter(f"{ATOM}entry")}
            shown = {name for name, i in added.items() if str(i) in ids}
            assert {"State final", "State confirmed"} <= shown
            assert not shown & {"State suspicious", "State retracted", "State disputed"}


def test_a_released_event_enters_the_feed_when_released(session_factory, receivers, settings):
    held_crossing(session_factory, receivers)
    released = at("2020-03-04")
    ingest_page(session_factory, page(status(*parties(50), eif_date=EIF.isoformat()), "2020-03-04"))
    (event,) = [e for e in rule_events(session_factory) if e.kind == "threshold_crossed"]
    assert event.state == "final" and event.details["settled"]["at"] == released.isoformat()
    app = create_app(session_factory, settings)
    with TestClient(app) as client:
        for path in ("/feeds/treaties/XXVI-9.atom", "/feeds/events.atom"):
            entries = feed_entries(client, path)
            # updated: the release, not the first observation (2020-03-02) nor 1970
            assert datetime.fromisoformat(entries[CROSSED]) == released
            assert datetime.fromisoformat(entries["feed"]) == released
            first = list(entries).index(CROSSED)
            assert first == 0  # the newest entry: released last


def test_a_stray_delivery_of_a_disputed_event_is_cancelled_never_sent(session_factory, receivers):
    """Defence in depth: were a delivery written for a held event, the dispatcher cancels it."""
    crossed = held_crossing(session_factory, receivers)
    with session_factory.begin() as session:
        sub = session.scalars(select(Subscription).where(Subscription.channel == "webhook")).one()
        session.add(
            Delivery(
                event_id=crossed.id,
                subscription_id=sub.id,
                idempotency_key="stray",
                state="pending",
                attempts=0,
                due_at=at("2020-03-02", 12),
            )
        )
    assert receivers.dispatch(session_factory, at("2020-03-02", 13)) == 0
    assert receivers.hook.count() == 0
    (stray,) = [d for d in deliveries(session_factory) if d.idempotency_key == "stray"]
    assert stray.state == "cancelled" and "disputed" in (stray.last_error or "")


def test_a_held_event_is_released_once_even_by_a_writer_holding_a_stale_copy(
    session_factory, receivers
):
    """Two writers settle the same held event (a page agreeing while an operator confirms): the
    release is a conditional update, so the one that comes second enqueues nothing."""
    from tracker.services.disputed_events import _release, confirm_disputed

    crossed = held_crossing(session_factory, receivers)
    stale_session = session_factory()
    stale = stale_session.get(Event, crossed.id)
    assert stale is not None and stale.state == "disputed"
    stale_session.rollback()  # its copy stays as it was read: disputed
    with session_factory.begin() as session:
        treaty = session.get(Treaty, crossed.treaty_id)
        done = confirm_disputed(session, treaty, None, reason="seen", by="a", now=at("2020-03-03"))
        assert [d["deliveries"] for d in done] == [2]
    with stale_session.begin():
        assert _release(stale_session, stale, {"by": "evaluation"}, at("2020-03-03")) is None
    stale_session.close()
    assert len([d for d in deliveries(session_factory) if d.event_id == crossed.id]) == 2
    assert receivers.dispatch(session_factory, at("2020-03-03", 13)) == 2
    assert receivers.webhook_kinds() == ["threshold_crossed"] and receivers.mail_count() == 1


def test_a_held_event_the_agreeing_page_does_not_support_is_dropped_and_the_right_one_sent(
    session_factory, receivers
):
    crossed = held_crossing(session_factory, receivers)
    corrected = [*parties(49), member("State 049", None, consent="2020-02-26")]
    later = MET + timedelta(days=2)
    agreeing = status(*corrected, eif_date=(later + timedelta(days=90)).isoformat())
    ingest_page(session_factory, page(agreeing, "2020-03-04"))
    by_id = {e.id: e for e in rule_events(session_factory)}
    dropped = by_id[crossed.id]
    assert dropped.state == "retracted" and dropped.once_key is None
    assert "the threshold is met on 2020-02-26" in dropped.details["retracted_reason"]
    (right,) = [e for e in by_id.values() if e.kind == "threshold_crossed" and e.id != crossed.id]
    assert (right.state, right.legal_date) == ("final", later)
    assert receivers.dispatch(session_factory, at("2020-03-04", 13)) == 2
    sent = [json.loads(r.body)["event"] for r in receivers.hook.snapshot()]
    assert [(e["kind"], e["legal_date"]) for e in sent] == [("threshold_crossed", "2020-02-26")]
    assert receivers.mail_count() == 1


def test_a_crossing_whose_entry_into_force_is_to_come_agrees_with_not_yet_in_force(
    session_factory, receivers
):
    """The rule met on a page that still prints "Not yet in force", its entry into force 90
    days ahead: both say the treaty is not in force yet, so the crossing is alerted at once."""
    ingest_page(session_factory, page(status(*parties(44)), "2020-03-01"))
    ingest_page(session_factory, page(status(*parties(50)), "2020-03-02"))
    (crossed,) = [e for e in rule_events(session_factory) if e.kind == "threshold_crossed"]
    assert crossed.state == "final" and crossed.details["entry_into_force"]["agrees"] is True
    assert receivers.dispatch(session_factory, at("2020-03-02", 13)) == 2
    assert receivers.webhook_kinds() == ["threshold_crossed"] and receivers.mail_count() == 1


def test_a_page_still_printing_not_yet_in_force_after_the_day_holds_entry_into_force(
    session_factory, receivers
):
    """Printed after the computed day and still "Not yet in force": the tracker would say in
    force, the depositary says not; `entered_into_force` is held, never sent."""
    ingest_page(session_factory, page(status(*parties(44)), "2020-03-01"))
    ingest_page(session_factory, page(status(*parties(50)), "2020-03-02"))
    late = (EIF + timedelta(days=3)).isoformat()
    ingest_page(session_factory, page(status(*parties(50)), late))  # unchanged content
    from tracker.services.rule_events import evaluate_all

    with session_factory.begin() as session:  # the daily evaluation, after the day
        evaluate_all(session, now=at(late))
    kinds = {e.kind: e.state for e in rule_events(session_factory)}
    assert kinds == {"threshold_crossed": "final", "entered_into_force": "disputed"}
    receivers.dispatch(session_factory, at(late, 13))
    assert receivers.webhook_kinds() == ["threshold_crossed"]


def test_an_unchanged_poll_after_the_day_still_saying_not_yet_in_force_holds_it(
    session_factory, receivers
):
    """The page's stamp is that of the content's first printing (an unchanged poll stores no
    snapshot): the cross-check compares with the last day the page was seen saying it."""
    from tracker.services.rule_events import evaluate_all

    stamped = status(*parties(50), as_at=at("2020-03-02", 10))
    ingest_page(
        session_factory, page(status(*parties(44), as_at=at("2020-03-01", 10)), "2020-03-01")
    )
    ingest_page(session_factory, page(stamped, "2020-03-02"))
    late = (EIF + timedelta(days=3)).isoformat()
    again = status(*parties(50), as_at=at(late, 10))  # the same content, printed again
    assert ingest_page(session_factory, page(again, late)).outcome == "unchanged"
    with session_factory.begin() as session:
        evaluate_all(session, now=at(late, 12))
    kinds = {e.kind: e.state for e in rule_events(session_factory)}
    assert kinds == {"threshold_crossed": "final", "entered_into_force": "disputed"}
    receivers.dispatch(session_factory, at(late, 13))
    assert receivers.webhook_kinds() == ["threshold_crossed"]


def test_a_held_approaching_is_dropped_not_released_when_the_agreeing_page_has_the_threshold_met(
    session_factory, receivers
):
    """Review #9: 46 parties on a page that prints an entry into force (held `approaching`);
    the next page agrees and has 50: nothing is approaching any more, the threshold is crossed.
    The held `approaching` is dropped unsent, and only the crossing reaches the receivers."""
    ingest_page(session_factory, page(status(*parties(40)), "2020-03-01"))
    ingest_page(
        session_factory, page(status(*parties(46), eif_date=OTHER.isoformat()), "2020-03-02")
    )
    (held,) = [e for e in rule_events(session_factory) if e.kind == "approaching"]
    assert held.state == "disputed"
    receivers.dispatch(session_factory, at("2020-03-02", 13))
    assert receivers.hook.count() == 0 and receivers.mail_count() == 0
    ingest_page(session_factory, page(status(*parties(50)), "2020-03-03"))
    by_id = {e.id: e for e in rule_events(session_factory)}
    dropped = by_id[held.id]
    assert dropped.state == "retracted" and dropped.once_key is None
    assert "settled" not in dropped.details
    assert "0 instruments remain" in dropped.details["retracted_reason"]
    assert not [d for d in deliveries(session_factory) if d.event_id == held.id]
    assert {e.kind: e.state for e in by_id.values() if e.id != held.id} == {
        "threshold_crossed": "final"
    }
    assert receivers.dispatch(session_factory, at("2020-03-03", 13)) == 2
    assert receivers.webhook_kinds() == ["threshold_crossed"] and receivers.mail_count() == 1
