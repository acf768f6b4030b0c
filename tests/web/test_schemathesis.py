"""Schemathesis against the app's own OpenAPI document, in process (ASGI, no network).

Every operation in /openapi.json, positive and negative data (schemathesis's examples, coverage
and fuzzing phases), over the database of the contract tests (30 UNTC status pages of the project's own plus a
Cybercrime Convention history), so the documented examples (XXVI-9, XXVI-4, AUT) hit existing
resources. Checks: no server error, status codes, content types and response bodies as
documented, invalid requests rejected and valid ones accepted. A bounded number of examples per
operation (TRACKER_SCHEMATHESIS_EXAMPLES, default 40) keeps the run well under a minute.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session, sessionmaker
from test_api_contract import CLOCK, database, pages  # noqa: F401  (the module fixtures)

from db.engine import make_engine, make_session_factory
from tracker.settings import Settings
from tracker.web.app import create_app

# slow: the 30 real pages ingested, then every operation fuzzed (over 30 s)
pytestmark = [pytest.mark.db, pytest.mark.slow]

EXAMPLES = int(os.environ.get("TRACKER_SCHEMATHESIS_EXAMPLES", "40"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
OPERATIONS = {
    "GET /api/treaties",
    "GET /api/treaties/{treaty_id}",
    "GET /api/treaties/{treaty_id}/participants",
    "GET /api/treaties/{treaty_id}/events",
    "GET /api/treaties/{treaty_id}/rule",
    "GET /api/treaties/{treaty_id}/missing",
    "GET /api/treaties/{treaty_id}/forecast",
    "GET /api/events",
    "GET /api/events/{event_id}",
    "GET /api/countries/{iso3}",
    "GET /api/sources",
    "GET /feeds/events.atom",
    "GET /feeds/treaties/{treaty_id}.atom",
    "GET /calendar.ics",
    "GET /treaties/{treaty_id}/calendar.ics",
    "GET /calendar.csv",
    "GET /healthz",
    # Operators only: without TRACKER_ADMIN_TOKEN (as here) every call must be a clean 403/422.
    "POST /api/treaties/{treaty_id}/conditions/{key}",
    "POST /api/treaties/{treaty_id}/disputed/confirm",
    "POST /api/subscriptions",
    "GET /api/subscriptions",
    "DELETE /api/subscriptions/{subscription_id}",
    "GET /api/deliveries",
}


class _Sessions:
    """The app's session factory, bound by the fixture below once the database exists.

    The schema is loaded when this module is imported (the OpenAPI document needs no database);
    schemathesis's from_fixture does not work with this pytest (it sets Node._nodeid).
    """

    factory: sessionmaker[Session] | None = None

    def __call__(self) -> Session:
        if self.factory is None:
            raise RuntimeError("the database fixture has not bound the session factory")
        return self.factory()


SESSIONS = _Sessions()
APP = create_app(SESSIONS, Settings(database_url="sqlite://"), clock=lambda: CLOCK)  # type: ignore[arg-type]
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def bound(database: tuple[str, tuple[str, ...]]) -> Iterator[None]:  # noqa: F811
    engine = make_engine(database[0])
    SESSIONS.factory = make_session_factory(engine)
    yield
    SESSIONS.factory = None
    engine.dispose()


def test_every_operation_is_under_test():
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert labels == OPERATIONS


def test_documented_examples_are_real_resources():
    """The path examples in the document exist, so generation reaches past the 404s."""
    hits = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET":
            continue
        for parameter in operation.path_parameters:
            examples = parameter.definition.get("examples", {})
            for example in examples.values():
                case = operation.Case(path_parameters={parameter.name: example["value"]})
                response = case.call()
                assert response.status_code == 200, (operation.label, example)
                hits += 1
    assert hits >= 8


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no example database kept between runs
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_openapi_document(case):
    case.call_and_validate(checks=CHECKS)
