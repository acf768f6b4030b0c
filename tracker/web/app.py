"""The FastAPI application: API, feeds, dashboard, /healthz and /metrics (Prometheus)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.routing import Match
from starlette.types import Scope

from tracker.services import unit_of_work
from tracker.services.read.sources import metrics_figures, unhealthy_sources
from tracker.services.unit_of_work import DatabaseError, Sessions
from tracker.settings import Settings
from tracker.web import (
    admin,
    admin_alerts,
    api,
    calendar,
    changes,
    countries,
    dashboard,
    errors,
    feeds,
    follow,
    forecast,
    subscribers,
    threads,
)
from tracker.web.guards import BodyLimit, CleanJSON, PublicRedirects


class _DatabaseCollector(Collector):
    """Gauges read from the database at scrape time: source health, treaties, events by kind."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        healthy = GaugeMetricFamily(
            "tracker_source_healthy", "1 if the source is healthy", labels=["source"]
        )
        failures = GaugeMetricFamily(
            "tracker_source_consecutive_failures", "failed crawls in a row", labels=["source"]
        )
        treaties = GaugeMetricFamily("tracker_treaties", "tracked treaties")
        events = GaugeMetricFamily("tracker_events", "events recorded", labels=["kind"])
        up = GaugeMetricFamily("tracker_database_up", "1 if the database answered this scrape")
        try:
            with unit_of_work.read(self.sessions) as session:
                health, n_treaties, by_kind = metrics_figures(session)
            for slug, ok, in_a_row in health:
                healthy.add_metric([slug], 1.0 if ok else 0.0)
                failures.add_metric([slug], float(in_a_row))
            treaties.add_metric([], float(n_treaties))
            for kind, n in by_kind:
                events.add_metric([kind], float(n))
        except DatabaseError:  # the database is down: the HTTP metrics are still served
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield from (up, healthy, failures, treaties, events)


def _metrics(app: FastAPI, sessions: Sessions) -> None:
    registry = CollectorRegistry()
    requests = Counter(
        "tracker_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry
    )
    latency = Histogram(
        "tracker_http_request_seconds", "HTTP request latency", ["route"], registry=registry
    )
    registry.register(_DatabaseCollector(sessions))

    @app.middleware("http")
    async def count(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        requests.labels(request.method, route, str(response.status_code)).inc()
        latency.labels(route).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _operator_route(scope: Scope) -> bool:
    """Whether the request goes to an operator route (its token is checked before its body)."""
    routes = (*admin.router.routes, *admin_alerts.router.routes)
    return any(route.matches(scope)[0] is not Match.NONE for route in routes)


def create_app(
    sessions: Sessions,
    settings: Settings,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The application over a session factory (the caller owns the engine: a Database of
    tracker.services.unit_of_work); every request reads or writes through a unit of work."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        threads.limit_web_threads(settings.web_threads)  # in the server's own event loop
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="Treaty ratification tracker",
        version="0.1.0",
        description="Signature and ratification status of multilateral treaties, their "
        "entry-into-force rules, and what changed when.",
    )
    app.state.sessions = sessions
    app.state.settings = settings
    app.state.clock = clock
    errors.install(app)  # {"detail": "..."} for validation errors too
    app.include_router(api.router)
    app.include_router(forecast.router)  # /api/treaties/{id}/forecast
    app.include_router(admin.router)
    app.include_router(admin_alerts.router)
    app.include_router(feeds.router)
    app.include_router(calendar.router)  # upcoming entry into force: ICS and CSV
    app.include_router(dashboard.router)
    app.include_router(countries.router)  # the country pages and the comparison
    app.include_router(changes.router)  # /changes: what changed, in words
    app.include_router(subscribers.router)  # signed links: confirm, unsubscribe, manage
    app.include_router(follow.router)  # the Follow form of the treaty and country pages
    dashboard.mount_static(app)
    app.add_middleware(
        BodyLimit,  # inside the metrics middleware, so its 413s are counted
        limit=settings.max_request_body,
        authenticate_first=_operator_route,
    )
    _metrics(app, sessions)
    app.add_middleware(CleanJSON)  # no stored control character in a JSON answer
    app.add_middleware(
        PublicRedirects,
        public_url=settings.public_url,
    )

    @app.get("/healthz", summary="Liveness and database reachability")
    def healthz() -> JSONResponse:
        try:
            with unit_of_work.read(sessions) as session:
                unhealthy = unhealthy_sources(session)
        except Exception as error:  # noqa: BLE001 (the database is down: say so, with 503)
            message = str(error).splitlines()[0]
            return JSONResponse({"status": "error", "database": message}, 503)
        body: dict[str, Any] = {
            "status": "ok",
            "database": "ok",
            "unhealthy_sources": unhealthy,
            "time": datetime.now(UTC).isoformat(),
        }
        return JSONResponse(body)

    return app
