"""The forecast of a treaty's entry into force (tracker.forecast.model), from what the tracker holds.

It learns from every tracked treaty with a count rule: each one's qualifying instruments as its
latest accepted snapshot prints them, evaluated with its own rule as the status answer does
(tracker.forecast.history). Those histories are kept per database under a key of everything
they are read from (the snapshots, the treaties), so a forecast after the first reads three
small queries. A treaty whose rule is met is answered from its evaluation (the same date the
status answer gives), never forecast.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Snapshot, Source, Treaty
from tracker.domain.evaluate import evaluate
from tracker.forecast.history import History, history_of
from tracker.forecast.model import MET, Forecast, Quantiles, default_horizons, forecast
from tracker.services.read.answer_cache import FORECAST_HISTORIES
from tracker.services.read.common import NotFound
from tracker.services.read.treaties import find_treaty
from tracker.services.rule_context import rule_context
from tracker.services.rule_events import confirmations, rule_and_status
from tracker.sources import registry


def _key(session: Session) -> tuple[Any, ...]:
    snapshots = session.execute(select(func.max(Snapshot.id), func.count(Snapshot.id))).one()
    treaties = session.scalar(select(func.count(Treaty.id)))
    return ("forecast-histories", *snapshots, treaties)


def tracked_histories(session: Session) -> list[History]:
    """Every tracked treaty's history towards its count threshold (kept per database)."""
    key = _key(session)
    cached = FORECAST_HISTORIES.get(session, key)
    if cached is not None:
        return list(cached)
    found: list[History] = []
    rows = session.execute(
        select(Treaty, Source.slug).join(Source, Source.id == Treaty.source_id).order_by(Treaty.id)
    ).all()
    for treaty, slug in rows:
        rule, status, _ = rule_and_status(session, treaty)
        if rule is None or status is None:
            continue
        ev = evaluate(rule, status, **rule_context(session, treaty, rule))
        history = history_of(registry.public_id(slug, treaty.external_id), rule, status, ev)
        if history is not None:
            found.append(history)
    FORECAST_HISTORIES.put(session, key, tuple(found))
    return found


def treaty_forecast(
    session: Session, treaty_id: str, *, today: date, horizons: Sequence[date] = ()
) -> Forecast:
    """The forecast of one treaty's Nth qualifying instrument and entry into force on `today`.

    NotFound for an unknown treaty or one with no accepted snapshot yet; a treaty with no rule
    known is answered `not forecast`, with the reason."""
    treaty, slug = find_treaty(session, treaty_id)
    public = registry.public_id(slug, treaty.external_id)
    rule, status, _ = rule_and_status(session, treaty)
    if status is None:
        raise NotFound(f"treaty {public!r} has no accepted snapshot yet")
    horizons = tuple(horizons) or default_horizons(today)
    if rule is None:
        return Forecast(
            treaty=public, as_of=today, state="not forecast", threshold=None, qualifying=0,
            reason="no entry-into-force rule is known for this treaty",
        )  # fmt: skip
    ev = evaluate(
        rule,
        status,
        today=today,
        confirmations=confirmations(session, treaty.id),
        **rule_context(session, treaty, rule),
    )
    history = history_of(public, rule, status, ev)
    if ev.threshold_met_on is not None and ev.threshold_met_on <= today:
        return _met(public, today, rule.threshold, ev.qualifying, ev, horizons)
    if history is None:
        return forecast(rule, History(public, today, 1, ()), [], today=today, horizons=horizons)
    return forecast(rule, history, tracked_histories(session), today=today, horizons=horizons)


def _met(
    public: str, today: date, threshold: int | None, qualifying: int, ev: Any,
    horizons: Sequence[date],
) -> Forecast:  # fmt: skip
    """The rule is met: the dates are the evaluation's, not a forecast."""
    met: date = ev.threshold_met_on
    eif: date | None = ev.computed
    return Forecast(
        treaty=public,
        as_of=today,
        state=MET,
        threshold=threshold,
        qualifying=qualifying,
        nth_instrument=Quantiles(met, met, met),
        entry_into_force=Quantiles(eif, eif, eif) if eif else None,
        probability_by={d: (1.0 if eif <= d else 0.0) for d in horizons} if eif else {},
        reason=f"the rule was met on {met.isoformat()}: no forecast is needed",
    )
