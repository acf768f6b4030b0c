"""One shape for every HTTP error: `{"detail": "..."}`, one string for people.

FastAPI answers a request that fails validation with a 422 whose `detail` is a list of pydantic
errors (`loc`, `msg`, `type`, `input`, `ctx`); here it is one sentence that names each parameter
and what was wrong with it ("query parameter limit: Input should be greater than or equal to
1"), the same shape as every 4xx and 5xx the routes raise (HTTPException's `detail`). The
OpenAPI document says so: its `HTTPValidationError` schema is that object.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

# The OpenAPI description of a 404 for an unknown treaty on routes that answer other than JSON
# (feeds, calendars): the error itself is JSON, {"detail": "..."}.
UNKNOWN_TREATY: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "Unknown treaty",
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"detail": {"type": "string"}}}
            }
        },
    }
}
_PLACES = {
    "query": "query parameter",
    "path": "path parameter",
    "header": "header",
    "cookie": "cookie",
    "body": "body field",
}
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "What was wrong with the request, in one sentence naming the parameter",
    "properties": {"detail": {"type": "string", "title": "Detail"}},
    "required": ["detail"],
}


def _where(loc: Sequence[Any]) -> str:
    """`("query", "limit")` -> "query parameter limit"; `("body",)` -> "request body"."""
    if not loc:
        return "request"
    place, *names = (str(part) for part in loc)
    if place == "body" and not names:
        return "request body"
    label = _PLACES.get(place)
    if label is None:
        return ".".join((place, *names))
    return f"{label} {'.'.join(names)}" if names else label


def _message(msg: str) -> str:
    for prefix in _PYDANTIC_PREFIXES:
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg


def validation_detail(errors: Iterable[Mapping[str, Any]]) -> str:
    """The errors of a request in one string: `where: what` for each, joined with "; "."""
    parts: list[str] = []
    for error in errors:
        part = f"{_where(error.get('loc') or ())}: {_message(str(error.get('msg', 'invalid')))}"
        if part not in parts:
            parts.append(part)
    return "; ".join(parts) or "invalid request"


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    errors = error.errors() if isinstance(error, RequestValidationError) else []
    return JSONResponse({"detail": validation_detail(errors)}, status_code=422)


def install(app: FastAPI) -> None:
    """Answer validation errors as one string, and document them so."""
    app.add_exception_handler(RequestValidationError, _validation_error)

    generate = app.openapi  # FastAPI's: builds the document once, then returns it cached

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        schema = generate()
        if fresh:
            schemas = schema.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = PROBLEM_SCHEMA | {"title": "HTTPValidationError"}
                schemas.pop("ValidationError", None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
