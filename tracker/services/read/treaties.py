"""The read side of treaties: the lookup by id, the list with the latest counts (MTDSG
order), the overview with each treaty's rule progress and stage.

Each treaty's progress is cached (tracker.services.answer_cache) per (snapshot and its
content hash, confirmations, day): a snapshot never changes, so a poll that finds nothing new
costs no re-evaluation.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Snapshot, Source, Treaty
from tracker.catalogue import catalogue, rule_for
from tracker.domain.evaluate import evaluate
from tracker.domain.models import TreatyStatus
from tracker.services.answer_cache import ANSWERS
from tracker.services.read.common import NotFound, iso_or_none
from tracker.services.repository import latest_snapshot
from tracker.services.rule_context import rule_context
from tracker.services.rule_events import confirmations
from tracker.sources import registry
from tracker.sources.registry import sort_key

STAGES = ("not in force", "threshold met", "in force")
# "treaty": the depositaries' own order; "remaining": fewest instruments remaining first;
# "closest": closest to entering into force: not in force (fewest remaining first, those with
# no known rule after), then threshold met (soonest date first), then in force.
OVERVIEW_SORTS = ("treaty", "remaining", "closest")

__all__ = [
    "OVERVIEW_SORTS",
    "STAGES",
    "filtered",
    "find_treaty",
    "list_treaties",
    "matches",
    "sort_key",
    "stage",
    "treaties_overview",
]

_WORD = re.compile(r"[^\W_]+")


def _fold(text: str) -> str:
    """Case and accents folded ("Côte" -> "cote")."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in folded if not unicodedata.combining(c))


def matches(query: str, *texts: str) -> bool:
    """Whether a search finds a text, case and accents folded: the query as one piece of a
    text (an id or part of one, "xxvi-2-"), or, for a query of several words, each word as the
    start of a word of the texts, in any order ("Nuclear Test" finds "Comprehensive
    Nuclear-Test-Ban Treaty", "test ban" too)."""
    piece = _fold(query.strip())
    if not piece:
        return True
    folded = [_fold(t) for t in texts]
    if any(piece in t for t in folded):
        return True
    wanted = _WORD.findall(piece)
    if len(piece.split()) < 2 or not wanted:
        return False
    have = [w for t in folded for w in _WORD.findall(t)]
    return all(any(h.startswith(w) for h in have) for w in wanted)


def find_treaty(session: Session, treaty_id: str) -> tuple[Treaty, str]:
    """The treaty a public id names, and its source's slug.

    A public id names one source (tracker.sources.registry: `<prefix><id>`; UNTC's ids have no
    prefix) and that source's own id: the exact id, else the only one equal to it ignoring case.
    """
    found = registry.split_id(treaty_id)
    if found is None:
        raise NotFound(f"unknown treaty {treaty_id!r}", cli_hint="tracker treaties")
    source, own = found
    query = (
        select(Treaty, Source.slug)
        .join(Source, Source.id == Treaty.source_id)
        .where(Source.slug == source.slug)
    )
    row = session.execute(query.where(Treaty.external_id == own)).first()
    if row is None:
        folded = query.where(func.upper(Treaty.external_id) == own.strip().upper())
        rows = session.execute(folded).all()
        row = rows[0] if len(rows) == 1 else None
    if row is None:
        raise NotFound(f"unknown treaty {treaty_id!r}", cli_hint="tracker treaties")
    return row[0], row[1]


def list_treaties(session: Session, source: str | None = None) -> list[dict[str, Any]]:
    """List every treaty with its latest counts, by source, each in its source's order
    (`source`: that source's only)."""
    order = (Snapshot.observed_at.desc(), Snapshot.id.desc())
    ranked = select(
        Snapshot.id,
        func.row_number().over(partition_by=Snapshot.treaty_id, order_by=order).label("rn"),
    ).subquery()
    query = (
        select(
            Treaty,
            Source.slug,
            Snapshot.observed_at,
            Snapshot.status_as_at,
            Snapshot.signatories,
            Snapshot.parties,
            Snapshot.in_force,
        )
        .join(Source, Source.id == Treaty.source_id)
        .join(Snapshot, Snapshot.treaty_id == Treaty.id)
        .join(ranked, (ranked.c.id == Snapshot.id) & (ranked.c.rn == 1))
    )
    if source is not None:
        query = query.where(Source.slug == source)
    rows = [
        {
            "treaty": registry.public_id(slug, treaty.external_id),
            "title": treaty.title,
            "source": slug,
            "signatories": signatories,
            "parties": parties,
            "in_force": in_force,
            "observed_at": iso_or_none(observed),
            # the depositary's own "status as at" stamp of that page (None: it prints none)
            "status_as_at": iso_or_none(printed),
            "last_checked_at": iso_or_none(treaty.last_checked_at),
            "source_url": treaty.url,
        }
        for treaty, slug, observed, printed, signatories, parties, in_force in session.execute(
            query
        )
    ]
    return sorted(rows, key=lambda r: sort_key(r["treaty"]))


def _progress(session: Session, treaty: Treaty, slug: str, today: date) -> dict[str, Any]:
    snapshot = latest_snapshot(session, treaty.id)
    if snapshot is None:
        return {}
    confirmed = confirmations(session, treaty.id)
    # The content hash too: snapshot ids repeat across databases (one process may serve several,
    # as the test suite does), and an id alone returned another treaty's progress.
    key = (
        "progress",
        slug,
        treaty.external_id,
        snapshot.id,
        snapshot.content_hash,
        tuple(sorted(confirmed.items())),
        today,
        catalogue(slug).version,
    )
    cached = ANSWERS.get(session, key)
    if isinstance(cached, dict):
        return cached
    status = TreatyStatus.from_dict(snapshot.data)
    rule = rule_for(slug, treaty.external_id, status)
    found: dict[str, Any] = {
        "threshold": None,
        "qualifying_instruments": None,
        "remaining": None,
        "threshold_met_on": None,
        "entry_into_force": None,
        "rule_origin": None,
        "published_entry_into_force": iso_or_none(status.eif_date),
        "chapter": status.chapter,  # as the page prints it (UNTC: XXVI); None where it has none
    }
    context: dict[str, Any] = {}
    if rule is not None:
        # what the rule needs from other treaties (their dates are not in the cache key)
        context = rule_context(session, treaty, rule)
        ev = evaluate(rule, status, confirmations=confirmed, today=today, **context)
        needed = (
            rule.threshold if rule.threshold is not None else sum(g.group.needed for g in ev.groups)
        )
        found |= {
            "threshold": needed,
            "qualifying_instruments": ev.qualifying,
            "remaining": ev.remaining,
            "threshold_met_on": iso_or_none(ev.threshold_met_on),
            "entry_into_force": iso_or_none(ev.computed),
            "rule_origin": rule.origin,
            "agrees": ev.agrees,
        }
    if rule is not None and (rule.after_treaty is not None or rule.share_of is not None):
        return found  # it depends on other treaties, whose dates are not in the cache key
    ANSWERS.put(session, key, found)
    return found


def stage(row: dict[str, Any], today: date) -> str:
    """not in force / threshold met / in force: by the computed date, else the printed one."""
    eif = row.get("entry_into_force") or row.get("published_entry_into_force")
    if (eif and eif <= today.isoformat()) or (row.get("in_force") and row.get("threshold") is None):
        return "in force"
    if row.get("threshold_met_on"):
        return "threshold met"
    return "not in force"


def treaties_overview(
    session: Session,
    *,
    today: date,
    q: str | None = None,
    source: str | None = None,
    in_force: bool | None = None,
    sort: str = "treaty",
    stage_is: str | None = None,
    chapter: str | None = None,
) -> list[dict[str, Any]]:
    """Every tracked treaty with counts, rule progress, stage and its source's health.

    `q`: words of the id or title (`matches`); `stage_is`: one of STAGES; `chapter`: the
    chapter as printed (XXVI), case ignored; `sort`: one of OVERVIEW_SORTS."""
    health = {s.slug: s for s in session.scalars(select(Source))}
    treaties = {
        (registry.public_id(slug, t.external_id), slug): t for t, slug in _treaties(session)
    }
    rows = []
    for row in list_treaties(session, source):
        if q and not matches(q, row["treaty"], row["title"]):
            continue
        treaty = treaties.get((row["treaty"], row["source"]))
        if treaty is None:
            continue
        row = row | _progress(session, treaty, row["source"], today)
        row["stage"] = stage(row, today)
        src = health.get(row["source"])
        row["source_healthy"] = src.healthy if src else None
        if in_force is not None and (row["stage"] == "in force") != in_force:
            continue
        rows.append(row)
    rows = filtered(rows, stage_is=stage_is, chapter=chapter)
    if sort == "remaining":
        rows.sort(
            key=lambda r: (r["remaining"] is None, r["remaining"] or 0, sort_key(r["treaty"]))
        )
    elif sort == "closest":
        rows.sort(key=_closeness)
    return rows


def filtered(
    rows: list[dict[str, Any]], *, stage_is: str | None = None, chapter: str | None = None
) -> list[dict[str, Any]]:
    """The overview rows at a stage (one of STAGES) and of a chapter (as printed, case
    ignored); None: any."""
    return [
        r
        for r in rows
        if (stage_is is None or r["stage"] == stage_is)
        and (chapter is None or (r.get("chapter") or "").casefold() == chapter.casefold())
    ]


def _closeness(row: dict[str, Any]) -> tuple[Any, ...]:
    """The "closest" order: by stage (not in force, threshold met, in force); not in force by
    instruments remaining (unknown last), threshold met by its entry-into-force date."""
    remaining = row.get("remaining")
    when = row.get("entry_into_force") or row.get("published_entry_into_force") or "9999"
    by_stage = STAGES.index(row["stage"])
    if by_stage == 0:
        return (0, remaining is None, remaining or 0, "", sort_key(row["treaty"]))
    return (by_stage, False, 0, when if by_stage == 1 else "", sort_key(row["treaty"]))


def _treaties(session: Session) -> list[tuple[Treaty, str]]:
    query = select(Treaty, Source.slug).join(Source, Source.id == Treaty.source_id)
    return [(t, slug) for t, slug in session.execute(query)]
