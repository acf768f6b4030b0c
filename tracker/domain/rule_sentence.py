"""The sentence that states an entry-into-force rule, read into a spec (tracker.domain.rules).

Standard library only. `find_main` finds the sentence ("... shall enter into force on the
ninetieth day after the date of deposit of the fortieth instrument of ...") and reads its
threshold, kinds, delay and the qualifiers it models (by States, not before a date, a fixed
date); what it cannot read or model raises `Unreadable`, quoting the words. The reading of the
whole text, sentence by sentence, is tracker.domain.rule_text.
"""

from __future__ import annotations

import re
from typing import Any

from tracker.domain.dates import MONTH_PATTERN, make_date
from tracker.domain.number_words import NUMBER, parse_number
from tracker.domain.rules import CONSENT_KINDS, DEFAULT_COUNTS


class Unreadable(Exception):
    """Rule wording that cannot be read or modelled: no spec. `reason` groups refusals; `words`
    are the printed words that were not read."""

    def __init__(self, reason: str, words: str) -> None:
        super().__init__(f"{reason}: {words}")
        self.reason, self.words = reason, words


_KIND_WORDS = {  # printed word (with the misspellings seen on the pages) -> action kind
    "ratification": "ratification", "rafification": "ratification", "acceptance": "acceptance",
    "aceptance": "acceptance", "approval": "approval", "accession": "accession",
    "succession": "succession", "formal confirmation": "formal_confirmation",
    "definitive signature": "definitive_signature",
}  # fmt: skip
_KIND = "|".join(_KIND_WORDS)
_KINDS = rf"(?:{_KIND})(?:(?:\s*,\s*(?:or\s+)?|\s+or\s+|\s+)(?:{_KIND}))*"
EIF = re.compile(r"\b(?:enters?|comes?) in(?:to|ot) force\b")  # "inot": a printed typo
_AFTER = r"(?:after|following|from) "
_FIRST_OF = r"on the first day of the month (?:following|after) "
_EXPIRY = r"(?:the expiration of (?:the period of |a period of )?|the expiry of |a period of )?"
DELAY = re.compile(
    rf"{_FIRST_OF}{_EXPIRY}(?P<fmm>{NUMBER}) (?P<fmm_u>months?|years?) {_AFTER}"
    rf"|{_FIRST_OF}{_EXPIRY}(?:(?P<fmd>{NUMBER}) days|the (?P<fmd_o>{NUMBER}) day) {_AFTER}"
    rf"|on the first day of the (?P<nth>{NUMBER}) month (?:following|after) "
    r"(?:the month (?:in which|of) )?"
    rf"|on the (?P<day_o>{NUMBER}) day (?:after|following) "
    rf"|(?P<days>{NUMBER}) days {_AFTER}"
    rf"|(?P<mon>{NUMBER}) (?P<mon_u>months?|years?) {_AFTER}"
    r"|(?P<dep>upon|on) (?:the date of )?(?=(?:the )?deposit)"
)
_DELAY_GROUPS = {  # group -> (delay kind, ordinal, unit group)
    "fmm": ("first_of_month_after_months", False, "fmm_u"), "mon": ("months", False, "mon_u"),
    "fmd": ("first_of_month_after_days", False, None), "days": ("days", False, None),
    "fmd_o": ("first_of_month_after_days", True, None), "day_o": ("days", True, None),
    "nth": ("first_of_nth_month_after_month", True, None),
}  # fmt: skip
_PRE = r"(?:the date on which |the date of |the )?"
_AT_LEAST = r"(?:at least |not less than )?"
_N, _K, _BOUND = rf"(?P<n>{NUMBER})", rf"(?P<k>{_KINDS})", r"[^.]{0,60}?consent to be bound"
_THRESHOLDS = [  # (pattern after the delay, is the number an ordinal)
    (rf"{_PRE}(?:the )?deposit of the {_N} instruments? of {_K}", True),
    (rf"{_PRE}the {_N} instrument of {_K} (?:has|shall have) been deposited", True),
    (rf"{_PRE}{_AT_LEAST}{_N} instruments of {_K} (?:have|shall have) been deposited", False),
    (rf"{_PRE}(?:the )?deposit of instruments of {_K} of {_N} states\b", False),
    (rf"{_PRE}{_AT_LEAST}{_N} states (?:have|shall have) (?:expressed|notified){_BOUND}", False),
]  # fmt: skip
_BLOCK = re.compile(r"per ?cent\b|percent|tonnage|\bannex\b|provided that|\blisted in\b")
_DATE = rf"(\d{{1,2}}) ({MONTH_PATTERN}) (\d{{4}})"
_FIXED = re.compile(
    rf"into force on {_DATE},? provided that {_AT_LEAST}{_N} instruments of {_K}"
    rf"(?: of the amendment)? (?:have|shall have) been deposited(?P<q>[^.]*)\.\s*in the event that this "
    rf"condition has not been fulfilled by that date,[^.]*?into force on the (?P<o>{NUMBER}) day "
    r"(?:following|after) the date on which (?:it|this condition|the condition) has been fulfilled"
)


def normalize(text: str) -> str:
    text = re.sub(r"[\u201c\u201d\u201e\u00ab\u00bb]", '"', text)
    text = re.sub(r"[\u2018\u2019]", "'", text).replace("\u2013", "-").replace("\u2011", "-")
    return re.sub(r"\s+", " ", text).strip()


def squash(sentence: str) -> str:
    """Lower case, without the depositary between words ('deposit with the Secretary-General')."""
    depositary = r"\s*with the (?:secretary-general(?: of the united nations)?|depositary)\b"
    return re.sub(r"\s+", " ", re.sub(depositary, "", sentence.lower()))


def read_delay(m: re.Match[str]) -> dict[str, Any]:
    """The delay of one DELAY match (Unreadable when its number cannot be read)."""
    if m.group("dep"):
        return {"on_deposit": True}
    group = next(g for g in _DELAY_GROUPS if m.group(g))
    kind, ordinal, unit = _DELAY_GROUPS[group]
    n = parse_number(m.group(group), ordinal)
    if n is None:
        raise Unreadable("unreadable number", m.group(0).strip())
    return {kind: n * 12 if unit and m.group(unit).startswith("year") else n}


def _counts(kinds: str) -> list[str]:
    found = {_KIND_WORDS[w] for w in re.findall(_KIND, kinds)}
    return [k for k in CONSENT_KINDS if k in found]


# The words before "shall enter into force": the instrument, perhaps after the date and citation.
_SUBJECT = re.compile(
    r"(?:\d{1,2} [a-z]+ \d{4},? )?(?:in accordance with articles? [0-9ivxlc]+(?:\s?\([0-9a-z]+\))*"
    r",? )?(?:(?:this|the present|the) (?:supplementary |optional |additional )?"
    r"(?:convention|protocol|agreement|treaty|amendment|statute|covenant)|amendments \.\.\.) "
    r"(?:shall |will )?"
)
# Between "enter into force" and the delay: only the CCW's "in the same manner as the Convention".
_GAP = re.compile(r"(?:in the same manner as the convention[^.(]*\(i\.e\. \.\.\. )?")
# What may follow the count: nothing, "by it", or a qualifier read into the spec.
TAIL_END = r"[\s.,;:\"']*$"
_STATES = re.compile(
    r"by states(?: or by namibia, represented by the united nations council for namibia)?"
    r"(?=,? but not|[\s.,;:\"']*$)"
)
_NOT_BEFORE = re.compile(rf",? but not (?:before|earlier than) {_DATE}")


def _main_rule(clause: str) -> tuple[dict[str, Any], str, str] | None:
    """Threshold, counts and delay from the words after 'shall enter into force', with the words
    before the delay and those after the count (both still to be accounted for)."""
    for m in DELAY.finditer(clause):
        for pattern, ordinal in _THRESHOLDS:
            if t := re.match(pattern, clause[m.end() :]):
                n = parse_number(t.group("n"), ordinal)
                if n is None:
                    raise Unreadable("unreadable number", t.group(0))
                kinds = t.group("k") if "k" in t.groupdict() else ""  # consent to be bound
                counts = _counts(kinds) or [*DEFAULT_COUNTS, "consent_to_be_bound"]
                rule = {"threshold": n, "counts": counts, "delay": read_delay(m)}
                return rule, clause[: m.start()], clause[m.end() + t.end() :]
    return None


def _tail(tail: str, rule: dict[str, Any]) -> list[str]:
    """Read the words after the count into `rule` (the clauses read); Unreadable otherwise."""
    read = []
    rest = tail.strip()
    if rest.startswith("by it"):  # "... expressed their consent to be bound by it"
        rest = rest[len("by it") :].strip()
    if m := _STATES.match(rest):
        rule["only"] = "states"
        read.append(m.group(0))
        rest = rest[m.end() :].strip()
    if m := _NOT_BEFORE.match(rest):
        rule["not_before"] = _date(*m.groups())
        read.append(m.group(0).lstrip(", "))
        rest = rest[m.end() :].strip()
    if re.fullmatch(TAIL_END, rest):
        return read
    if re.match(
        r",? except that it shall not enter into force before|,? except that is shall", rest
    ):
        raise Unreadable("depends on another treaty", rest.lstrip(", ").rstrip(" .\"'"))
    if re.match(r"by (?:states|regional|any|the)\b", rest):
        raise Unreadable("who may deposit", rest.rstrip(" .\"'"))
    raise Unreadable("unread words in the rule sentence", rest.lstrip(", ").rstrip(" .\"'"))


def read_reio(text: str) -> str | None:
    if "shall not be counted as additional" in text:
        return "not_additional"
    if re.search(r"organi[sz]ation[^.]{0,120}?shall not be counted\b", text):
        return "not_counted"
    if re.search(r"integration organi[sz]ation[^.]{0,120}?shall be counted\b", text):
        return "as_state"
    return None


def _date(day: str, month: str, year: str) -> str:
    found = make_date(day, month, year)
    if found is None:
        raise Unreadable("unreadable date", f"{day} {month} {year}")
    return found.isoformat()


def _fixed(text: str) -> tuple[dict[str, Any], str] | None:
    """'on 1 January 2019, provided that ... In the event that this condition has not been ...',
    with the words the pattern skipped over (still to be accounted for)."""
    m = _FIXED.search(squash(text))
    if not m:
        return None
    n, days = parse_number(m.group("n")), parse_number(m.group("o"), True)
    if n is None or days is None:
        raise Unreadable("unreadable number", m.group(0))
    counts, fixed = _counts(m.group("k")), _date(*m.group(1, 2, 3))
    rule = {"threshold": n, "counts": counts, "delay": {"days": days}, "fixed": fixed}
    return rule, m.group("q")


def find_main(sentences: list[str], text: str) -> tuple[dict[str, Any], int, int, list[str]] | None:
    """The rule, the sentences it was read from [i, j) and the clauses read from them."""
    if found := _fixed(text):
        rule, skipped = found
        if skipped.strip():
            raise Unreadable("who may deposit", skipped.strip(" ,."))
        i = next(i for i, s in enumerate(sentences) if "in the event that this" in s.lower())
        return rule, max(i - 1, 0), i + 1, []
    for i, sentence in enumerate(sentences):
        low = squash(sentence)
        if not (eif := EIF.search(low)):
            continue
        if not (main := _main_rule(low[eif.end() :])):
            continue
        if _BLOCK.search(low):
            raise Unreadable("further condition", sentence.strip(" \"'."))
        rule, gap, tail = main
        prefix = low[: eif.start()]
        if not _SUBJECT.fullmatch(prefix.strip() + " "):
            raise Unreadable("unread words in the rule sentence", sentence[: eif.start()].strip())
        if not _GAP.fullmatch(gap.strip() and gap.strip() + " "):
            raise Unreadable("unread words in the rule sentence", gap.strip())
        read = [gap.strip().removesuffix("(i.e. ...").strip()] if gap.strip() else []
        read += _tail(tail, rule)
        return rule, i, i + 1, read
    return None
