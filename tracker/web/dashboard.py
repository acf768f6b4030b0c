"""The dashboard: server-rendered HTML pages over the read side (overview, treaty; the country
pages are tracker.web.countries).

Query parameters are read as text and checked here, so that bad input gets an HTML page with
a clear message (422) rather than the API's JSON; unknown treaties and countries get a 404 page.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from db.vocabulary import DigestMode, EventState, HealthState, SubscriptionState
from tracker.services.read import events, sources, treaties
from tracker.services.read.common import NotFound
from tracker.services.read.forecast import answer_forecast
from tracker.services.read.freshness import printed_note
from tracker.services.read.missing import treaty_missing
from tracker.services.read.notes import participant_notes
from tracker.services.read.status import current_answer, treaty_answer
from tracker.services.unit_of_work import Session
from tracker.web import dashboard_view as view
from tracker.web.dashboard_chart import layout, series_for
from tracker.web.deps import confirm_after, get_session, today

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["when"] = view.when
templates.env.filters["sentence"] = view.sentence
templates.env.filters["words"] = view.words
templates.env.globals["printed_note"] = printed_note
# The stored words a template tests (e.g. `e.state != EventState.FINAL`), from their one home.
templates.env.globals.update(
    EventState=EventState,
    HealthState=HealthState,
    SubscriptionState=SubscriptionState,
    DigestMode=DigestMode,
)
router = APIRouter(include_in_schema=False)

DB = Annotated[Session, Depends(get_session)]
Today = Annotated[date, Depends(today)]
EVENTS_SHOWN = 50  # newest first; the rest through the API's CSV/JSON and the feed


def mount_static(app: FastAPI) -> None:
    """Serve the dashboard's CSS and JS under /static."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _error(request: Request, status_code: int, title: str, message: str) -> HTMLResponse:
    return _page(request, "error.html", status_code, title=title, message=message)


@router.get("/", response_class=HTMLResponse)
def overview_page(
    request: Request,
    session: DB,
    day: Today,
    q: str | None = None,
    sort: str | None = None,
    source: str | None = None,
    stage: str | None = None,
    chapter: str | None = None,
    page: str | None = None,
) -> HTMLResponse:
    """Every tracked treaty: stage, entry into force (computed and printed), progress to the
    threshold, counts, the depositary's "status as at" beside the observation, source health;
    filters by words, source, stage and chapter; closest to entering into force first; paged."""
    try:
        order = view.choice("sort", sort, view.OVERVIEW_SORTS)
        only = view.source_choice(source)
        at_stage = view.stage_choice(stage)
        in_chapter = view.chapter_choice(chapter)
        number = view.page_choice(page)
    except view.BadInput as error:
        return _error(request, 422, "Bad request", str(error))
    text = (q or "").strip()[:200]
    found = treaties.treaties_overview(session, today=day, q=text or None, source=only, sort=order)
    chapters = sorted({r["chapter"] for r in found if r.get("chapter")}, key=view.roman_order)
    rows = treaties.filtered(found, stage_is=at_stage, chapter=in_chapter)
    pages = max(1, -(-len(rows) // view.PAGE_SIZE))
    shown = rows[(number - 1) * view.PAGE_SIZE : number * view.PAGE_SIZE]
    for row in shown:
        row["progress"] = view.named_progress(row)
        row["eif"] = view.eif_of(row)
        row["printed_note"] = printed_note(row.get("status_as_at"), row.get("observed_at"))
    listed = sources.sources(session)
    current = {"q": text, "sort": order, "source": only, "stage": at_stage, "chapter": in_chapter}
    return _page(
        request,
        "overview.html",
        rows=shown,
        total=len(rows),
        page=number,
        pages=pages,
        first=(number - 1) * view.PAGE_SIZE + 1,
        q=text,
        sort=order,
        source=only,
        stage=at_stage,
        stages=treaties.STAGES,
        chapter=in_chapter,
        chapters=chapters,
        sources=view.sources(),
        link=view.overview_linker(current),
        unhealthy=[s for s in listed if not s.healthy],
    )


@router.get("/treaties/{treaty_id}", response_class=HTMLResponse)
def treaty_page(
    request: Request,
    treaty_id: str,
    session: DB,
    day: Today,
    as_of: str | None = None,
    filter: str | None = None,
    sort: str | None = None,
) -> HTMLResponse:
    """A treaty: counts, rule, dates, chart, participants and events."""
    try:
        on = view.parse_as_of(as_of)
        which = view.choice("filter", filter, view.FILTERS)
        order = view.choice("sort", sort, view.PARTICIPANT_SORTS)
    except view.BadInput as error:
        return _error(request, 422, "Bad request", str(error))
    try:
        if on is None:  # today's answer, kept under all it is computed from
            answer = current_answer(session, treaty_id, day)
        else:
            answer = treaty_answer(
                session, treaty_id, as_of=on, today=day, confirm_after=confirm_after(request)
            )
    except NotFound as error:
        return _error(request, 404, "Treaty not found", str(error))
    treaty, ev = answer.treaty, answer.evaluation
    # The answer may be shared (kept): its participants are copied before they are marked.
    found = answer.status | {"participants": [dict(p) for p in answer.status["participants"]]}
    # The forecast answers for today only (a page as of a past date shows none).
    forecast = answer_forecast(session, answer, today=day) if on is None else None
    series = series_for(ev, on or day, forecast) if ev is not None else None
    participants = sorted(found["participants"], key=view.participant_key(order))
    for p in participants:
        p["categories"] = view.categories(p)
    counts = {k: sum(1 for p in participants if k in p["categories"]) for k in view.FILTERS}
    counts["all"] = len(participants)
    # Who has not joined, from the latest status (not computed for a past date).
    missing = treaty_missing(session, treaty_id) if on is None else None
    # Footnotes and declarations next to each participant, from the latest page likewise.
    # (treaty_notes's: the answer's own latest status is that page's)
    notes = participant_notes(answer.parsed) if on is None and answer.parsed else {}
    names = {p["iso3"]: p["name"] for p in participants if p["iso3"]}
    for code in {m for g in found["groups"] for m in g["missing"]} - names.keys():
        names[code] = view.country_name(code)
    return _page(
        request,
        "treaty.html",
        t=found,
        source_title=view.sources().get(found["source"], found["source"]),
        printed_in_force=any(p.get("published_in_force_from") for p in participants),
        stage=view.treaty_stage(found, on or day),
        goal=view.named_progress(found | {"threshold": view.needed(found)}),
        chart=layout(series) if series else None,
        forecast=forecast.to_dict() if forecast else None,
        participants=participants,
        filters=view.FILTERS,
        filter=which,
        counts=counts,
        missing=missing,
        notes=notes,
        sort=order,
        names=names,
        events=events.events(session, treaty_id=treaty.id, limit=EVENTS_SHOWN + 1),
        events_shown=EVENTS_SHOWN,
        as_of=on,
        link=view.linker(
            found["treaty"], as_of=on.isoformat() if on else None, filter=which, sort=order
        ),
    )


# The country pages (index, one country by code or name, the comparison): tracker.web.countries.
