"""Entry-into-force rules: what counts, how many, which further conditions, and the delay.

Standard library only, no I/O, no clock. A rule is built from a *spec*, the plain mapping that the
curated catalogue (TOML) and the text extractor both produce, so there is one schema:

    threshold = 40                                   # N qualifying instruments (omit: no count)
    counts = ["ratification", "acceptance", "approval", "accession"]
    reio = "not_additional"                          # | "not_counted" | "as_state" | "unknown"
    delay = { days = 90 }                            # see DELAY_KINDS
    later = { days = 30 }                            # for a participant joining afterwards
                                                     # (omit: unknown, never the main delay)
    not_before = 1995-01-13                          # never earlier than this date
    after_treaty = "IV-4"                            # never before that treaty's entry into
                                                     # force (same source; not_before: fallback)
    only = "states"                                  # who counts: States (no organizations)
    only = { label = "...", participants = ["AUT", ...] }   # or: members of a group (ISO3)
    share_of = { treaty = "XXVII-7", numerator = 3, denominator = 4 }
                                                     # threshold: that share of that treaty's
                                                     # parties on the day (instead of threshold)
    fixed_date = 2019-01-01                          # on this date if met by then, else delay
    all_of = { label = "...", participants = ["DZA", ...] }
    at_least = [{ k = 3, label = "...", participants = ["ALB", ...] }]
    conditions = [{ key = "emissions", description = "..." }]   # confirmed by an operator
    citation = "art. 65(1)"
    withdrawal = { months = 6 }                      # a withdrawal takes effect this long after
    withdrawal_citation = "art. 20(3)"               #   its notification (the treaty's clause)

The spec is read by tracker.domain.rule_spec.rule_from_spec; the delays are tracker.domain.delays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from tracker.domain.delays import Delay, RuleError

# Kinds of instrument a rule may count (the action kinds of tracker.domain.models).
CONSENT_KINDS: tuple[str, ...] = (
    "ratification",
    "acceptance",
    "approval",
    "accession",
    "succession",
    "formal_confirmation",
    "definitive_signature",
    "consent_to_be_bound",
    "participation",
)
DEFAULT_COUNTS: tuple[str, ...] = ("ratification", "acceptance", "approval", "accession")


class Reio(StrEnum):
    """How an instrument of a regional economic integration organization counts."""

    NOT_ADDITIONAL = "not_additional"  # not counted as additional to those of its member States
    NOT_COUNTED = "not_counted"
    AS_STATE = "as_state"
    UNKNOWN = "unknown"  # the text is silent: evaluated without them, a difference is flagged


@dataclass(frozen=True)
class Group:
    """Named participants (ISO3): all must be in (all_of), or at least k of them (at_least)."""

    label: str
    participants: tuple[str, ...]
    k: int | None = None  # None: all of them

    @property
    def needed(self) -> int:
        return len(self.participants) if self.k is None else self.k

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"label": self.label, "participants": list(self.participants)}
        if self.k is not None:
            spec["k"] = self.k
        return spec


@dataclass(frozen=True)
class Condition:
    """A condition on outside data (emissions, tonnage) that an operator confirms with a date."""

    key: str
    description: str

    def to_spec(self) -> dict[str, Any]:
        return {"key": self.key, "description": self.description}


@dataclass(frozen=True)
class Share:
    """A threshold that is a share of another treaty's parties ("three fourths of the Parties")."""

    treaty: str
    numerator: int
    denominator: int

    def needed(self, parties: int) -> int:
        """The instruments needed when `parties` are parties to the other treaty (rounded up)."""
        return -(-parties * self.numerator // self.denominator)

    def words(self) -> str:
        return f"{self.numerator}/{self.denominator} of the parties to {self.treaty}"

    def to_spec(self) -> dict[str, Any]:
        return {"treaty": self.treaty, "numerator": self.numerator, "denominator": self.denominator}


STATES = "states"  # `only = "states"`: instruments of organizations do not count


@dataclass(frozen=True)
class Rule:
    """The entry-into-force rule of one treaty, with where it comes from."""

    treaty_id: str
    threshold: int | None
    counts: tuple[str, ...]
    reio: Reio
    delay: Delay
    later: Delay | None = None
    not_before: date | None = None
    fixed_date: date | None = None
    all_of: Group | None = None
    at_least: tuple[Group, ...] = ()
    conditions: tuple[Condition, ...] = ()
    after_treaty: str | None = None  # not before that treaty's entry into force
    only: str | Group | None = None  # STATES, or the members of a group; None: anyone
    share_of: Share | None = None  # threshold as a share of another treaty's parties
    origin: str = "catalogue"  # or "extracted"
    citation: str | None = None
    title: str | None = None
    notes: str | None = None
    withdrawal: Delay | None = None  # from notification of a withdrawal to its effect
    withdrawal_citation: str | None = None
    source_text: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.threshold is None and self.all_of is None and self.share_of is None:
            raise RuleError(
                f"{self.treaty_id}: a rule needs a threshold or an all_of list (or a share_of)"
            )
        if self.threshold is not None and self.share_of is not None:
            raise RuleError(f"{self.treaty_id}: threshold and share_of exclude each other")
        if self.threshold is not None and self.threshold < 1:
            raise RuleError(f"{self.treaty_id}: threshold must be positive, not {self.threshold}")
        unknown = sorted(set(self.counts) - set(CONSENT_KINDS))
        if unknown or not self.counts:
            raise RuleError(
                f"{self.treaty_id}: counts must name kinds among {', '.join(CONSENT_KINDS)}"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            )
        if self.origin not in ("catalogue", "extracted"):
            raise RuleError(
                f"{self.treaty_id}: origin is catalogue or extracted, not {self.origin!r}"
            )
        for group in self.at_least:
            if group.k is None or not 0 < group.k <= len(group.participants):
                raise RuleError(
                    f"{self.treaty_id}: at_least {group.label!r} needs 0 < k <= members"
                )

    def later_delay(self) -> Delay | None:
        """The delay for a participant joining after the rule was met; None: not known (it is
        stated only where the text or the catalogue gives it, never copied from `delay`)."""
        return self.later

    def words(self) -> str:
        """The rule in plain words, e.g. for `tracker rules`."""
        kinds = _join_words([k.replace("_", " ") for k in self.counts])
        needs: list[str] = []
        if self.threshold is not None:
            needs.append(f"{self.threshold} instruments of {kinds}")
        if self.share_of is not None:
            needs.append(f"instruments of {kinds} from {self.share_of.words()}")
        if self.all_of is not None:
            needs.append(f"an instrument of {kinds} from each of {self.all_of.label}")
        needs += [f"at least {g.k} of them from {g.label}" for g in self.at_least]
        needs += [f"{c.description} (confirmed by an operator)" for c in self.conditions]
        met = "the day the last of these is met"
        if self.fixed_date is not None:
            when = (
                f"on {self.fixed_date.isoformat()} if this is met by then, otherwise "
                f"{self.delay.words()} {met}"
            )
        else:
            when = f"{self.delay.words()} {met}"
        lines = [f"Needs {'; '.join(needs)}.", f"Enters into force {when}."]
        if self.only == STATES:
            lines.append("Only instruments of States count.")
        elif isinstance(self.only, Group):
            lines.append(f"Only instruments of {self.only.label} count.")
        if self.after_treaty is not None:
            fallback = (
                f" (failing that date: {self.not_before.isoformat()})" if self.not_before else ""
            )
            lines.append(f"Not before the entry into force of {self.after_treaty}{fallback}.")
        elif self.not_before is not None:
            lines.append(f"Not before {self.not_before.isoformat()}.")
        lines.append(_REIO_WORDS[self.reio])
        later = self.later_delay()
        lines.append(
            f"For a participant joining later: {later.words()} its own deposit."
            if later is not None
            else "For a participant joining later: not known (the rule does not say)."
        )
        if self.withdrawal is not None:
            cited = f" ({self.withdrawal_citation})" if self.withdrawal_citation else ""
            lines.append(
                f"A withdrawal takes effect {self.withdrawal.words()} its notification{cited}."
            )
        if self.citation:
            lines.append(f"Source: {self.citation} ({self.origin}).")
        return " ".join(lines)

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "counts": list(self.counts),
            "reio": self.reio.value,
            "delay": self.delay.to_spec(),
        }
        if self.threshold is not None:
            spec["threshold"] = self.threshold
        if self.later is not None:
            spec["later"] = self.later.to_spec()
        for name in ("not_before", "fixed_date"):
            value = getattr(self, name)
            if value is not None:
                spec[name] = value.isoformat()
        if self.all_of is not None:
            spec["all_of"] = self.all_of.to_spec()
        if self.at_least:
            spec["at_least"] = [g.to_spec() for g in self.at_least]
        if self.conditions:
            spec["conditions"] = [c.to_spec() for c in self.conditions]
        if self.after_treaty is not None:
            spec["after_treaty"] = self.after_treaty
        if self.only is not None:
            spec["only"] = self.only if isinstance(self.only, str) else self.only.to_spec()
        if self.share_of is not None:
            spec["share_of"] = self.share_of.to_spec()
        if self.withdrawal is not None:
            spec["withdrawal"] = self.withdrawal.to_spec()
        for name in ("citation", "title", "notes", "withdrawal_citation"):
            value = getattr(self, name)
            if value:
                spec[name] = value
        return spec


_REIO = "An instrument of a regional economic integration organization"
_REIO_WORDS = {
    Reio.NOT_ADDITIONAL: f"{_REIO} is not counted as additional to those of its member States.",
    Reio.NOT_COUNTED: f"{_REIO} is not counted.",
    Reio.AS_STATE: f"{_REIO} counts like a State's.",
    Reio.UNKNOWN: f"How {_REIO[0].lower()}{_REIO[1:]} counts is not known (the rule does not say);"
    " it is not counted, and a difference it would make is flagged.",
}


def _join_words(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]
