"""Short, useful alert messages: what happened, the treaty, the counts before and after, what
remains, the projected entry into force, a link, and the evidence (source URL, snapshot,
observation time, legal date)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Delivery, Event, Snapshot, Source, Subscription, Treaty
from db.models import Participant as ParticipantRow
from tracker.alerts.channels import Message
from tracker.sources import registry

HEADLINES = {
    "signature": "{who} signed",
    "consent": "{who} became a party ({how})",
    "withdrawal": "{who} withdrew",
    "revocation": "{who} revoked its {how}",
    "reaccession": "{who} became a party again ({how})",
    "correction": "the depositary corrected {who}'s entry",
    "approaching": "{remaining} instruments remain before the entry-into-force threshold",
    "threshold_crossed": "the entry-into-force threshold was met on {legal_date}",
    "entered_into_force": "entered into force on {legal_date}",
    "reappearance": "{who} is listed again, as before its disappearance",
    "declaration": "{who} made or changed a declaration or reservation ({how})",
}


@dataclass(frozen=True)
class AlertContext:
    """Everything a message says, read once from the database."""

    event: Event
    treaty: Treaty | None  # None: an event about a source (operators)
    snapshot: Snapshot | None
    previous: Snapshot | None
    iso3: str | None
    retracted: Event | None = None  # for a retraction notice: the event it withdraws
    source: str | None = None  # the treaty's source (slug); None: an event about a source

    @property
    def treaty_id(self) -> str | None:
        """The treaty's public id (tracker.sources.registry: WIPO-843, XXVI-9), what every
        message shows and links."""
        if self.treaty is None:
            return None
        if self.source is None:
            return self.treaty.external_id
        return registry.public_id(self.source, self.treaty.external_id)


def load_context(session: Session, delivery: Delivery) -> AlertContext:
    event = session.get_one(Event, delivery.event_id)
    treaty = session.get(Treaty, event.treaty_id) if event.treaty_id else None
    source = (
        session.scalar(select(Source.slug).where(Source.id == treaty.source_id)) if treaty else None
    )
    snapshot = session.get(Snapshot, event.snapshot_id) if event.snapshot_id else None
    previous = None
    if snapshot is not None and treaty is not None:
        previous = session.scalars(
            select(Snapshot)
            .where(Snapshot.treaty_id == treaty.id, Snapshot.observed_at < snapshot.observed_at)
            .order_by(Snapshot.observed_at.desc(), Snapshot.id.desc())
            .limit(1)
        ).first()
    iso3 = None
    if event.participant_id:
        iso3 = session.scalar(
            select(ParticipantRow.iso3).where(ParticipantRow.id == event.participant_id)
        )
    retracted = None
    if event.kind == "retraction" and (event.details or {}).get("retracted_event"):
        retracted = session.get(Event, event.details["retracted_event"])
    return AlertContext(event, treaty, snapshot, previous, iso3, retracted, source)


def _headline(event: Event) -> str:
    details = event.details or {}
    template = HEADLINES.get(event.kind, event.kind.replace("_", " "))
    return template.format(
        who=event.participant_name or "a participant",
        how=(details.get("action_kind") or details.get("kind") or "instrument").replace("_", " "),
        remaining=details.get("remaining", "?"),
        legal_date=event.legal_date.isoformat() if event.legal_date else "an unknown date",
    )


def payload(ctx: AlertContext, treaty_url: str) -> dict[str, Any]:
    """The JSON body of a webhook (and the facts every other rendering uses)."""
    e, s, p = ctx.event, ctx.snapshot, ctx.previous
    details = e.details or {}
    return {
        "event": {
            "id": e.id,
            "kind": e.kind,
            "participant": e.participant_name,
            "iso3": ctx.iso3 or details.get("iso3"),
            "legal_date": e.legal_date.isoformat() if e.legal_date else None,
            "observed_at": e.observed_at.isoformat(),
            "state": e.state,
        },
        "treaty": {
            "id": ctx.treaty_id,  # the public id, unique across sources (WIPO-843, XXVI-9)
            "source": ctx.source,
            "external_id": ctx.treaty.external_id,  # the source's own id (WIPO Lex's 843)
            "title": ctx.treaty.title,
            "url": treaty_url,
        },
        "counts": {
            "before": {"signatories": p.signatories, "parties": p.parties} if p else None,
            "after": {"signatories": s.signatories, "parties": s.parties} if s else None,
        },
        "remaining": details.get("remaining"),
        "entry_into_force": details.get("entry_into_force"),
        "deciding_deposits": details.get("deciding_deposits"),
        # An approaching event's forecast of entry into force (null: none, `state` says why).
        "forecast": _forecast(details) if e.kind == "approaching" else None,
        "evidence": {
            "source_url": s.url if s else None,
            "snapshot_id": s.id if s else None,
            "observed_at": s.observed_at.isoformat() if s else e.observed_at.isoformat(),
            "legal_date": e.legal_date.isoformat() if e.legal_date else None,
        },
    }


def _forecast(details: dict[str, Any]) -> dict[str, Any]:
    interval = details.get("expected_interval") or [None, None]
    return {
        "state": details.get("forecast_state"),
        "expected_around": details.get("expected_around"),
        "p10": interval[0],
        "p90": interval[1],
        "based_on": details.get("forecast_based_on"),
    }


def expected_words(forecast: dict[str, Any] | None) -> str | None:
    """ "expected around 2028-10-19 (80%: 2027-08-23 to 2030-09-20)", or None where there is no
    forecast (insufficient history, not forecast, failed: no date is said)."""
    if not forecast or not forecast.get("expected_around"):
        return None
    high = forecast.get("p90") or "later than any comparable treaty shows"
    return f"expected around {forecast['expected_around']} (80%: {forecast['p10']} to {high})"


@dataclass(frozen=True)
class EventMessage:
    """What every delivery of one event about a treaty says, whoever it goes to: rendered once
    per event (`event_message`), addressed per delivery (`render`)."""

    subject: str
    lines: tuple[str, ...]
    body: dict[str, Any]


def event_message(ctx: AlertContext, public_url: str) -> EventMessage:
    """The subject, text lines and payload of a treaty's event (`ctx.treaty` is set)."""
    assert ctx.treaty is not None
    treaty_url = f"{public_url.rstrip('/')}/treaties/{quote(ctx.treaty_id or '', safe='')}"
    body = payload(ctx, treaty_url)
    headline = _headline(ctx.event)
    lines = [f"{ctx.treaty.title} ({ctx.treaty_id})", ""]
    if ctx.event.kind == "retraction":
        headline, said = _retraction_lines(ctx, body)
        lines += said
    else:
        lines.append(headline[:1].upper() + headline[1:] + ".")
    subject = f"{ctx.treaty_id}: {headline}"
    before, after = body["counts"]["before"], body["counts"]["after"]
    if after:
        was = (
            f"{before['parties']} parties, {before['signatories']} signatories -> "
            if before
            else ""
        )
        lines.append(
            f"Counts: {was}{after['parties']} parties, {after['signatories']} signatories."
        )
    if body["remaining"] is not None:
        lines.append(f"Qualifying instruments still needed: {body['remaining']}.")
    eif = (body["entry_into_force"] or {}).get("computed")
    if eif:
        lines.append(f"Entry into force (computed): {eif}.")
    expected = expected_words(body.get("forecast"))
    if expected:
        lines.append(f"Entry into force {expected}.")
    evidence = body["evidence"]
    lines += [
        "",
        f"Treaty page: {treaty_url}",
        f"Evidence: {evidence['source_url'] or '-'} (snapshot {evidence['snapshot_id']}, "
        f"observed {evidence['observed_at']}, legal date {evidence['legal_date'] or '-'}).",
    ]
    return EventMessage(subject, tuple(lines), body)


def render(
    ctx: AlertContext,
    delivery: Delivery,
    subscription: Subscription,
    public_url: str,
    links: dict[str, str] | None = None,
    said: EventMessage | None = None,
) -> Message:
    """The message of one delivery (same idempotency key on every retry); `said`: the event's
    `event_message`, when already rendered for another delivery of it."""
    if ctx.treaty is None:
        return _render_source(ctx, delivery, subscription, public_url, links or {})
    said = said or event_message(ctx, public_url)
    lines = list(said.lines)
    links = links or {}
    if links.get("manage_url"):
        lines += ["", f"Manage or end this subscription: {links['manage_url']}"]
    return Message(
        subject=said.subject,
        text="\n".join(lines) + "\n",
        payload=said.body | {"delivery": delivery.idempotency_key, "subscription": subscription.id},
        idempotency_key=delivery.idempotency_key,
        unsubscribe_url=links.get("unsubscribe_url"),
        manage_url=links.get("manage_url"),
    )


def _retraction_lines(ctx: AlertContext, body: dict[str, Any]) -> tuple[str, list[str]]:
    """A retraction notice: which alert is withdrawn, and why (the evidence is below it)."""
    details = ctx.event.details or {}
    original = ctx.retracted
    what = _headline(original) if original is not None else details.get("retracted_kind", "?")
    when = original.observed_at.isoformat() if original is not None else "?"
    body["retracted"] = {
        "event_id": details.get("retracted_event"),
        "kind": details.get("retracted_kind"),
        "headline": what,
        "legal_date": original.legal_date.isoformat()
        if original is not None and original.legal_date
        else None,
        "observed_at": when,
    }
    body["reason"] = details.get("reason")
    headline = f"withdrawn: {what}"
    lines = [
        f"We withdraw an earlier alert: {what[:1].upper() + what[1:]} "
        f"(event {details.get('retracted_event')}, observed {when}).",
        f"Why: {details.get('reason') or 'the page it came from was shown wrong'}.",
        "Nothing else in that alert stands unless a later alert says so.",
    ]
    return headline, lines


def _render_source(
    ctx: AlertContext,
    delivery: Delivery,
    subscription: Subscription,
    public_url: str,
    links: dict[str, str],
) -> Message:
    """An operators' alert: a source turned unhealthy, or recovered."""
    e = ctx.event
    details = e.details or {}
    slug = details.get("source", "?")
    state = "recovered" if e.kind == "source_recovered" else "is unhealthy"
    reasons = details.get("reasons") or []
    lines = [f"Source {slug} {state} (observed {e.observed_at.isoformat()})."]
    lines += [f"- {r}" for r in reasons]
    if details.get("lasted"):  # how long the new state has held, and the previous one lasted
        lines += ["", f"State: {details['lasted']}."]
    lines += ["", f"Sources: {public_url.rstrip('/')}/api/sources"]
    if links.get("manage_url"):
        lines += ["", f"Manage or end this subscription: {links['manage_url']}"]
    body = {
        "event": {
            "id": e.id,
            "kind": e.kind,
            "observed_at": e.observed_at.isoformat(),
            "state": e.state,
        },
        "source": {
            "slug": slug,
            "reasons": reasons,
            "last_error": details.get("last_error"),
            **{
                k: details[k] for k in ("state", "since", "held_crawls", "previous") if k in details
            },
        },
        "delivery": delivery.idempotency_key,
        "subscription": subscription.id,
    }
    return Message(
        subject=f"Source {slug} {state}",
        text="\n".join(lines) + "\n",
        payload=body,
        idempotency_key=delivery.idempotency_key,
        unsubscribe_url=links.get("unsubscribe_url"),
        manage_url=links.get("manage_url"),
    )
