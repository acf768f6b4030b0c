"""GET /api/treaties/{id}/forecast: when the Nth instrument and entry into force are expected
(tracker.services.read.forecast over tracker.forecast.model), with the same answer as
`tracker forecast ID --json`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from tracker.services.read.common import NotFound
from tracker.services.read.forecast import treaty_forecast
from tracker.web.api import DB, NOT_FOUND, Today, TreatyId, iso_text

router = APIRouter(prefix="/api", tags=["api"])

MAX_DATES = 20  # `by` dates asked in one request


class Dates(BaseModel):
    """Dates (YYYY-MM-DD); null where none can be given (p90: later than any comparable
    treaty shows)."""

    median: date | None
    p10: date | None
    p90: date | None


class ForecastAnswer(BaseModel):
    treaty: str
    as_of: date
    state: Literal["forecast", "threshold met", "insufficient history", "not forecast"]
    threshold: int | None = Field(description="N: the qualifying instruments the rule needs")
    qualifying: int = Field(description="qualifying instruments so far")
    nth_instrument: Dates | None = Field(description="the date of the Nth qualifying instrument")
    entry_into_force: Dates | None = Field(description="entry into force by the treaty's rule")
    probability_by: dict[str, float] = Field(
        description="date -> probability that the treaty is in force by then"
    )
    method: str
    based_on: int = Field(description="comparable tracked treaties the forecast learnt from")
    reached: int = Field(description="of them, those that reached their threshold")
    not_forecast: list[str] = Field(description="parts of the rule not forecast, in words")
    reason: str | None = Field(description="why there is no forecast, or why none is needed")
    naive: date | None = Field(description="the treaty's pace so far, extrapolated linearly")


ByDate = Annotated[date, iso_text(r"\d{4}-\d{2}-\d{2}", "a date as YYYY-MM-DD")]
Bys = Annotated[
    list[ByDate] | None,
    Query(
        description="dates (YYYY-MM-DD, repeatable, at most 20) for `probability_by`; default: "
        "the end of this year and of the next",
        max_length=MAX_DATES,
    ),
]


@router.get(
    "/treaties/{treaty_id}/forecast",
    summary="When the treaty is expected to enter into force: the median and 80% interval of "
    "its Nth qualifying instrument and of entry into force, and the probability by dates",
    description="Learnt from every tracked treaty's history (see the README, Forecast). "
    "`state` is `forecast`, `threshold met` (the computed dates, not a forecast), "
    "`insufficient history` or `not forecast` (with `reason`, and no date).",
    responses=NOT_FOUND,
    response_model=ForecastAnswer,
)
def forecast(treaty_id: TreatyId, session: DB, day: Today, by: Bys = None) -> ForecastAnswer:
    horizons = tuple(sorted(set(by or ())))
    try:
        found = treaty_forecast(session, treaty_id, today=day, horizons=horizons)
    except NotFound as error:
        raise HTTPException(404, detail=str(error)) from None
    return ForecastAnswer.model_validate(found.to_dict())
