"""`tracker forecast ID` and GET /api/treaties/{id}/forecast: a treaty's forecast on a day
(tracker.services.forecasting over tracker.forecast.model)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from tracker.domain.evaluate import evaluate
from tracker.forecast.model import Forecast
from tracker.services.forecasting import forecast_of
from tracker.services.read.common import NotFound
from tracker.services.read.status_parts import TreatyAnswer
from tracker.services.read.treaties import find_treaty
from tracker.services.rule_context import rule_context
from tracker.services.rule_events import confirmations, rule_and_status
from tracker.sources import registry


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
    ev = None
    if rule is not None:
        ev = evaluate(
            rule,
            status,
            today=today,
            confirmations=confirmations(session, treaty.id),
            **rule_context(session, treaty, rule),
        )
    return forecast_of(session, public, rule, status, ev, today=today, horizons=horizons)


def answer_forecast(
    session: Session, answer: TreatyAnswer, *, today: date, horizons: Sequence[date] = ()
) -> Forecast:
    """The forecast of the treaty a latest status answer is about, from that answer's own
    status and evaluation (the treaty page: evaluated once, not again for its forecast)."""
    if answer.parsed is None:  # an as-of answer: the forecast is of the latest status
        return treaty_forecast(session, answer.status["treaty"], today=today, horizons=horizons)
    ev = answer.evaluation
    rule = ev.rule if ev is not None else None
    public = answer.status["treaty"]
    return forecast_of(session, public, rule, answer.parsed, ev, today=today, horizons=horizons)
