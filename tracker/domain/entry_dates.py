"""When a rule met brings the treaty into force: for the treaty, and for each participant.

Standard library only. The treaty's date: the rule's delay from the day it was met (or its fixed
date), never before `not_before` nor before another treaty it waits for; each participant's:
the treaty's, or its own later one where the rule gives the delay for those joining later.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from tracker.domain.models import Action, Column, Participant, TreatyStatus
from tracker.domain.rules import Rule


def entry_date(rule: Rule, met: date) -> date:
    if rule.fixed_date is not None and met <= rule.fixed_date:
        when = rule.fixed_date
    else:
        when = rule.delay.apply(met)
    return max(when, rule.not_before) if rule.not_before else when


def _consent(p: Participant) -> Action | None:
    """A participant's consent to be bound: its consent-column action or a definitive signature."""
    acts = [a for a in p.actions if a.column is Column.CONSENT or a.kind == "definitive_signature"]
    return min(acts, key=lambda a: a.date) if acts else None


def participants_in_force_from(
    rule: Rule, status: TreatyStatus, met: date, eif: date, as_of: date | None
) -> dict[str, date | None]:
    """Entry into force for each participant with a consent: the treaty's date, or its own
    (None: it joined after the rule was met and the rule does not give the later delay, or it
    succeeded: a successor State is bound from the date of the succession of States, which is
    neither its notification's deposit nor on the page; `succession_unknown` names them)."""
    result: dict[str, date | None] = {}
    later = rule.later_delay()
    for p in status.participants:
        consent = _consent(p)
        if consent is None or (as_of is not None and consent.date > as_of):
            continue
        if consent.date <= met:
            result[p.key] = eif
        elif (
            consent.kind == "succession" or later is None
        ):  # bound from the succession of States: not known
            result[p.key] = None
        else:
            result[p.key] = max(eif, later.apply(consent.date))
    return result


def succession_unknown(
    status: TreatyStatus, in_force_from: Mapping[str, date | None]
) -> str | None:
    """The warning naming the successors whose date of succession of States is not known."""
    names = [
        p.name
        for p in status.participants
        if p.key in in_force_from and in_force_from[p.key] is None and _succeeded(p)
    ]
    if not names:
        return None
    return (
        "a successor State is bound from the date of the succession of States, which the page"
        " does not give (its notification's deposit is not that date); not known for: "
        + ", ".join(names)
    )


def _succeeded(p: Participant) -> bool:
    consent = _consent(p)
    return consent is not None and consent.kind == "succession"


def later_unknown(
    rule: Rule, status: TreatyStatus, in_force_from: Mapping[str, date | None]
) -> str | None:
    """The warning naming who joined after the rule was met when the later delay is unknown."""
    names = [
        p.name
        for p in status.participants
        if p.key in in_force_from and in_force_from[p.key] is None and not _succeeded(p)
    ]
    if not names:
        return None
    return (
        "the rule does not say when the treaty enters into force for a participant joining"
        " after it was met; not known for: " + ", ".join(names)
    )


def after_treaty(
    rule: Rule, computed: date | None, others: Mapping[str, date | None] | None, warnings: list[str]
) -> date | None:
    """Not before the other treaty's entry into force (its date from `others`); unknown: the
    catalogue's not_before fallback if there is one, else a warning and no date."""
    if rule.after_treaty is None or computed is None:
        return computed
    other = (others or {}).get(rule.after_treaty)
    if other is not None:
        return max(computed, other)
    if rule.not_before is not None:
        return computed  # not_before, already applied, stands for the other treaty's date
    warnings.append(
        f"enters into force not before {rule.after_treaty} does, whose entry into force is not"
        " known; no date is computed"
    )
    return None
