"""The read side of countries: a State's current actions across every tracked treaty."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import ActionRow, Source, Treaty
from db.models import Participant as ParticipantRow
from tracker.services.read.common import iso_or_none
from tracker.services.read.treaties import sort_key
from tracker.sources import registry


def country(session: Session, iso3: str, source: str | None = None) -> dict[str, Any] | None:
    """A State's current actions across every tracked treaty, of every source (each treaty
    with its source's slug), or of `source` only (None: never seen)."""
    participant = session.scalar(select(ParticipantRow).where(ParticipantRow.iso3 == iso3.upper()))
    if participant is None:
        return None
    query = (
        select(ActionRow, Treaty.external_id, Source.slug, Treaty.title)
        .join(Treaty, Treaty.id == ActionRow.treaty_id)
        .join(Source, Source.id == Treaty.source_id)
        .where(ActionRow.participant_id == participant.id, ActionRow.ended_snapshot_id.is_(None))
        .order_by(ActionRow.legal_date)
    )
    if source is not None:
        query = query.where(Source.slug == source)
    per_treaty: dict[str, dict[str, Any]] = {}
    for action, external_id, slug, title in session.execute(query):
        treaty = registry.public_id(slug, external_id)  # both depositaries' treaties: unique
        entry = per_treaty.setdefault(
            treaty, {"treaty": treaty, "source": slug, "title": title, "actions": []}
        )
        entry["actions"].append(
            {
                "column": action.column,
                "kind": action.kind,
                "date": iso_or_none(action.legal_date),
                "withdrawn": action.withdrawn,
                "printed_name": action.printed_name,
                "first_observed_at": iso_or_none(action.first_observed_at),
            }
        )
    return {
        "iso3": participant.iso3,
        "name": participant.name,
        "reio": participant.reio,
        "treaties": sorted(per_treaty.values(), key=lambda t: sort_key(t["treaty"])),
    }
