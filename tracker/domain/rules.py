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
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

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


class RuleError(ValueError):
    """A rule spec that cannot be turned into a rule (unknown key, kind, delay ...)."""


class Reio(StrEnum):
    """How an instrument of a regional economic integration organization counts."""

    NOT_ADDITIONAL = "not_additional"  # not counted as additional to those of its member States
    NOT_COUNTED = "not_counted"
    AS_STATE = "as_state"
    UNKNOWN = "unknown"  # the text is silent: evaluated without them, a difference is flagged


# kind -> words; n is the number in the spec ({days = 90}).
DELAY_KINDS: dict[str, str] = {
    "on_deposit": "on",
    "days": "{n} {days} after",
    "months": "{n} {months} after",
    "first_of_month_after_days": "on the first day of the month after the {nth} day after",
    "first_of_month_after_months": "on the first day of the month following {n} months after",
    "first_of_nth_month_after_month": "on the first day of the {nth} month after the month of",
}


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day (31 Aug + 3 months: 30 Nov)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st ..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _first_of_next_month(day: date) -> date:
    return add_months(day.replace(day=1), 1)


@dataclass(frozen=True)
class Delay:
    """The time between the deposit (or the day the condition is met) and entry into force."""

    kind: str
    n: int = 0

    def __post_init__(self) -> None:
        if self.kind not in DELAY_KINDS:
            raise RuleError(f"unknown delay {self.kind!r} (one of {', '.join(DELAY_KINDS)})")
        if self.kind != "on_deposit" and self.n < 1:
            raise RuleError(f"delay {self.kind} needs a positive number, not {self.n}")

    def apply(self, day: date) -> date:
        if self.kind == "on_deposit":
            return day
        if self.kind == "days":
            return day + timedelta(days=self.n)
        if self.kind == "months":
            return add_months(day, self.n)
        if self.kind == "first_of_month_after_days":
            return _first_of_next_month(day + timedelta(days=self.n))
        if self.kind == "first_of_month_after_months":
            return _first_of_next_month(add_months(day, self.n))
        return add_months(day.replace(day=1), self.n)  # first_of_nth_month_after_month

    def words(self) -> str:
        one = self.n == 1
        return DELAY_KINDS[self.kind].format(
            n=self.n,
            nth=ordinal(self.n),
            days="day" if one else "days",
            months="month" if one else "months",
        )

    def to_spec(self) -> dict[str, Any]:
        return {self.kind: True if self.kind == "on_deposit" else self.n}

    @classmethod
    def from_spec(cls, spec: Any) -> Delay:
        if not isinstance(spec, dict) or len(spec) != 1:
            raise RuleError(f"a delay is one key and its number, e.g. {{days = 90}}, not {spec!r}")
        ((kind, n),) = spec.items()
        if kind == "on_deposit":
            return cls(kind)
        if isinstance(n, bool) or not isinstance(n, int):
            raise RuleError(f"delay {kind} needs a whole number, not {n!r}")
        return cls(kind, n)


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


_SPEC_KEYS = frozenset(
    {
        "threshold",
        "counts",
        "reio",
        "delay",
        "later",
        "not_before",
        "fixed_date",
        "all_of",
        "at_least",
        "conditions",
        "after_treaty",
        "only",
        "share_of",
        "citation",
        "title",
        "notes",
        "withdrawal",
        "withdrawal_citation",
    }
)


def _date(value: Any, what: str, treaty_id: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise RuleError(f"{treaty_id}: {what} must be a date (YYYY-MM-DD), not {value!r}") from None


def _group(spec: Any, treaty_id: str, *, with_k: bool) -> Group:
    if not isinstance(spec, dict) or not spec.get("participants"):
        raise RuleError(f"{treaty_id}: a group needs a label and a list of participants (ISO3)")
    members = tuple(str(p).upper() for p in spec["participants"])
    bad = [p for p in members if len(p) != 3 or not p.isalpha()]
    if bad:
        raise RuleError(f"{treaty_id}: group members are ISO3 codes; not {', '.join(bad)}")
    k = spec.get("k") if with_k else None
    if with_k and not isinstance(k, int):
        raise RuleError(f"{treaty_id}: at_least needs a whole number k")
    return Group(
        label=str(spec.get("label") or "the named participants"), participants=members, k=k
    )


def _treaty_ref(value: Any, what: str, treaty_id: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise RuleError(f'{treaty_id}: {what} names a treaty by its id, e.g. "IV-4"')
    if value.strip() == treaty_id:
        raise RuleError(f"{treaty_id}: {what} cannot name the treaty itself")
    return value.strip()


def _only(value: Any, treaty_id: str) -> str | Group | None:
    if value is None or value == STATES:
        return value
    if isinstance(value, dict):
        return _group(value, treaty_id, with_k=False)
    raise RuleError(f'{treaty_id}: only is "states" or a group {{label, participants}}')


def _share(value: Any, treaty_id: str) -> Share | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"treaty", "numerator", "denominator"}:
        raise RuleError(f"{treaty_id}: share_of is {{treaty, numerator, denominator}}")
    num, den = value["numerator"], value["denominator"]
    if any(isinstance(n, bool) or not isinstance(n, int) for n in (num, den)) or not (
        0 < num <= den
    ):
        raise RuleError(f"{treaty_id}: share_of needs whole numbers 0 < numerator <= denominator")
    treaty = _treaty_ref(value["treaty"], "share_of", treaty_id)
    assert treaty is not None
    return Share(treaty, num, den)


def rule_from_spec(treaty_id: str, spec: dict[str, Any], origin: str = "catalogue") -> Rule:
    """Build and validate a rule from its spec (RuleError names what is wrong)."""
    unknown = sorted(set(spec) - _SPEC_KEYS)
    if unknown:
        raise RuleError(f"{treaty_id}: unknown rule key(s) {', '.join(unknown)}")
    if "delay" not in spec:
        raise RuleError(f"{treaty_id}: a rule needs a delay, e.g. delay = {{days = 90}}")
    try:
        reio = Reio(spec.get("reio", Reio.AS_STATE.value))
    except ValueError:
        raise RuleError(f"{treaty_id}: reio is one of {', '.join(r.value for r in Reio)}") from None
    threshold = spec.get("threshold")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int)):
        raise RuleError(f"{treaty_id}: threshold must be a whole number, not {threshold!r}")
    conditions = []
    for c in spec.get("conditions", ()):
        if not isinstance(c, dict) or not c.get("key") or not c.get("description"):
            raise RuleError(f"{treaty_id}: a condition needs a key and a description")
        conditions.append(Condition(str(c["key"]), str(c["description"])))
    return Rule(
        treaty_id=treaty_id,
        threshold=threshold,
        counts=tuple(spec.get("counts", DEFAULT_COUNTS)),
        reio=reio,
        delay=Delay.from_spec(spec["delay"]),
        later=Delay.from_spec(spec["later"]) if spec.get("later") is not None else None,
        not_before=_date(spec.get("not_before"), "not_before", treaty_id),
        fixed_date=_date(spec.get("fixed_date"), "fixed_date", treaty_id),
        all_of=_group(spec["all_of"], treaty_id, with_k=False) if spec.get("all_of") else None,
        at_least=tuple(_group(g, treaty_id, with_k=True) for g in spec.get("at_least", ())),
        conditions=tuple(conditions),
        after_treaty=_treaty_ref(spec.get("after_treaty"), "after_treaty", treaty_id),
        only=_only(spec.get("only"), treaty_id),
        share_of=_share(spec.get("share_of"), treaty_id),
        origin=origin,
        citation=spec.get("citation"),
        title=spec.get("title"),
        notes=spec.get("notes"),
        withdrawal=Delay.from_spec(spec["withdrawal"]) if spec.get("withdrawal") else None,
        withdrawal_citation=spec.get("withdrawal_citation"),
    )
