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

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from db.models import ConditionConfirmation, Snapshot, Source, Treaty
from tracker.catalogue import catalogue, rule_for
from tracker.domain.evaluate import evaluate
from tracker.domain.models import TreatyStatus
from tracker.domain.rules import Rule
from tracker.services.answer_cache import ANSWERS
from tracker.services.read.common import NotFound, iso_or_none
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


# `find_treaty`'s queries, built once (a statement's construction costs as much as its run).
_IN_SOURCE = (
    select(Treaty, Source.slug)
    .join(Source, Source.id == Treaty.source_id)
    .where(Source.slug == bindparam("slug"))
)
_BY_ID = _IN_SOURCE.where(Treaty.external_id == bindparam("own"))
_BY_FOLDED_ID = _IN_SOURCE.where(func.upper(Treaty.external_id) == bindparam("own"))


def find_treaty(session: Session, treaty_id: str) -> tuple[Treaty, str]:
    """The treaty a public id names, and its source's slug.

    A public id names one source (tracker.sources.registry: `<prefix><id>`; UNTC's ids have no
    prefix) and that source's own id: the exact id, else the only one equal to it ignoring case.
    """
    found = registry.split_id(treaty_id)
    if found is None:
        raise NotFound(f"unknown treaty {treaty_id!r}", cli_hint="tracker treaties")
    source, own = found
    row = session.execute(_BY_ID, {"slug": source.slug, "own": own}).first()
    if row is None:
        rows = session.execute(_BY_FOLDED_ID, {"slug": source.slug, "own": own.strip().upper()})
        found_rows = rows.all()
        row = found_rows[0] if len(found_rows) == 1 else None
    if row is None:
        raise NotFound(f"unknown treaty {treaty_id!r}", cli_hint="tracker treaties")
    return row[0], row[1]


# One treaty of the list: its row, the treaty, and its latest snapshot's id and content hash.
Listed = tuple[dict[str, Any], Treaty, int, str]
# A treaty's latest snapshot (id, content hash), per (source row id, external id).
LatestOf = dict[tuple[int, str], tuple[int, str]]


def _listing(session: Session, source: str | None) -> list[Listed]:
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
            Snapshot.id,
            Snapshot.content_hash,
        )
        .join(Source, Source.id == Treaty.source_id)
        .join(Snapshot, Snapshot.treaty_id == Treaty.id)
        .join(ranked, (ranked.c.id == Snapshot.id) & (ranked.c.rn == 1))
    )
    if source is not None:
        query = query.where(Source.slug == source)
    found: list[Listed] = [
        (
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
            },
            treaty,
            snapshot_id,
            content_hash,
        )
        for (
            treaty,
            slug,
            observed,
            printed,
            signatories,
            parties,
            in_force,
            snapshot_id,
            content_hash,
        ) in session.execute(query)
    ]
    return sorted(found, key=lambda listed: sort_key(listed[0]["treaty"]))


def list_treaties(session: Session, source: str | None = None) -> list[dict[str, Any]]:
    """List every treaty with its latest counts, by source, each in its source's order
    (`source`: that source's only)."""
    return [row for row, *_ in _listing(session, source)]


def _all_confirmations(session: Session) -> dict[int, tuple[tuple[str, date], ...]]:
    """Every treaty's operator confirmations, (key, date) sorted, per treaty row id."""
    found: dict[int, list[tuple[str, date]]] = {}
    query = select(
        ConditionConfirmation.treaty_id, ConditionConfirmation.key, ConditionConfirmation.met_on
    )
    for treaty_id, key, met_on in session.execute(query):
        found.setdefault(treaty_id, []).append((key, met_on))
    return {t: tuple(sorted(pairs)) for t, pairs in found.items()}


def _others_read(rule: Rule) -> tuple[str, ...]:
    """The other treaties (external ids, same source) a rule reads: after_treaty, share_of."""
    others = (rule.after_treaty, rule.share_of.treaty if rule.share_of is not None else None)
    return tuple(o for o in others if o is not None)


def _others_state(
    treaty: Treaty, others: tuple[str, ...], latest_of: LatestOf
) -> tuple[tuple[str, tuple[int, str] | None], ...]:
    """Each other treaty's latest snapshot (id, content hash; None: not tracked or none yet),
    all of it that rule_context reads of them."""
    return tuple((o, latest_of.get((treaty.source_id, o))) for o in others)


def _latest_of(session: Session, treaty: Treaty, others: tuple[str, ...]) -> LatestOf:
    """`_others_state`'s input read afresh (repository.latest_snapshot's choice) for `others`."""
    found: LatestOf = {}
    for other in others:
        row = session.execute(
            select(Snapshot.id, Snapshot.content_hash)
            .join(Treaty, Treaty.id == Snapshot.treaty_id)
            .where(Treaty.source_id == treaty.source_id, Treaty.external_id == other)
            .order_by(Snapshot.observed_at.desc(), Snapshot.id.desc())
            .limit(1)
        ).first()
        if row is not None:
            found[(treaty.source_id, other)] = (row[0], row[1])
    return found


def _progress(
    session: Session,
    listed: Listed,
    today: date,
    confirmed_key: tuple[tuple[str, date], ...],
    latest_of: LatestOf,
) -> dict[str, Any]:
    """A treaty's rule progress, kept under everything it is computed from: its latest
    snapshot (id and content hash: ids repeat across databases, one process may serve several
    as the test suite does), its confirmations, today, the catalogue's version, and for a rule
    that reads other treaties (after_treaty, share_of) their latest snapshots too. The inputs
    come from the list's own queries (`_listing`, `_all_confirmations`); a miss computes from
    those very snapshots and keeps the result only when the confirmations and the other
    treaties' snapshots it read are still those of the key."""
    row, treaty, snapshot_id, content_hash = listed
    slug = row["source"]
    base = (
        slug,
        treaty.external_id,
        snapshot_id,
        content_hash,
        confirmed_key,
        today,
        catalogue(slug).version,
    )
    cached = ANSWERS.get(session, ("progress", *base))
    if isinstance(cached, dict):
        return cached
    reads = ANSWERS.get(session, ("progress-reads", *base))
    if isinstance(reads, dict):
        others_key = ("progress-with", *base, _others_state(treaty, reads["others"], latest_of))
        cached = ANSWERS.get(session, others_key)
        if isinstance(cached, dict):
            return cached
    data = session.scalar(select(Snapshot.data).where(Snapshot.id == snapshot_id))
    status = TreatyStatus.from_dict(data or {})
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
    confirmed = confirmations(session, treaty.id)
    if rule is not None:
        # what the rule needs from other treaties (their latest snapshots: in the key below)
        context = rule_context(session, treaty, rule, slug=slug)
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
    if tuple(sorted(confirmed.items())) != confirmed_key:
        return found  # a confirmation changed since the key was read: not kept under it
    others = _others_read(rule) if rule is not None else ()
    if not others:
        ANSWERS.put(session, ("progress", *base), found)
        return found
    state = _others_state(treaty, others, latest_of)
    if state != _others_state(treaty, others, _latest_of(session, treaty, others)):
        return found  # another treaty's snapshot came in meanwhile: not kept under the old key
    ANSWERS.put(session, ("progress-reads", *base), {"others": others})
    ANSWERS.put(session, ("progress-with", *base, state), found)
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
    listing = _listing(session, source)
    latest_of = {(t.source_id, t.external_id): (i, h) for _, t, i, h in listing}
    confirmed = _all_confirmations(session)
    rows = []
    for listed in listing:
        row, treaty = listed[0], listed[1]
        if q and not matches(q, row["treaty"], row["title"]):
            continue
        row = row | _progress(session, listed, today, confirmed.get(treaty.id, ()), latest_of)
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
