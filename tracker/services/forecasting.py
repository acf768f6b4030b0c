"""The forecast of a treaty's entry into force (tracker.forecast.model) over what the tracker holds.

It learns from every tracked treaty with a count rule: each one's qualifying instruments as its
latest accepted snapshot prints them, evaluated with its own rule as the status answer does
(tracker.forecast.history). Those histories are kept per database under a key of everything
they are read from (the snapshots, the treaties), so a forecast after the first costs two small
queries. A treaty whose rule is met is answered from its evaluation (the date the status answer
gives), never forecast. Used by the read side (tracker.services.read.forecast) and by the
`approaching` event ("expected around", tracker.services.rule_events).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Snapshot, Source, Treaty
from tracker.catalogue import rule_for
from tracker.domain.evaluate import Evaluation, evaluate
from tracker.domain.models import TreatyStatus
from tracker.domain.rules import Rule
from tracker.forecast.history import History, count_part, history_of
from tracker.forecast.model import (
    NO_DATE,
    NO_RULE_COUNT,
    NOT_FORECAST,
    Forecast,
    default_horizons,
    forecast,
    met_forecast,
)
from tracker.services.answer_cache import FORECAST_HISTORIES
from tracker.services.rule_context import rule_context
from tracker.sources import registry


def _key(session: Session) -> tuple[Any, ...]:
    snapshots = session.execute(select(func.max(Snapshot.id), func.count(Snapshot.id))).one()
    treaties = session.scalar(select(func.count(Treaty.id)))
    return ("forecast-histories", *snapshots, treaties)


def _history_key(treaty_id: int, snapshot_id: int, content_hash: str) -> tuple[Any, ...]:
    """One treaty's history at one snapshot: its id and its content's hash (the history is read
    from that content alone; the hash keeps a reused id of a rolled-back snapshot apart)."""
    return ("forecast-history", treaty_id, snapshot_id, content_hash)


def tracked_histories(session: Session) -> tuple[History, ...]:
    """Every tracked treaty's history towards its count threshold (kept per database; on a
    change, only the treaties with a new snapshot are evaluated again, unless the ingest of that
    snapshot kept its history already: `remember_history`)."""
    key = _key(session)
    cached = FORECAST_HISTORIES.get(session, key)
    if cached is not None:
        return cached
    found: list[History] = []
    latest = (
        select(Snapshot.id)
        .where(Snapshot.treaty_id == Treaty.id)
        .order_by(Snapshot.observed_at.desc(), Snapshot.id.desc())
        .limit(1)
        .correlate(Treaty)
        .scalar_subquery()
    )
    rows = session.execute(  # each treaty with its latest snapshot, in one query
        select(Treaty, Source.slug, Snapshot.id, Snapshot.content_hash)
        .join(Source, Source.id == Treaty.source_id)
        .join(Snapshot, Snapshot.id == latest)
        .order_by(Treaty.id)
    ).all()
    for treaty, slug, snapshot_id, content_hash in rows:
        one_key = _history_key(treaty.id, snapshot_id, content_hash)
        one = FORECAST_HISTORIES.get(session, one_key)
        if one is None:
            data = session.scalars(select(Snapshot.data).where(Snapshot.id == snapshot_id)).one()
            one = _history_of(session, treaty, slug, TreatyStatus.from_dict(data))
            FORECAST_HISTORIES.put(session, one_key, one)
        found.extend(one)
    histories = tuple(found)
    FORECAST_HISTORIES.put(session, key, histories)
    return histories


def _history_of(
    session: Session, treaty: Treaty, slug: str, status: TreatyStatus
) -> tuple[History, ...]:
    """The treaty's history from its latest snapshot's status: one, or none (no count rule)."""
    rule = rule_for(slug, treaty.external_id, status)
    if rule is None:
        return ()
    ev = evaluate(rule, status, **rule_context(session, treaty, rule))
    history = history_of(registry.public_id(slug, treaty.external_id), rule, status, ev)
    return () if history is None else (history,)


def remember_history(
    session: Session,
    snapshot: Snapshot,
    public_id: str,
    status: TreatyStatus,
    ev: Evaluation | None,
) -> None:
    """Keep the history of a treaty's new latest `snapshot` from its ingest's own evaluation
    (`status`: the snapshot's, as parsed; `ev`: the treaty's rule evaluated on it, None when it
    has no rule), so that the next forecast neither reads nor evaluates it again. A history reads
    only the evaluation's instruments, which depend on the rule and the status alone (not on the
    day, the confirmations or the "status as at" stamp): they are those `_history_of` finds."""
    if ev is not None and ev.as_of is not None:
        return  # an evaluation cut to a past day: not the whole status's
    history = history_of(public_id, ev.rule, status, ev) if ev is not None else None
    one = () if history is None else (history,)
    FORECAST_HISTORIES.put(
        session, _history_key(snapshot.treaty_id, snapshot.id, snapshot.content_hash), one
    )


def forecast_of(
    session: Session,
    public_id: str,
    rule: Rule | None,
    status: TreatyStatus,
    ev: Evaluation | None,
    *,
    today: date,
    horizons: Sequence[date] = (),
) -> Forecast:
    """The forecast of one treaty (its rule, latest status and that status's evaluation on
    `today`), learning from every tracked treaty's history."""
    horizons = tuple(horizons) or default_horizons(today)
    if rule is None or ev is None:
        return Forecast(
            treaty=public_id, as_of=today, state=NOT_FORECAST, threshold=None, qualifying=0,
            reason="no entry-into-force rule is known for this treaty",
        )  # fmt: skip
    met = ev.threshold_met_on
    if met is not None and met <= today:
        answer = met_forecast(
            public_id, today, rule.threshold, ev.qualifying, met, ev.computed, horizons
        )
        return replace(answer, reason=f"the rule was met on {met.isoformat()}")
    history = history_of(public_id, rule, status, ev)
    if history is None:
        threshold, parts = count_part(rule, ev.groups)
        reason = "; ".join(parts) if threshold is None else NO_DATE
        return Forecast(
            treaty=public_id, as_of=today, state=NOT_FORECAST, threshold=threshold,
            qualifying=ev.qualifying, not_forecast=tuple(parts), reason=reason or NO_RULE_COUNT,
        )  # fmt: skip
    return forecast(
        rule, history, tracked_histories(session), today=today, horizons=horizons,
        groups=ev.groups,
    )  # fmt: skip
