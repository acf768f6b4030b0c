"""Read an entry-into-force rule spec (see tracker.domain.rules) from the depositary's printed text.

Standard library only. Only the common wordings are read ("on the ninetieth day after the date of
deposit of the fortieth instrument of ratification, acceptance, approval or accession"); anything
else, or a number or delay that cannot be read, gives None: the extractor never guesses.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from tracker.domain.rules import CONSENT_KINDS

_UNITS = "one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_CARDINAL = {w: i + 1 for i, w in enumerate(_UNITS)} | {w: i + 10 for i, w in enumerate(_TEENS)}
_CARDINAL |= {w: (i + 2) * 10 for i, w in enumerate(_TENS)} | {"hundred": 100}
_IRREGULAR = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
              "nine": "ninth", "twelve": "twelfth"}
_ORDINAL = {_IRREGULAR.get(w) or (w[:-1] + "ieth" if w.endswith("y") else w + "th"): w for w in _CARDINAL}
_WORD = "|".join(sorted(set(_CARDINAL) | set(_ORDINAL), key=len, reverse=True))
_NUM = rf"(?:\d+(?:st|nd|rd|th)?|(?:{_WORD})(?:(?:-|\s+and\s+|\s+)(?:{_WORD}))*\b)(?:\s*\(\d+\))?"
_MONTHS = "january february march april may june july august september october november december"


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
    if not tokens or (ordinal and tokens[-1] not in _ORDINAL):
        return None
    if ordinal:
        tokens = tokens[:-1] + [_ORDINAL[tokens[-1]]]
    if any(t not in _CARDINAL for t in tokens):
        return None
    values = [_CARDINAL[t] for t in tokens]
    total = 0
    if len(values) >= 2 and values[1] == 100 and values[0] < 10:
        total, values = values[0] * 100, values[2:]
    if not values:
        return total or None
    if len(values) == 1 and values[0] < 100:
        return total + values[0]
    if len(values) == 2 and values[0] >= 20 and values[0] % 10 == 0 and values[1] < 10:
        return total + sum(values)
    return None


_KIND_WORDS = {"ratification": "ratification", "rafification": "ratification",
               "acceptance": "acceptance", "aceptance": "acceptance", "approval": "approval",
               "accession": "accession", "succession": "succession",
               "formal confirmation": "formal_confirmation", "definitive signature": "definitive_signature"}
_KIND = "|".join(_KIND_WORDS)
_KINDS = rf"(?:{_KIND})(?:(?:\s*,\s*(?:or\s+)?|\s+or\s+|\s+)(?:{_KIND}))*"
_BOUND = ["ratification", "acceptance", "approval", "accession", "consent_to_be_bound"]
_EIF = re.compile(r"\b(?:enters?|comes?) in(?:to|ot) force\b")  # "inot": a printed typo
_DELAY = re.compile(
    rf"on the first day of the month (?:following|after) (?:the expiration of |the expiry of |a period of )?"
    rf"(?P<fmm>{_NUM}) (?P<fmm_u>months?|years?) (?:after|from|following) "
    rf"|on the first day of the month (?:following|after) (?:the expiration of |the expiry of )?"
    rf"(?:(?P<fmd>{_NUM}) days|the (?P<fmd_o>{_NUM}) day) (?:after|from|following) "
    rf"|on the first day of the (?P<nth>{_NUM}) month (?:following|after) (?:the month (?:in which|of) )?"
    rf"|on the (?P<day_o>{_NUM}) day (?:after|following) "
    rf"|(?P<days>{_NUM}) days (?:after|following|from) "
    rf"|(?P<mon>{_NUM}) (?P<mon_u>months?|years?) (?:after|following|from) "
    rf"|(?P<dep>upon|on) (?:the date of )?(?=(?:the )?deposit)"
)
_PREFIX = r"(?:the date on which |the date of |the )?"
_THRESHOLDS = [  # (pattern, is the number an ordinal)
    (rf"{_PREFIX}(?:the )?deposit of the (?P<n>{_NUM}) instruments? of (?P<k>{_KINDS})", True),
    (rf"{_PREFIX}the (?P<n>{_NUM}) instrument of (?P<k>{_KINDS}) (?:has|shall have) been deposited", True),
    (rf"{_PREFIX}(?:at least |not less than )?(?P<n>{_NUM}) instruments of (?P<k>{_KINDS}) "
     r"(?:have|shall have) been deposited", False),
    (rf"{_PREFIX}(?:the )?deposit of instruments of (?P<k>{_KINDS}) of (?P<n>{_NUM}) states\b", False),
    (rf"{_PREFIX}(?:at least |not less than )?(?P<n>{_NUM}) states (?:have|shall have) "
     r"(?:expressed|notified)[^.]{0,60}?consent to be bound", False),
]
_BLOCK = re.compile(r"per ?cent\b|percent|tonnage|\bannex\b|provided that|\blisted in\b")
_SPLIT = re.compile(r"(?<=[.;])[\"']?\s+(?=[\"']?(?:\(?\d{1,2}[.)]\s*)?[\"']?[A-Z])|(?<=:)\s*(?=[\"']\S)")
_LEAD = re.compile(r"^[\"'\s]*(?:\(?\d{1,2}[.)]\s*)?")
_OWN = re.compile(r"\b(?:its (?:own )?instrument|(?:relevant|appropriate) instrument|such (?:state|party|deposit)"
                  r"|that (?:state|party)|the said country)\b")
_CITATION = re.compile(r"(?:\b(?:in accordance with|see)\s+|^)(articles?\s+[0-9IVXLC]+(?:\s?\([0-9a-z]+\))*"
                       r"(?:,\s*paragraphs?\s+\d+(?:\s?\([a-z]\))?)?)", re.I)
_DATE = rf"(\d{{1,2}}) ({'|'.join(_MONTHS.split())}) (\d{{4}})"
_FIXED = re.compile(
    rf"into force on {_DATE},? provided that (?:at least |not less than )?(?P<n>{_NUM}) instruments of "
    rf"(?P<k>{_KINDS})[^.]*?(?:have|shall have) been deposited[^.]*\.\s*in the event that this condition "
    rf"has not been fulfilled by that date,[^.]*?into force on the (?P<o>{_NUM}) day (?:following|after) "
    r"the date on which (?:it|this condition|the condition) has been fulfilled"
)


def _normalize(text: str) -> str:
    text = re.sub(r"[\u201c\u201d\u201e\u00ab\u00bb]", '"', text)
    text = re.sub(r"[\u2018\u2019]", "'", text).replace("\u2013", "-").replace("\u2011", "-")
    return re.sub(r"\s+", " ", text).strip()


def _squash(sentence: str) -> str:
    """Lower case, without the depositary named between words ('deposit with the Secretary-General of')."""
    sentence = re.sub(r"\s*with the (?:secretary-general(?: of the united nations)?|depositary)\b", "",
                      sentence.lower())
    return re.sub(r"\s+", " ", sentence)


def _delay(m: re.Match[str]) -> dict[str, Any] | None:
    """The delay of one _DELAY match, or None when its number cannot be read."""
    if m.group("dep"):
        return {"on_deposit": True}
    g = m.groupdict()
    for key, unit, kind in (("fmm", "fmm_u", "first_of_month_after_months"), ("mon", "mon_u", "months")):
        if g[key]:
            n = parse_number(g[key])
            return {kind: n * (12 if g[unit].startswith("year") else 1)} if n else None
    for key, ordinal, kind in (("fmd", False, "first_of_month_after_days"), ("fmd_o", True, "first_of_month_after_days"),
                               ("nth", True, "first_of_nth_month_after_month"), ("day_o", True, "days"),
                               ("days", False, "days")):
        if g[key]:
            n = parse_number(g[key], ordinal)
            return {kind: n} if n else None
    return None


def _counts(kinds: str) -> list[str]:
    found = {_KIND_WORDS[w] for w in re.findall(_KIND, kinds)}
    return [k for k in CONSENT_KINDS if k in found]


def _main_rule(clause: str) -> dict[str, Any] | None:
    """Threshold, counts and delay from the words after 'shall enter into force'."""
    for m in _DELAY.finditer(clause):
        rest = clause[m.end():]
        for pattern, ordinal in _THRESHOLDS:
            t = re.match(pattern, rest)
            if not t:
                continue
            n, delay = parse_number(t.group("n"), ordinal), _delay(m)
            if n is None or delay is None:
                return None
            counts = _counts(t.group("k")) if "k" in t.groupdict() else list(_BOUND)
            return {"threshold": n, "counts": counts, "delay": delay}
    return None


def _later(sentences: list[str]) -> dict[str, Any] | None | bool:
    """The delay for those joining later; False when such a paragraph cannot be read."""
    found = []
    for s in sentences:
        eif = _EIF.search(s)
        if not eif or not (_OWN.search(s[eif.end():]) or re.match(r"(?:for each|for any|when a)\b", s)):
            continue
        m = _DELAY.search(s[eif.end():])
        found.append(_delay(m) if m else None)
    if None in found or len({str(d) for d in found}) > 1:
        return False
    return found[0] if found else None


def _reio(text: str) -> str | None:
    if re.search(r"shall not be counted as additional", text):
        return "not_additional"
    if re.search(r"organi[sz]ation[^.]{0,120}?shall not be counted\b", text):
        return "not_counted"
    if re.search(r"regional economic integration organi[sz]ation[^.]{0,120}?shall be counted\b", text):
        return "as_state"
    return None


def _date(day: str, month: str, year: str) -> str | None:
    try:
        return date(int(year), _MONTHS.split().index(month) + 1, int(day)).isoformat()
    except ValueError:
        return None


def _fixed(text: str) -> dict[str, Any] | None:
    m = _FIXED.search(_squash(text))
    if not m:
        return None
    n, days, when = parse_number(m.group("n")), parse_number(m.group("o"), True), _date(*m.group(1, 2, 3))
    if n is None or days is None or when is None:
        return None
    return {"threshold": n, "counts": _counts(m.group("k")), "delay": {"days": days}, "fixed_date": when}


def _note(sentence: str) -> str:
    sentence = sentence.rstrip(" \"'.") + "."
    return "extracted from: " + (sentence if len(sentence) <= 300 else sentence[:297].rstrip() + "...")


def _find_main(sentences: list[str], text: str) -> tuple[dict[str, Any], str, list[str]] | None:
    """The rule, the sentence it was read from and the sentences after it."""
    if spec := _fixed(text):
        i = next(i for i, s in enumerate(sentences) if "in the event that this condition" in s.lower())
        return spec, " ".join(sentences[i - 1 : i + 1]), sentences[i + 1 :]
    for i, sentence in enumerate(sentences):
        low = _squash(sentence)
        if (eif := _EIF.search(low)) and (spec := _main_rule(low[eif.end():])):
            return spec, sentence, sentences[i + 1 :]
    return None


def extract_rule_spec(text: str) -> dict[str, Any] | None:
    """The rule spec printed in an entry-into-force text, or None when there is no readable rule."""
    text = _normalize(text or "")
    sentences = [s for s in (_LEAD.sub("", p) for p in _SPLIT.split(text)) if s.strip()]
    found = _find_main(sentences, text)
    if found is None:
        return None
    rule, main, rest = found
    later = _later([_squash(s) for s in rest])
    if later is False or ("fixed_date" not in rule and _BLOCK.search(_squash(main))):
        return None
    spec: dict[str, Any] = {"threshold": rule["threshold"], "counts": rule["counts"]}
    if reio := _reio(_squash(text)):
        spec["reio"] = reio
    spec["delay"] = rule["delay"]
    if later:
        spec["later"] = later
    if nb := re.search(rf"not (?:before|earlier than) {_DATE}", _squash(main)):
        if not (when := _date(*nb.groups())):
            return None
        spec["not_before"] = when
    if "fixed_date" in rule:
        spec["fixed_date"] = rule["fixed_date"]
    cite = _CITATION.search(text)
    spec["citation"] = "a" + cite.group(1)[1:] if cite else None
    spec["notes"] = _note(main)
    return spec
