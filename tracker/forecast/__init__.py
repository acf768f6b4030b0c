"""Forecasts of when a treaty not yet in force will reach its threshold (tracker.forecast.model),
learnt from the tracked treaties' histories (tracker.forecast.history)."""
