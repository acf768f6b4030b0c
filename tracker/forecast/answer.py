"""The forecast's answer: its dates (median and 80% interval), probabilities and reasons, as
`tracker forecast --json` and GET /api/treaties/{id}/forecast print it (tracker.forecast.model
makes it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Forecast states.
FORECAST = "forecast"
MET = "threshold met"
INSUFFICIENT = "insufficient history"
NOT_FORECAST = "not forecast"


@dataclass(frozen=True)
class Quantiles:
    p10: date | None
    median: date | None
    p90: date | None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "median": _iso(self.median),
            "p10": _iso(self.p10),
            "p90": _iso(self.p90),
        }


@dataclass(frozen=True)
class Forecast:
    """The answer for one treaty on one day."""

    treaty: str
    as_of: date
    state: str  # FORECAST, MET, INSUFFICIENT, NOT_FORECAST
    threshold: int | None
    qualifying: int
    nth_instrument: Quantiles | None = None
    entry_into_force: Quantiles | None = None
    probability_by: dict[date, float] = field(default_factory=dict)
    method: str = "none: no forecast was made"
    based_on: int = 0  # comparable treaties
    reached: int = 0  # of them, those that reached their threshold by the day of the forecast
    not_forecast: tuple[str, ...] = ()  # the parts of the rule not forecast, in words
    reason: str | None = None  # why there is no forecast (INSUFFICIENT, NOT_FORECAST)
    naive: date | None = None  # the treaty's own pace extrapolated linearly (the baseline)

    def to_dict(self) -> dict[str, Any]:
        return {
            "treaty": self.treaty,
            "as_of": self.as_of.isoformat(),
            "state": self.state,
            "threshold": self.threshold,
            "qualifying": self.qualifying,
            "nth_instrument": self.nth_instrument.to_dict() if self.nth_instrument else None,
            "entry_into_force": (
                self.entry_into_force.to_dict() if self.entry_into_force else None
            ),
            "probability_by": {d.isoformat(): p for d, p in sorted(self.probability_by.items())},
            "method": self.method,
            "based_on": self.based_on,
            "reached": self.reached,
            "not_forecast": list(self.not_forecast),
            "reason": self.reason,
            "naive": _iso(self.naive),
        }


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None
