"""Country pages: the index (with search), one country's standing in every tracked treaty
(reachable by ISO code or by name: `/countries/france` finds FRA), and the comparison of two to
five countries across treaties (`/compare?c=FRA,DEU,USA`, `&format=csv` for the matrix as CSV).

Bad input gets an HTML page with a clear message (422; the CSV's a JSON `{"detail": ...}`),
an unknown country a 404 page, an ambiguous name the page of its candidates.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from tracker.services.read import countries
from tracker.services.read.standing import (
    MAX_COMPARED,
    STANDINGS,
    BadCountries,
    compare,
    countries_index,
    country_standing,
    find_country,
)
from tracker.services.unit_of_work import Session
from tracker.web import dashboard_view as view
from tracker.web.dashboard import templates
from tracker.web.deps import get_session
from tracker.web.export import respond

router = APIRouter(include_in_schema=False)
DB = Annotated[Session, Depends(get_session)]


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _error(request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
    return _page(request, "error.html", status_code, title=title, message=message)


def _with_source(path: str, source: str | None) -> str:
    return path + (f"?{urlencode({'source': source})}" if source else "")


@router.get("/countries", response_class=HTMLResponse)
def countries_page(
    request: Request, session: DB, q: str | None = None, source: str | None = None
) -> HTMLResponse:
    """Every country the tracker knows (the UN Member States, the observer States, and the
    participants with an ISO code outside that list), searchable by name or code."""
    try:
        only = view.source_choice(source)
    except view.BadInput as error:
        return _error(request, 422, "Bad request", str(error))
    text = (q or "").strip()[:200]
    found = countries_index(session, text or None, only)
    return _page(
        request,
        "countries.html",
        index=found,
        q=text,
        source=only,
        sources=view.sources(),
        standings=STANDINGS,
    )


@router.get("/countries/{name}", response_class=HTMLResponse, response_model=None)
def country_page(
    request: Request, name: str, session: DB, source: str | None = None
) -> HTMLResponse | RedirectResponse:
    """A country's standing in every tracked treaty (party since, signed only, not joined,
    withdrawn), and its actions as printed; by ISO code, or by name (redirected to the code)."""
    try:
        only = view.source_choice(source)
    except view.BadInput as error:
        return _error(request, 422, "Bad request", str(error))
    lookup = find_country(session, name[:200])
    if lookup.found is None and lookup.candidates:
        return _page(
            request,
            "country_candidates.html",
            asked=name,
            candidates=lookup.candidates,
            source=only,
        )
    if lookup.found is None:
        message = (
            f"no country is named {name!r} (an ISO 3166 alpha-3 code such as FRA, or a name "
            "such as france; the country index lists them all)"
        )
        return _page(request, "error.html", 404, title="Country not found", message=message)
    country = lookup.found
    if name != country.iso3:  # one address per country: its code
        return RedirectResponse(_with_source(f"/countries/{country.iso3}", only), 307)
    found = country_standing(session, country, only)
    actions = countries.country(session, country.iso3, only)
    return _page(
        request,
        "country.html",
        c=found,
        actions=actions,
        source=only,
        sources=view.sources(),
        standings=STANDINGS,
    )


COMPARE_COLUMNS = ("treaty", "source", "title")


def _matrix_rows(found: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The comparison flat: a row per treaty; per country its standing, date and words."""
    codes = [c["iso3"] for c in found["countries"]]
    columns = list(COMPARE_COLUMNS)
    for code in codes:
        columns += [f"{code}_standing", f"{code}_date", f"{code}_detail"]
    rows = []
    for t in found["treaties"]:
        row = {k: t[k] for k in COMPARE_COLUMNS}
        for code in codes:
            cell = t["cells"][code]
            row |= {
                f"{code}_standing": cell["words"],
                f"{code}_date": cell["date"],
                f"{code}_detail": cell["line"],
            }
        rows.append(row)
    return rows, columns


@router.get("/compare", response_class=HTMLResponse, response_model=None)
def compare_page(
    request: Request,
    session: DB,
    c: str | None = None,
    source: str | None = None,
    format: str | None = None,
    add: str | None = None,
) -> Response:
    """Two to five countries side by side across the tracked treaties (rows treaties, columns
    countries, cells the standing with its date); `format=csv` or `format=xlsx`: the same
    matrix as CSV or XLSX; `add`:
    the form only, holding that country (a country page's "compare with" link)."""
    csv = format in ("csv", "xlsx")  # an export: errors as JSON

    def bad(message: str) -> Response:
        if csv:
            return JSONResponse({"detail": message}, 422)
        return _error(request, 422, "Bad request", message)

    if format not in (None, "html", "csv", "xlsx"):
        return bad(f"format must be html, csv or xlsx; got {format!r}")
    try:
        only = view.source_choice(source)
    except view.BadInput as error:
        return bad(str(error))
    asked = [part for part in (c or "").split(",") if part.strip()]
    if not asked and not csv:
        held = (add or "").strip()[:40]
        asked_text = f"{held}," if held else ""
        return _page(
            request, "compare.html", found=None, asked=asked_text, source=only, most=MAX_COMPARED
        )
    try:
        found = compare(session, asked, only)
    except BadCountries as error:
        return bad(str(error))
    if csv:
        rows, columns = _matrix_rows(found)
        name = "compare-" + "-".join(x["iso3"] for x in found["countries"])
        return respond(rows, "xlsx" if format == "xlsx" else "csv", columns, name)
    codes = ",".join(x["iso3"] for x in found["countries"])
    query = {"c": codes, **({"source": only} if only else {})}
    return _page(
        request,
        "compare.html",
        found=found,
        asked=codes,
        source=only,
        sources=view.sources(),
        standings=STANDINGS,
        most=MAX_COMPARED,
        csv_link="/compare?" + urlencode(query | {"format": "csv"}, quote_via=quote, safe=","),
    )
