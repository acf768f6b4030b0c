"""Read an entry-into-force rule spec (see tracker.domain.rules) from the depositary's printed text.

Standard library only. Only the common wordings are read ("on the ninetieth day after the date of
deposit of the fortieth instrument of ratification, acceptance, approval or accession"); the
extractor never guesses. extract_rule accounts for every clause of the text: each sentence is
read (the rule, a later participant's delay, how an organization's instrument counts, the
citation) or set aside as not about entry into force; the rule sentence must be consumed to its
last word. Anything else -- a qualifier it does not model (who may deposit, "not before the entry
into force of the Convention", "provided that ..."), a number or delay it cannot read, a later
paragraph it cannot read -- is a refusal that quotes the words.

The rule sentence itself is read by tracker.domain.rule_sentence; this module accounts for the
others (a later participant's delay, how an organization's instrument counts, the citation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tracker.domain.rule_sentence import (
    DELAY,
    EIF,
    TAIL_END,
    Unreadable,
    find_main,
    normalize,
    read_delay,
    read_reio,
    squash,
)

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


# After a later paragraph's delay: its own deposit, perhaps "or on the date this Protocol enters
# into force pursuant to paragraph 1, whichever is later" (what Rule.later means anyway).
_LATER_TAIL = re.compile(
    r"(?:the )?(?:date (?:of |on which )?)?(?:the )?(?:its )?(?:deposit(?:ing)?\b|such deposit"
    r"|definitive signature|(?:that|such) (?:state|party) (?:has deposited|deposits)\b)"
    r"(?:(?!not before|not earlier|provided|\bif\b|unless|except|whichever|subject to)[^;])*?"
    r"(?:,? or (?:on|at) the date (?:on which )?(?:this|the) [a-z]+ enters into force pursuant to"
    r" paragraph 1(?: of this article)?, whichever is (?:the )?later)?" + TAIL_END
)
_OWN_DEPOSIT = re.compile(r"\b(?:its|their|such|that|appropriate|relevant)\b|definitive signature")
# Between a later paragraph's "enter into force" and its delay: for whom, nothing else.
_LATER_GAP = re.compile(
    r"(?:(?:in respect of|for) (?:that|such|each|any other) (?:state|party|organization)"
    r"(?: to the [a-z]+)? )?"
)


def _later_sentence(sentence: str) -> bool:
    s = squash(sentence)
    eif = EIF.search(s)
    return bool(
        eif and (_OWN.search(s[eif.end() :]) or re.match(r"(?:for each|for any|when a)\b", s))
    )


def _later(sentences: list[str]) -> dict[str, Any] | None:
    """The delay for those joining later (paragraphs after the rule); all must agree."""
    found = []
    for sentence in sentences:
        s = squash(sentence)
        eif = EIF.search(s)
        assert eif is not None
        m = DELAY.search(s[eif.end() :])
        if m is None:
            raise Unreadable("later paragraph not read", sentence.strip(" \"'."))
        gap, tail = s[eif.end() : eif.end() + m.start()].strip(), s[eif.end() + m.end() :]
        if (
            re.search(
                r"\b(?:except|unless|provided|subject to|notwithstanding)\b", s[: eif.start()]
            )
            or not _LATER_GAP.fullmatch(gap and gap + " ")
            or not _LATER_TAIL.match(tail)
            or not _OWN_DEPOSIT.search(tail)  # its own deposit, not the Nth instrument
        ):
            raise Unreadable("later paragraph not read", sentence.strip(" \"'."))
        found.append(read_delay(m))
    if any(d != found[0] for d in found):
        raise Unreadable("later paragraphs disagree", " / ".join(s.strip() for s in sentences))
    return found[0] if found else None


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
    low = squash(sentence)
    if _INTRO.fullmatch(low.strip()):
        return "citation"
    if _later_sentence(sentence):
        return "later"
    if read_reio(low) and not EIF.search(low):
        return "reio"
    if EIF.search(low) or re.search(
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


def _note(sentence: str) -> str:
    sentence = sentence.rstrip(" \"'.") + "."
    return "extracted from: " + (sentence if len(sentence) <= 300 else sentence[:297] + "...")


def _sentences(text: str) -> list[str]:
    return [s for s in (_LEAD.sub("", p) for p in _SPLIT.split(text)) if s.strip()]


def extract_rule(text: str) -> Extraction:
    """The rule spec printed in an entry-into-force text, or a refusal naming the words it could
    not read; every sentence of the text is accounted for in `clauses`."""
    text = normalize(text or "")
    sentences = _sentences(text)
    clauses: list[Clause] = []
    try:
        if (found := find_main(sentences, text)) is None:
            eif = [s for s in sentences if EIF.search(squash(s))]
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
            raise Unreadable("unread sentence about entry into force", unread.strip())
        spec: dict[str, Any] = {"threshold": rule["threshold"], "counts": rule["counts"]}
        if "only" in rule:
            spec["only"] = rule["only"]
        reio = read_reio(squash(text))
        spec["reio"] = reio or ("not_counted" if rule.get("only") == "states" else "unknown")
        spec["delay"] = rule["delay"]
        if later := _later([s for k, s in enumerate(sentences) if roles.get(k) == "later"]):
            spec["later"] = later
        if "not_before" in rule:
            spec["not_before"] = rule["not_before"]
    except Unreadable as exc:
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
