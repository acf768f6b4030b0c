"""Read an entry-into-force rule spec (see tracker.domain.rules) from the depositary's printed text.

Standard library only. Only the common wordings are read ("on the ninetieth day after the date of
deposit of the fortieth instrument of ratification, acceptance, approval or accession"); the
extractor never guesses. extract_rule accounts for every clause of the text: each sentence is
read (the rule, a later participant's delay, how an organization's instrument counts, the
citation) or set aside as not about entry into force; the rule sentence must be consumed to its
last word. Anything else -- a qualifier it does not model (who may deposit, "not before the entry
into force of the Convention", "provided that ..."), a number or delay it cannot read, a later
paragraph it cannot read -- is a refusal that quotes the words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tracker.domain.dates import MONTH_PATTERN, make_date
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


class _Unreadable(Exception):
    """Rule wording that cannot be read or modelled: no spec. `reason` groups refusals; `words`
    are the printed words that were not read."""

    def __init__(self, reason: str, words: str) -> None:
        super().__init__(f"{reason}: {words}")
        self.reason, self.words = reason, words


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
_EXPIRY = r"(?:the expiration of (?:the period of |a period of )?|the expiry of |a period of )?"
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
_DATE = rf"(\d{{1,2}}) ({MONTH_PATTERN}) (\d{{4}})"
_FIXED = re.compile(
    rf"into force on {_DATE},? provided that {_AT_LEAST}{_N} instruments of {_K}"
    rf"(?: of the amendment)? (?:have|shall have) been deposited(?P<q>[^.]*)\.\s*in the event that this "
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
        raise _Unreadable("unreadable number", m.group(0).strip())
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
_TAIL_END = r"[\s.,;:\"']*$"
_STATES = re.compile(
    r"by states(?: or by namibia, represented by the united nations council for namibia)?"
    r"(?=,? but not|[\s.,;:\"']*$)"
)
_NOT_BEFORE = re.compile(rf",? but not (?:before|earlier than) {_DATE}")


def _main_rule(clause: str) -> tuple[dict[str, Any], str, str] | None:
    """Threshold, counts and delay from the words after 'shall enter into force', with the words
    before the delay and those after the count (both still to be accounted for)."""
    for m in _DELAY.finditer(clause):
        for pattern, ordinal in _THRESHOLDS:
            if t := re.match(pattern, clause[m.end() :]):
                n = parse_number(t.group("n"), ordinal)
                if n is None:
                    raise _Unreadable("unreadable number", t.group(0))
                kinds = t.group("k") if "k" in t.groupdict() else ""  # consent to be bound
                counts = _counts(kinds) or [*DEFAULT_COUNTS, "consent_to_be_bound"]
                rule = {"threshold": n, "counts": counts, "delay": _delay(m)}
                return rule, clause[: m.start()], clause[m.end() + t.end() :]
    return None


def _tail(tail: str, rule: dict[str, Any]) -> list[str]:
    """Read the words after the count into `rule` (the clauses read); _Unreadable otherwise."""
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
    if re.fullmatch(_TAIL_END, rest):
        return read
    if re.match(
        r",? except that it shall not enter into force before|,? except that is shall", rest
    ):
        raise _Unreadable("depends on another treaty", rest.lstrip(", ").rstrip(" .\"'"))
    if re.match(r"by (?:states|regional|any|the)\b", rest):
        raise _Unreadable("who may deposit", rest.rstrip(" .\"'"))
    raise _Unreadable("unread words in the rule sentence", rest.lstrip(", ").rstrip(" .\"'"))


# After a later paragraph's delay: its own deposit, perhaps "or on the date this Protocol enters
# into force pursuant to paragraph 1, whichever is later" (what Rule.later means anyway).
_LATER_TAIL = re.compile(
    r"(?:the )?(?:date (?:of |on which )?)?(?:the )?(?:its )?(?:deposit(?:ing)?\b|such deposit"
    r"|definitive signature|(?:that|such) (?:state|party) (?:has deposited|deposits)\b)"
    r"(?:(?!not before|not earlier|provided|\bif\b|unless|except|whichever|subject to)[^;])*?"
    r"(?:,? or (?:on|at) the date (?:on which )?(?:this|the) [a-z]+ enters into force pursuant to"
    r" paragraph 1(?: of this article)?, whichever is (?:the )?later)?" + _TAIL_END
)
_OWN_DEPOSIT = re.compile(r"\b(?:its|their|such|that|appropriate|relevant)\b|definitive signature")
# Between a later paragraph's "enter into force" and its delay: for whom, nothing else.
_LATER_GAP = re.compile(
    r"(?:(?:in respect of|for) (?:that|such|each|any other) (?:state|party|organization)"
    r"(?: to the [a-z]+)? )?"
)


def _later_sentence(sentence: str) -> bool:
    s = _squash(sentence)
    eif = _EIF.search(s)
    return bool(
        eif and (_OWN.search(s[eif.end() :]) or re.match(r"(?:for each|for any|when a)\b", s))
    )


def _later(sentences: list[str]) -> dict[str, Any] | None:
    """The delay for those joining later (paragraphs after the rule); all must agree."""
    found = []
    for sentence in sentences:
        s = _squash(sentence)
        eif = _EIF.search(s)
        assert eif is not None
        m = _DELAY.search(s[eif.end() :])
        if m is None:
            raise _Unreadable("later paragraph not read", sentence.strip(" \"'."))
        gap, tail = s[eif.end() : eif.end() + m.start()].strip(), s[eif.end() + m.end() :]
        if (
            re.search(
                r"\b(?:except|unless|provided|subject to|notwithstanding)\b", s[: eif.start()]
            )
            or not _LATER_GAP.fullmatch(gap and gap + " ")
            or not _LATER_TAIL.match(tail)
            or not _OWN_DEPOSIT.search(tail)  # its own deposit, not the Nth instrument
        ):
            raise _Unreadable("later paragraph not read", sentence.strip(" \"'."))
        found.append(_delay(m))
    if any(d != found[0] for d in found):
        raise _Unreadable("later paragraphs disagree", " / ".join(s.strip() for s in sentences))
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
    found = make_date(day, month, year)
    if found is None:
        raise _Unreadable("unreadable date", f"{day} {month} {year}")
    return found.isoformat()


def _fixed(text: str) -> tuple[dict[str, Any], str] | None:
    """'on 1 January 2019, provided that ... In the event that this condition has not been ...',
    with the words the pattern skipped over (still to be accounted for)."""
    m = _FIXED.search(_squash(text))
    if not m:
        return None
    n, days = parse_number(m.group("n")), parse_number(m.group("o"), True)
    if n is None or days is None:
        raise _Unreadable("unreadable number", m.group(0))
    counts, fixed = _counts(m.group("k")), _date(*m.group(1, 2, 3))
    rule = {"threshold": n, "counts": counts, "delay": {"days": days}, "fixed": fixed}
    return rule, m.group("q")


@dataclass(frozen=True)
class Clause:
    """One sentence of the text and what the extractor made of it."""

    role: str  # "rule", "later", "reio", "citation" or "other" (not about entry into force)
    words: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "words": self.words}


@dataclass(frozen=True)
class Extraction:
    """What the extractor made of a text: a spec, or a refusal that quotes the words it could
    not read (`reason` groups refusals); `clauses`: every sentence and how it was read."""

    spec: dict[str, Any] | None
    refused: str | None = None
    reason: str | None = None
    clauses: tuple[Clause, ...] = ()

    def refusal(self) -> str | None:
        """One line for a warning: "the printed text could not be read (reason): 'words'"."""
        if self.refused is None:
            return None
        words = self.refused if len(self.refused) <= 300 else self.refused[:297] + "..."
        return f"the printed text could not be read ({self.reason}): '{words}'"


def _refuse(reason: str, words: str, clauses: list[Clause] | None = None) -> Extraction:
    words = words.strip() or "(no text)"
    return Extraction(None, words, reason, tuple(clauses or ()))


# Sentences set aside: the citation that introduces the quote, and wording that is about
# something else than when the treaty enters into force (signature, application, annexes).
_INTRO = re.compile(
    r"(?!.*\b(?:except|provided|subject to|not before|unless|with the exception)\b)"
    r"(?:\d{1,2} [a-z]+ \d{4}\s*,?\s*)?(?:(?:in accordance with|see) articles? [^:]*?(?:which"
    r" reads?(?:, in part,| in part)? as follows ?:)?|article \d+ ?:(?: ?1\.)?)\s*[\"'(]*$"
)


def _classify(sentence: str) -> str | None:
    """The role of a sentence that is not the rule: citation, later, reio, other; None: a
    sentence about entry into force the extractor cannot read."""
    low = _squash(sentence)
    if _INTRO.fullmatch(low.strip()):
        return "citation"
    if _later_sentence(sentence):
        return "later"
    if _reio(low) and not _EIF.search(low):
        return "reio"
    if _EIF.search(low) or re.search(
        r"\bentry into force\b|\bcounted\b|provided that|\bnot before\b|\bexcept\b|\bunless\b"
        r"|with the exception",
        low,
    ):
        return _set_aside(low)
    return "other"


def _set_aside(low: str) -> str | None:
    """Sentences that name entry into force but do not state when the treaty enters into force:
    a provision applied from it, the depositary's notice of it."""
    harmless = (
        r"(?:each state party shall apply|this convention applies only to|if a receivable is"
        r" assigned|the depositary shall notify)\b"
    )
    return "other" if re.match(harmless, low.strip(" \"'")) else None


def _find_main(
    sentences: list[str], text: str
) -> tuple[dict[str, Any], int, int, list[str]] | None:
    """The rule, the sentences it was read from [i, j) and the clauses read from them."""
    if found := _fixed(text):
        rule, skipped = found
        if skipped.strip():
            raise _Unreadable("who may deposit", skipped.strip(" ,."))
        i = next(i for i, s in enumerate(sentences) if "in the event that this" in s.lower())
        return rule, max(i - 1, 0), i + 1, []
    for i, sentence in enumerate(sentences):
        low = _squash(sentence)
        if not (eif := _EIF.search(low)):
            continue
        if not (found := _main_rule(low[eif.end() :])):
            continue
        if _BLOCK.search(low):
            raise _Unreadable("further condition", sentence.strip(" \"'."))
        rule, gap, tail = found
        prefix = low[: eif.start()]
        if not _SUBJECT.fullmatch(prefix.strip() + " "):
            raise _Unreadable("unread words in the rule sentence", sentence[: eif.start()].strip())
        if not _GAP.fullmatch(gap.strip() and gap.strip() + " "):
            raise _Unreadable("unread words in the rule sentence", gap.strip())
        read = [gap.strip().removesuffix("(i.e. ...").strip()] if gap.strip() else []
        read += _tail(tail, rule)
        return rule, i, i + 1, read
    return None


def _note(sentence: str) -> str:
    sentence = sentence.rstrip(" \"'.") + "."
    return "extracted from: " + (sentence if len(sentence) <= 300 else sentence[:297] + "...")


def _sentences(text: str) -> list[str]:
    return [s for s in (_LEAD.sub("", p) for p in _SPLIT.split(text)) if s.strip()]


def extract_rule(text: str) -> Extraction:
    """The rule spec printed in an entry-into-force text, or a refusal naming the words it could
    not read; every sentence of the text is accounted for in `clauses`."""
    text = _normalize(text or "")
    sentences = _sentences(text)
    clauses: list[Clause] = []
    try:
        if (found := _find_main(sentences, text)) is None:
            eif = [s for s in sentences if _EIF.search(_squash(s))]
            if not eif:  # a date and a citation: the rule itself is not printed
                return _refuse("no rule printed", text, clauses)
            return _refuse("rule wording not modelled", " ".join(eif), clauses)
        rule, i, j, read = found
        main = " ".join(sentences[i:j])
        roles = {k: _classify(s) for k, s in enumerate(sentences) if not i <= k < j}
        unread = None
        for k, s in enumerate(sentences):  # the clauses read, in the order printed
            if k == i:
                clauses.append(Clause("rule", main))
                clauses += [Clause("qualifier", words) for words in read]
            elif k in roles and (role := roles[k]) is not None:
                clauses.append(Clause(role, s))
            elif k in roles and unread is None:
                unread = s
        if unread is not None:
            raise _Unreadable("unread sentence about entry into force", unread.strip())
        spec: dict[str, Any] = {"threshold": rule["threshold"], "counts": rule["counts"]}
        if "only" in rule:
            spec["only"] = rule["only"]
        reio = _reio(_squash(text))
        spec["reio"] = reio or ("not_counted" if rule.get("only") == "states" else "unknown")
        spec["delay"] = rule["delay"]
        if later := _later([s for k, s in enumerate(sentences) if roles.get(k) == "later"]):
            spec["later"] = later
        if "not_before" in rule:
            spec["not_before"] = rule["not_before"]
    except _Unreadable as exc:
        return _refuse(exc.reason, exc.words, clauses)
    if "fixed" in rule:
        spec["fixed_date"] = rule["fixed"]
    cite = _CITATION.search(text)
    spec["citation"] = "a" + cite.group(1)[1:] if cite else None
    spec["notes"] = _note(main)
    return Extraction(spec, clauses=tuple(clauses))


def extract_rule_spec(text: str) -> dict[str, Any] | None:
    """The rule spec printed in an entry-into-force text, or None when there is no readable rule
    (extract_rule says why)."""
    return extract_rule(text).spec
