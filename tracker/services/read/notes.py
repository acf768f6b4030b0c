"""What a treaty's latest page says of each participant besides its dates: the footnotes its row
points to (their texts) and its declarations, reservations, objections and notifications (as
the source's parser read them: tracker.domain.models.Declaration), for the treaty page to show
next to the participant."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tracker.domain.models import DECLARATION_SECTIONS, TreatyStatus
from tracker.services.read.treaties import find_treaty
from tracker.services.repository import latest_snapshot


def participant_notes(status: TreatyStatus) -> dict[str, dict[str, Any]]:
    """Per participant (its ISO code, else its printed name): {footnotes: [{ref, text}],
    declarations: [{section, words, text, footnotes}]}; participants with neither are left out.
    `declarations_read`: whether the parser read them (None: not known)."""
    texts = {f.ref: f.text for f in status.footnotes}
    by_key: dict[str, list[dict[str, Any]]] = {}
    for d in status.declarations or ():
        by_key.setdefault(d.key, []).append(
            {
                "section": d.section,
                "words": DECLARATION_SECTIONS.get(d.section, d.section),
                "text": d.text,
                "footnotes": [{"ref": r, "text": texts.get(r)} for r in d.footnotes],
            }
        )
    found: dict[str, dict[str, Any]] = {}
    for p in status.participants:
        notes = [{"ref": r, "text": texts.get(r)} for r in p.footnotes]
        statements = by_key.get(p.key, [])
        if notes or statements:
            entry = found.setdefault(p.iso3 or p.name, {"footnotes": [], "declarations": []})
            entry["footnotes"] += notes
            entry["declarations"] += statements
    return found


def treaty_notes(session: Session, treaty_id: str) -> dict[str, Any]:
    """`participant_notes` of the treaty's latest snapshot (none yet: empty), and whether its
    parser read declarations at all."""
    treaty, _ = find_treaty(session, treaty_id)
    snapshot = latest_snapshot(session, treaty.id)
    if snapshot is None:
        return {"participants": {}, "declarations_read": False}
    status = TreatyStatus.from_dict(snapshot.data)
    return {
        "participants": participant_notes(status),
        "declarations_read": status.declarations is not None,
    }
