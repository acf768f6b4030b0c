"""Read an entry-into-force rule spec (see tracker.domain.rules) from the depositary's printed text.

Standard library only. Only the common wordings are read ("on the ninetieth day after the date of
deposit of the fortieth instrument of ratification, acceptance, approval or accession"); anything
else, or a number or delay that cannot be read, gives None: the extractor never guesses.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from tracker.domain.rules import CONSENT_KINDS, DEFAULT_COUNTS

_UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = ["ten", "eleven", "twelve"]
_TEENS += [f"{p}teen" for p in ("thir", "four", "fif", "six", "seven", "eigh", "nine")]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_CARDINAL = {w: i + 1 for i, w in enumerate(_UNITS)} | {w: i + 10 for i, w in enumerate(_TEENS)}
_CARDINAL |= {w: (i + 2) * 10 for i, w in enumerate(_TENS)} | {"hundred": 100}
_IRREGULAR = {"one": "first", "two": "second", "three": "third", "five": "fifth",
              "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}  # fmt: skip
_ORDINAL = {  # ordinal word -> its cardinal word
    _IRREGULAR.get(w) or (w[:-1] + "ieth" if w.endswith("y") else w + "th"): w for w in _CARDINAL
}
_WORD = "|".join(sorted(set(_CARDINAL) | set(_ORDINAL), key=len, reverse=True))
_NUM = rf"(?:\d+(?:st|nd|rd|th)?|(?:{_WORD})(?:(?:-|\s+and\s+|\s+)(?:{_WORD}))*\b)(?:\s*\(\d+\))?"
_MONTHS = "january february march april may june july august september october november december"


class _Unreadable(Exception):
    """Rule wording whose number or delay cannot be read (or a further condition): no spec."""


def parse_number(text: str, ordinal: bool = False) -> int | None:
    """'one hundred and eightieth' -> 180, '65th' -> 65, 'ninety (90)' -> 90; None if unreadable."""
    text = text.strip().lower()
    paren = re.search(r"\s*\((\d+)\)$", text)
    if paren:
        text = text[: paren.start()]
    digits = re.fullmatch(r"(\d+)(st|nd|rd|th)?", text)
    if digits:
        value = int(digits.group(1)) if bool(digits.group(2)) == ordinal else None
    else:
        value = _words_to_int([t for t in re.split(r"[\s-]+", text) if t and t != "and"], ordinal)
    if value is None or not 1 <= value <= 999:
        return None
    return value if not paren or int(paren.group(1)) == value else None


def _words_to_int(tokens: list[str], ordinal: bool) -> int | None:
    """[unit 'hundred'] [tens [unit] | teen | unit]; only the last word may be an ordinal."""
    if ordinal:
        if not tokens or tokens[-1] not in _ORDINAL:
            return None
        tokens = [*tokens[:-1], _ORDINAL[tokens[-1]]]
    values = [_CARDINAL.get(t, 0) for t in tokens]
    if not values or 0 in values:
        return None
    hundreds = values[0] * 100 if values[1:2] == [100] and values[0] < 10 else 0
    rest = values[2:] if hundreds else values
    tens = len(rest) == 2 and rest[0] in range(20, 100, 10) and rest[1] < 10
    return hundreds + sum(rest) if (len(rest) < 2 and sum(rest) < 100) or tens else None


_KIND_WORDS = {  # printed word (with the misspellings seen on the pages) -> action kind
    "ratification": "ratification", "rafification": "ratification", "acceptance": "acceptance",
    "aceptance": "acceptance", "approval": "approval", "accession": "accession",
    "succession": "succession", "formal confirmation": "formal_confirmation",
    "definitive signature": "definitive_signature",
}  # fmt: skip
_KIND = "|".join(_KIND_WORDS)
_KINDS = rf"(?:{_KIND})(?:(?:\s*,\s*(?:or\s+)?|\s+or\s+|\s+)(?:{_KIND}))*"
_EIF = re.compile(r"\b(?:enters?|comes?) in(?:to|ot) force\b")  # "inot": a printed typo
_AFTER = r"(?:after|following|from) "
_FIRST_OF = r"on the first day of the month (?:following|after) "
_EXPIRY = r"(?:the expiration of |the expiry of |a period of )?"
_DELAY = re.compile(
    rf"{_FIRST_OF}{_EXPIRY}(?P<fmm>{_NUM}) (?P<fmm_u>months?|years?) {_AFTER}"
    rf"|{_FIRST_OF}{_EXPIRY}(?:(?P<fmd>{_NUM}) days|the (?P<fmd_o>{_NUM}) day) {_AFTER}"
    rf"|on the first day of the (?P<nth>{_NUM}) month (?:following|after) "
    r"(?:the month (?:in which|of) )?"
    rf"|on the (?P<day_o>{_NUM}) day (?:after|following) "
    rf"|(?P<days>{_NUM}) days {_AFTER}"
    rf"|(?P<mon>{_NUM}) (?P<mon_u>months?|years?) {_AFTER}"
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
_N, _K, _BOUND = rf"(?P<n>{_NUM})", rf"(?P<k>{_KINDS})", r"[^.]{0,60}?consent to be bound"
_THRESHOLDS = [  # (pattern after the delay, is the number an ordinal)
    (rf"{_PRE}(?:the )?deposit of the {_N} instruments? of {_K}", True),
    (rf"{_PRE}the {_N} instrument of {_K} (?:has|shall have) been deposited", True),
    (rf"{_PRE}{_AT_LEAST}{_N} instruments of {_K} (?:have|shall have) been deposited", False),
    (rf"{_PRE}(?:the )?deposit of instruments of {_K} of {_N} states\b", False),
    (rf"{_PRE}{_AT_LEAST}{_N} states (?:have|shall have) (?:expressed|notified){_BOUND}", False),
]  # fmt: skip
_BLOCK = re.compile(r"per ?cent\b|percent|tonnage|\bannex\b|provided that|\blisted in\b")
_SPLIT = re.compile(
    r"(?<=[.;])[\"']?\s+(?=[\"']?(?:\(?\d{1,2}[.)]\s*)?[\"']?[A-Z])|(?<=:)\s*(?=[\"']\S)"
)
_LEAD = re.compile(r"^[\"'\s]*(?:\(?\d{1,2}[.)]\s*)?")
_OWN = re.compile(r"\b(?:(?:its(?: own)?|relevant|appropriate) instrument|such (?:state|party)"
                  r"|such deposit|that (?:state|party)|the said country)\b")  # fmt: skip
_CITATION = re.compile(
    r"(?i)(?:\b(?:in accordance with|see)\s+|^)(articles?\s+[0-9IVXLC]+"
    r"(?:\s?\([0-9a-z]+\))*(?:,\s*paragraphs?\s+\d+(?:\s?\([a-z]\))?)?)"
)
_DATE = rf"(\d{{1,2}}) ({'|'.join(_MONTHS.split())}) (\d{{4}})"
_FIXED = re.compile(
    rf"into force on {_DATE},? provided that {_AT_LEAST}{_N} instruments of {_K}[^.]*?"
    rf"(?:have|shall have) been deposited[^.]*\.\s*in the event that this "
    rf"condition has not been fulfilled by that date,[^.]*?into force on the (?P<o>{_NUM}) day "
    r"(?:following|after) the date on which (?:it|this condition|the condition) has been fulfilled"
)


def _normalize(text: str) -> str:
    text = re.sub(r"[\u201c\u201d\u201e\u00ab\u00bb]", '"', text)
    text = re.sub(r"[\u2018\u2019]", "'", text).replace("\u2013", "-").replace("\u2011", "-")
    return re.sub(r"\s+", " ", text).strip()


def _squash(sentence: str) -> str:
    """Lower case, without the depositary between words ('deposit with the Secretary-General')."""
    depositary = r"\s*with the (?:secretary-general(?: of the united nations)?|depositary)\b"
    return re.sub(r"\s+", " ", re.sub(depositary, "", sentence.lower()))


def _delay(m: re.Match[str]) -> dict[str, Any]:
    """The delay of one _DELAY match (_Unreadable when its number cannot be read)."""
    if m.group("dep"):
        return {"on_deposit": True}
    group = next(g for g in _DELAY_GROUPS if m.group(g))
    kind, ordinal, unit = _DELAY_GROUPS[group]
    n = parse_number(m.group(group), ordinal)
    if n is None:
        raise _Unreadable(m.group(0))
    return {kind: n * 12 if unit and m.group(unit).startswith("year") else n}


def _counts(kinds: str) -> list[str]:
    found = {_KIND_WORDS[w] for w in re.findall(_KIND, kinds)}
    return [k for k in CONSENT_KINDS if k in found]


def _main_rule(clause: str) -> dict[str, Any] | None:
    """Threshold, counts and delay from the words after 'shall enter into force'."""
    for m in _DELAY.finditer(clause):
        for pattern, ordinal in _THRESHOLDS:
            if t := re.match(pattern, clause[m.end() :]):
                n = parse_number(t.group("n"), ordinal)
                if n is None:
                    raise _Unreadable(t.group(0))
                kinds = t.group("k") if "k" in t.groupdict() else ""  # consent to be bound
                counts = _counts(kinds) or [*DEFAULT_COUNTS, "consent_to_be_bound"]
                return {"threshold": n, "counts": counts, "delay": _delay(m)}
    return None


def _later(sentences: list[str]) -> dict[str, Any] | None:
    """The delay for those joining later (paragraphs after the rule); all must agree."""
    found = []
    for s in (_squash(s) for s in sentences):
        eif = _EIF.search(s)
        if eif and (_OWN.search(s[eif.end() :]) or re.match(r"(?:for each|for any|when a)\b", s)):
            m = _DELAY.search(s[eif.end() :])
            if m is None:
                raise _Unreadable(s)
            found.append(_delay(m))
    if any(d != found[0] for d in found):
        raise _Unreadable("later paragraphs disagree")
    return found[0] if found else None


def _reio(text: str) -> str | None:
    if "shall not be counted as additional" in text:
        return "not_additional"
    if re.search(r"organi[sz]ation[^.]{0,120}?shall not be counted\b", text):
        return "not_counted"
    if re.search(r"integration organi[sz]ation[^.]{0,120}?shall be counted\b", text):
        return "as_state"
    return None


def _date(day: str, month: str, year: str) -> str:
    try:
        return date(int(year), _MONTHS.split().index(month) + 1, int(day)).isoformat()
    except ValueError:
        raise _Unreadable(f"{day} {month} {year}") from None


def _fixed(text: str) -> dict[str, Any] | None:
    """'on 1 January 2019, provided that ... In the event that this condition has not been ...'."""
    m = _FIXED.search(_squash(text))
    if not m:
        return None
    n, days = parse_number(m.group("n")), parse_number(m.group("o"), True)
    if n is None or days is None:
        raise _Unreadable(m.group(0))
    counts, fixed = _counts(m.group("k")), _date(*m.group(1, 2, 3))
    return {"threshold": n, "counts": counts, "delay": {"days": days}, "fixed": fixed}


def _find_main(sentences: list[str], text: str) -> tuple[dict[str, Any], str, list[str]] | None:
    """The rule, the sentence it was read from and the sentences after it."""
    if rule := _fixed(text):
        i = next(i for i, s in enumerate(sentences) if "in the event that this" in s.lower())
        return rule, " ".join(sentences[max(i - 1, 0) : i + 1]), sentences[i + 1 :]
    for i, sentence in enumerate(sentences):
        low = _squash(sentence)
        if (eif := _EIF.search(low)) and (rule := _main_rule(low[eif.end() :])):
            if _BLOCK.search(low):
                raise _Unreadable(sentence)  # a further condition (emissions, annex, proviso)
            return rule, sentence, sentences[i + 1 :]
    return None


def _note(sentence: str) -> str:
    sentence = sentence.rstrip(" \"'.") + "."
    return "extracted from: " + (sentence if len(sentence) <= 300 else sentence[:297] + "...")


def extract_rule_spec(text: str) -> dict[str, Any] | None:
    """The rule spec printed in an entry-into-force text, or None when there is no readable rule."""
    text = _normalize(text or "")
    sentences = [s for s in (_LEAD.sub("", p) for p in _SPLIT.split(text)) if s.strip()]
    try:
        if (found := _find_main(sentences, text)) is None:
            return None
        rule, main, rest = found
        spec: dict[str, Any] = {"threshold": rule["threshold"], "counts": rule["counts"]}
        if reio := _reio(_squash(text)):
            spec["reio"] = reio
        spec["delay"] = rule["delay"]
        if later := _later(rest):
            spec["later"] = later
        if not_before := re.search(rf"not (?:before|earlier than) {_DATE}", _squash(main)):
            spec["not_before"] = _date(*not_before.groups())
    except _Unreadable:
        return None
    if "fixed" in rule:
        spec["fixed_date"] = rule["fixed"]
    cite = _CITATION.search(text)
    spec["citation"] = "a" + cite.group(1)[1:] if cite else None
    spec["notes"] = _note(main)
    return spec
