"""One dispatch run with the configured channels: what `tracker dispatch` and the service's
scheduled job both do."""

from __future__ import annotations

from datetime import timedelta

from db.unit_of_work import Database
from tracker.alerts.dispatch import DEFAULT_BATCH, DispatchReport, dispatch_due
from tracker.alerts.links import IN_ALERTS, links_for
from tracker.alerts.subscriptions import channels_from_settings
from tracker.settings import Settings

DISPATCH_INTERVAL_SECONDS = 60


def dispatch_once(settings: Settings, *, batch: int = DEFAULT_BATCH) -> DispatchReport:
    """Deliver everything due now through the channels this configuration has."""
    channels = channels_from_settings(settings)

    def links(sub_id: int) -> dict[str, str]:
        if not settings.secret_key:
            return {}
        return links_for(settings.public_url, settings.secret_key, sub_id, IN_ALERTS)

    database = Database.open(settings.database_url)
    try:
        return dispatch_due(
            database.sessions,
            channels,
            public_url=settings.public_url,
            links=links,
            batch=batch,
            lease=timedelta(seconds=settings.delivery_lease_seconds),
            max_attempts=settings.delivery_max_attempts,
        )
    finally:
        for channel in channels.values():
            close = getattr(channel, "close", None)
            if close is not None:
                close()
        database.dispose()
