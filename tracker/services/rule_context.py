"""What a rule needs to know about other tracked treaties, for tracker.domain.evaluate.evaluate.

A rule may wait for another treaty's entry into force (after_treaty) or count a share of another
treaty's parties (share_of). The other treaty is found by its external id in the same source;
what is not tracked, or has no accepted snapshot, is unknown (None), and the evaluation says so.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Snapshot, Treaty
from tracker.domain.footnotes import SILENT, FootnoteGrammar
from tracker.domain.models import Column, TreatyStatus
from tracker.domain.rules import Rule
from tracker.services.repository import latest_snapshot, source_slug
from tracker.sources import registry


def _other_status(
    session: Session, treaty: Treaty, external_id: str, known_at: datetime | None = None
) -> TreatyStatus | None:
    """The other treaty's latest status (`known_at`: its latest snapshot observed by then)."""
    other = session.scalar(
        select(Treaty).where(
            Treaty.source_id == treaty.source_id, Treaty.external_id == external_id
        )
    )
    if other is None:
        return None
    if known_at is None:
        snapshot = latest_snapshot(session, other.id)
    else:
        snapshot = session.scalars(
            select(Snapshot)
            .where(Snapshot.treaty_id == other.id, Snapshot.observed_at <= known_at)
            .order_by(Snapshot.observed_at.desc(), Snapshot.id.desc())
            .limit(1)
        ).first()
    return TreatyStatus.from_dict(snapshot.data) if snapshot is not None else None


def footnotes_of(session: Session, treaty: Treaty, slug: str | None = None) -> FootnoteGrammar:
    """The grammar of the treaty's source's footnotes (tracker.domain.footnotes). A source no
    longer registered has none to read with: SILENT (its withdrawn rows still end, undated).
    `slug`: the treaty's source's, when the caller has read it already."""
    if slug is None:
        slug = source_slug(session, treaty.source_id) or ""
    try:
        return registry.footnotes(slug)
    except registry.UnknownSource:
        return SILENT


def parties_on(status: TreatyStatus, day: date) -> int:
    """Participants with a consent to be bound deposited on or before `day`.

    Counts deposits, withdrawn ones included: it can only overstate the parties of that day, so
    a share of them is never reached too early."""
    count = 0
    for p in status.participants:
        if any(
            (a.column is Column.CONSENT or a.kind == "definitive_signature") and a.date <= day
            for a in p.actions
        ):
            count += 1
    return count


def rule_context(
    session: Session,
    treaty: Treaty,
    rule: Rule,
    *,
    known_at: datetime | None = None,
    slug: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments for evaluate(): the source's `footnotes` grammar, and `others` and
    `parties_of` only where the rule needs them. `known_at`: what was known on T, from the other
    treaty's snapshots observed by T only. `slug`: the treaty's source's, when already read."""
    context: dict[str, Any] = {"footnotes": footnotes_of(session, treaty, slug)}
    if rule.after_treaty is not None:
        other = _other_status(session, treaty, rule.after_treaty, known_at)
        context["others"] = {rule.after_treaty: other.eif_date if other is not None else None}
    if rule.share_of is not None:
        share_treaty = rule.share_of.treaty
        status = _other_status(session, treaty, share_treaty, known_at)

        @cache
        def parties_of(external_id: str, day: date) -> int | None:
            if status is None or external_id != share_treaty:
                return None
            return parties_on(status, day)

        context["parties_of"] = parties_of
    return context
