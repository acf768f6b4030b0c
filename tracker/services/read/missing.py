"""Who has not joined a treaty: the States of a reference list (tracker.reference: the UN
Member States, and the observer States a treaty is known to be open to) with no consent to be
bound on the treaty's latest status, split into "signed, not ratified" and "not signed", and the
States whose instrument was withdrawn (listed as such, with their dates, never silently missing).

Observer States (the Holy See, the State of Palestine): the tracker does not read a treaty's
participation clause, so it cannot tell a treaty open to "all States" from one open to the
Members of the United Nations only. An observer State is counted when the treaty's page lists
it (it signed or deposited an instrument, so the treaty is open to it); one the page does not
list is left out, and the answer says so (`observers`). A participant that is no UN Member nor
observer (the European Union and other organizations, the Cook Islands, Niue, a dissolved State)
is never missing (`not_in_reference`); a participant the tracker cannot match to an ISO code is
named in a warning, not dropped.

`not_joined` is pure (a status, a reference list, the withdrawals read from the footnotes);
`treaty_missing` reads the latest snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy.orm import Session

from db.models import Snapshot, Treaty
from tracker.catalogue import catalogue
from tracker.domain.endings import Ending
from tracker.domain.models import Action, Column, Participant, TreatyStatus
from tracker.domain.withdrawals import read_withdrawals
from tracker.reference import ReferenceList, State, un_members
from tracker.services.answer_cache import ANSWERS
from tracker.services.read.common import NotFound, iso_or_none
from tracker.services.read.treaties import find_treaty
from tracker.services.repository import latest_snapshot
from tracker.services.rule_context import footnotes_of
from tracker.services.rule_events import rule_of
from tracker.sources import registry

OBSERVERS_RULE = (
    "observer States are counted where the treaty's page lists them (the tracker does not read "
    "participation clauses, so a treaty open to all States and one open to UN Members only look "
    "the same); one not listed is left out, not counted as missing"
)


@dataclass(frozen=True)
class _Standing:
    """One reference State's rows on the page, merged (a State printed twice is one State)."""

    state: State
    rows: tuple[Participant, ...]

    def _acts(self, column: Column) -> list[Action]:
        return sorted(
            (a for p in self.rows for a in p.actions if a.column is column), key=lambda a: a.date
        )

    @property
    def party(self) -> bool:
        return any(p.is_party for p in self.rows)

    @property
    def signature(self) -> Action | None:
        live = [a for a in self._acts(Column.SIGNATURE) if not a.withdrawn]
        return live[0] if live else None

    @property
    def withdrawn(self) -> bool:
        return any(p.withdrawn for p in self.rows)

    @property
    def provisional(self) -> Action | None:
        live = [a for a in self._acts(Column.PROVISIONAL) if not a.withdrawn]
        return live[0] if live else None

    def printed(self) -> str | None:
        return self.rows[0].name if self.rows else None


def _entry(s: _Standing) -> dict[str, Any]:
    signature = s.signature
    provisional = s.provisional
    return {
        "iso3": s.state.iso3,
        "name": s.state.name,
        "signed": iso_or_none(signature.date) if signature else None,
        "member": s.state.admitted is not None,
        "printed_name": s.printed(),
        "provisional_application": iso_or_none(provisional.date) if provisional else None,
    }


def _withdrawn_entry(s: _Standing, endings: Sequence[Ending]) -> dict[str, Any]:
    def acts(column: Column) -> list[dict[str, Any]]:
        return [
            {"kind": a.kind, "date": a.date.isoformat(), "withdrawn": a.withdrawn}
            for a in s._acts(column)
        ]

    consents = acts(Column.CONSENT)
    signatures = acts(Column.SIGNATURE)
    return _entry(s) | {
        "signed": signatures[0]["date"] if signatures else None,
        "signatures": signatures,
        "consents": consents,
        "withdrawals": [e.to_dict() for e in endings],
    }


def not_joined(
    status: TreatyStatus,
    reference: ReferenceList,
    endings: Mapping[str, Sequence[Ending]] | None = None,
) -> dict[str, Any]:
    """Who of `reference` has no consent to be bound on `status` (see the module's words).

    `endings`: the withdrawals read from the status's footnotes, per participant key (their
    dates go with the withdrawn States; none: dates not known)."""
    endings = endings or {}
    rows: dict[str, list[Participant]] = {}
    outside: list[dict[str, Any]] = []
    warnings: list[str] = []
    known = {s.iso3: s for s in (*reference.members, *reference.observers)}
    for p in status.participants:
        if p.iso3 in known:
            rows.setdefault(p.iso3, []).append(p)
        elif p.iso3 is not None or p.reio:
            outside.append({"name": p.name, "iso3": p.iso3, "reio": p.reio})
        else:
            warnings.append(
                f"participant {p.name!r} could not be matched to an ISO 3166 code: not compared "
                f"with the reference list ({reference.id} version {reference.version})"
            )
    observers = []
    counted: list[State] = list(reference.members)
    for o in reference.observers:
        listed = o.iso3 in rows
        observers.append(
            {
                "iso3": o.iso3,
                "name": o.name,
                "counted": listed,
                "why": "listed on the treaty's page"
                if listed
                else "not on the treaty's page: whether the treaty is open to it is not known",
            }
        )
        if listed:
            counted.append(o)
    parties, signed, unsigned, withdrawn = [], [], [], []
    for state in counted:
        standing = _Standing(state, tuple(rows.get(state.iso3, ())))
        if standing.party:
            parties.append(state.iso3)
        elif standing.withdrawn:
            keys = {p.key for p in standing.rows}
            ends = [e for k in sorted(keys) for e in endings.get(k, ())]
            withdrawn.append(_withdrawn_entry(standing, ends))
        elif standing.signature is not None:
            signed.append(_entry(standing))
        else:
            unsigned.append(_entry(standing))
    by_name = itemgetter("name")
    return {
        "reference": reference.describe(),
        "observers": observers,
        "observers_rule": OBSERVERS_RULE,
        "counts": {
            "reference": len(counted),
            "parties": len(parties),
            "signed_not_ratified": len(signed),
            "not_signed": len(unsigned),
            "withdrawn": len(withdrawn),
        },
        "signed_not_ratified": sorted(signed, key=by_name),
        "not_signed": sorted(unsigned, key=by_name),
        "withdrawn": sorted(withdrawn, key=by_name),
        "not_in_reference": sorted(outside, key=by_name),
        "warnings": warnings,
    }


def snapshot_not_joined(
    session: Session,
    treaty: Treaty,
    slug: str,
    snapshot: Snapshot,
    reference: ReferenceList | None = None,
) -> dict[str, Any]:
    """`not_joined` of one snapshot of `treaty`, with the withdrawals its footnotes and the
    treaty's rule give (what the treaty page, `treaty_missing` and the country pages share).
    Cached per snapshot, content, reference list and catalogue version."""
    reference = reference or un_members()
    key = (
        "not_joined",
        slug,
        treaty.external_id,
        snapshot.id,
        snapshot.content_hash,
        reference.id,
        reference.version,
        catalogue(slug).version,
    )
    cached = ANSWERS.get(session, key)
    if isinstance(cached, dict):
        return cached
    status = TreatyStatus.from_dict(snapshot.data)
    rule = rule_of(session, treaty, status)
    endings = read_withdrawals(
        status, footnotes_of(session, treaty), rule.withdrawal if rule else None
    ).endings
    answer = not_joined(status, reference, endings)
    ANSWERS.put(session, key, answer)
    return answer


def treaty_missing(
    session: Session, treaty_id: str, reference: ReferenceList | None = None
) -> dict[str, Any]:
    """The "not yet joined" answer of a treaty from its latest snapshot (`not_joined`), with
    the treaty, its observation and the reference list it was computed against."""
    treaty, slug = find_treaty(session, treaty_id)
    snapshot = latest_snapshot(session, treaty.id)
    if snapshot is None:
        raise NotFound(f"treaty {treaty.external_id!r} has no accepted snapshot yet")
    answer = snapshot_not_joined(session, treaty, slug, snapshot, reference)
    return {
        "treaty": registry.public_id(slug, treaty.external_id),
        "title": snapshot.data.get("title", treaty.title),
        "source": slug,
        "observed_at": iso_or_none(snapshot.observed_at),
        "status_as_at": iso_or_none(snapshot.status_as_at),
        "source_url": snapshot.url,
        **answer,
    }
