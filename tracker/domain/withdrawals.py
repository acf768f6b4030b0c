"""When a participant stopped being bound: withdrawals and denunciations, with their dates.

Pure, stdlib only. The depositary prints a withdrawn instrument in [brackets] with its original
date; the withdrawal's own dates are in the participant's footnote ("On 27 June 2025, the
Government of ... deposited ... a notification of withdrawal ... The withdrawal took effect ... on
27 December 2025"), or follow from the treaty's withdrawal clause ("six months after receipt"),
or are not known at all: then an `Ending` says so (effective_on None) and carries the bounds the
history can give (still bound on `not_before`, no longer on `not_after`).

Here: reading them from the footnotes (`read_withdrawals`, with the re-accessions a footnote
gives). The `Ending` itself, and which act it ended, is tracker.domain.endings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from tracker.domain.dates import MONTH_PATTERN, make_date
from tracker.domain.delays import Delay, add_months
from tracker.domain.endings import CLAUSE, FOOTNOTE, UNKNOWN, Ending
from tracker.domain.models import Column, Participant, TreatyStatus
from tracker.domain.number_words import parse_number


@dataclass(frozen=True)
class Rejoined:
    """A new instrument the footnote gives after an ending (Trinidad and Tobago re-acceded to
    the Optional Protocol on 26 August 1998), not printed in the table."""

    participant: str
    kind: str  # "accession", "ratification" ...
    on: date
    words: str = ""


@dataclass(frozen=True)
class Withdrawals:
    """What the footnotes of one status say about withdrawals, per participant key."""

    endings: Mapping[str, Sequence[Ending]]
    rejoined: Mapping[str, Sequence[Rejoined]]


def read_withdrawals(status: TreatyStatus, clause: Delay | None = None) -> Withdrawals:
    """Read every participant's withdrawals from its footnotes (`clause`: the treaty's delay
    from notification to effect, for a footnote that gives the notification date only).

    A participant with a bracketed consent and no readable footnote gets an Ending with
    basis UNKNOWN. Withdrawals of reservations or declarations are not endings."""
    notes = {f.ref: f.text for f in status.footnotes}
    endings: dict[str, tuple[Ending, ...]] = {}
    rejoined: dict[str, tuple[Rejoined, ...]] = {}
    for p in status.participants:
        texts = [notes[r] for r in p.footnotes if r in notes]
        read, again = _read(p, texts, clause)
        found = _applicable(p, read)
        if found:
            endings[p.key] = tuple(found)
        if again:
            rejoined[p.key] = tuple(again)
    return Withdrawals(endings, rejoined)


def _applicable(p: Participant, read: list[Ending]) -> list[Ending]:
    """The endings that concern the participant's printed instruments, oldest first.

    Repeats are dropped; an announcement without any date counts only when nothing dated is
    known. On a row printed without brackets the depositary still lists the instrument as in
    force, so only a dated ending after its latest consent counts there (a withdrawal not yet in
    effect, or one the page has not caught up with); an earlier one ended an instrument the row
    no longer shows (a re-accession is printed instead). A bracketed row always has an ending,
    of unknown date if nothing better can be read."""
    unique: list[Ending] = []
    for e in read:
        if not any((e.kind, e.notified_on, e.effective_on) == (u.kind, u.notified_on,
                   u.effective_on) for u in unique):  # fmt: skip
            unique.append(e)
    dated = [e for e in unique if e.notified_on or e.effective_on]
    undated = [e for e in unique if not (e.notified_on or e.effective_on)]
    if not _bracketed(p):
        latest = max((a.date for a in p.actions if a.column is Column.CONSENT), default=None)
        return [
            e
            for e in dated
            if e.effective_on and (latest is None or (e.notified_on or e.effective_on) > latest)
        ]
    if dated:
        return sorted(dated, key=lambda e: e.notified_on or e.effective_on or date.min)
    words = " ".join(e.words for e in undated)
    kind = undated[0].kind if undated else "withdrawal"
    return [Ending(p.key, kind, None, None, UNKNOWN, words[:600])]


def _bracketed(p: Participant) -> bool:
    """True when the participant's consent (or, lacking one, its signature) is bracketed."""
    consent = [a for a in p.actions if a.column is Column.CONSENT]
    return any(a.withdrawn for a in consent or p.actions)


_DATE = r"(\d{1,2})\s+(" + MONTH_PATTERN + r")\s+(\d{4})"
_DATE_RE = re.compile(_DATE, re.IGNORECASE)
# A State taking back its instrument itself (a de-ratification).
_REVOKE = (
    r"revo(?:ked|king|cation of) (?:its |the )?(?:instrument of )?(?:ratification|accession)"
    r"|withdr(?:awal of|ew|awn) (?:its |the )?instrument of (?:ratification|accession)"
    r"|de-?ratif"
)
# A notification that ends the participant's consent to the treaty itself.
_ANNOUNCE = re.compile(
    r"notification of (?:withdrawal|denunciation)|(?:instrument|communication|notice) of "
    r"(?:withdrawal|denunciation)|notifying its withdrawal|its denunciation of|"
    r"(?:decision|decided) to (?:withdraw from|denounce)|withdrawal of \w+(?: \w+){0,6} from the"
    r"|\bdenounce[sd]? the\b|\bwithdr[ae]w from the\b|notifications? of withdrawal"
    r"|" + _REVOKE,
    re.IGNORECASE,
)
# ... and what only withdraws a reservation, a declaration or an objection.
_NOT_THE_TREATY = re.compile(
    r"withdraw(?:al of|s|n)? (?:its |the |his |their |all |certain )?(?:partial(?:ly)? )?"
    r"(?:reservations?|declarations?|objections?|territorial|interpretative|notification made)",
    re.IGNORECASE,
)
_EFFECT = re.compile(
    r"(?:with effect (?:from|as from|on)|took effect(?: for [^.,;]{1,80}?)? on|"
    r"(?:will|shall|would) (?:take|become) effect(?:ive)?(?: for [^.,;]{1,80}?)? on|"
    r"became effective(?: for [^.,;]{1,80}?)? on|effective (?:on |as (?:from|of) |from )?|"
    r"that is to say,? on|to take effect on)\s*" + _DATE,
    re.IGNORECASE,
)
_RELATIVE = re.compile(
    r"(?:take|become) effect(?:ive)? (?P<n>[\w-]+(?: \(\d+\))?) (?P<unit>days?|months?|years?) "
    r"(?:after|from) the (?:date of )?receipt",
    re.IGNORECASE,
)
# A notification withdrawn before it took effect ("decision to suspend the withdrawal").
_CANCEL = re.compile(
    r"(?:suspend|rescind|revoke|cancel)(?:ed|s)? (?:the |its )?(?:notification of )?"
    r"(?:withdrawal|denunciation)|withdr[ae]w(?:n)? (?:its|the) notification of "
    r"(?:withdrawal|denunciation)",
    re.IGNORECASE,
)
# Words that speak of a denunciation without being one (another State's objection, a clause).
_NOT_AN_ACT = re.compile(
    r"\bmay (?:denounce|withdraw)|purport(?:ing|ed) to (?:denounce|withdraw)|\bprovides? that\b"
    r"|^[A-Z][\w .'-]{1,60} \(\d{1,2} \w+ \d{4}\)\s*:",
)
_REJOIN = re.compile(r"\b(re-?acceded|acceded again|re-?ratified|ratified again)\b", re.IGNORECASE)
_REJOIN_KIND = {"acceded": "accession", "ratified": "ratification"}
_SENTENCE = re.compile(r"(?<=[.;])\s+(?=[A-Z\[(])")
_GOVERNMENT = re.compile(
    r"Government of (?:the )?([A-Z][\w'’-]*(?:\s+(?:of|and|the|[A-Z][\w'’-]*))*)"
)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(" ".join(text.split())) if s.strip()]


def _date(m: re.Match[str], start: int = 1) -> date | None:
    day, month, year = m.group(start, start + 1, start + 2)
    return make_date(day, month, year)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


def _about_someone_else(p: Participant, sentence: str) -> bool:
    """True when the sentence names the Government of another participant."""
    m = _GOVERNMENT.search(sentence)
    if m is None:
        return False
    named = _fold(m.group(1))
    own = _fold(re.sub(r"\s*\(.*?\)", "", p.name))
    core = [w for w in own.replace(",", " ").split() if w not in _FILLER]
    return not (named in own or own in named or (core and core[0] in named.split()))


_FILLER = {"the", "of", "and", "republic", "kingdom", "state", "states", "federal", "democratic",
           "people's", "united", "islamic", "plurinational", "bolivarian", "socialist"}  # fmt: skip


def _relative(sentence: str, notified: date | None) -> date | None:
    m = _RELATIVE.search(sentence)
    if m is None or notified is None:
        return None
    n = parse_number(m.group("n"))
    if n is None:
        return None
    unit = m.group("unit").lower()
    if unit.startswith("day"):
        return notified + timedelta(days=n)
    return add_months(notified, n * 12 if unit.startswith("year") else n)


def _read(
    p: Participant, texts: list[str], clause: Delay | None
) -> tuple[list[Ending], list[Rejoined]]:
    """The participant's endings and re-joinings, in the order its footnotes give them."""
    endings: list[Ending] = []
    rejoined: list[Rejoined] = []
    for text in texts:
        sentences = _sentences(text)
        last: date | None = None  # the latest date of the sentences before ("that same date")
        for i, sentence in enumerate(sentences):
            when = _DATE_RE.search(sentence)
            said = _date(when) if when else None
            previous, last = last, said or last
            if _about_someone_else(p, sentence) or _NOT_AN_ACT.search(sentence):
                continue
            if _CANCEL.search(sentence):
                if endings:
                    endings.pop()
                continue
            if m := _REJOIN.search(sentence):
                near = [(abs(d.start() - m.start()), d) for d in _DATE_RE.finditer(sentence)]
                on = _date(min(near, key=lambda t: t[0])[1]) if near else None
                if on is None and re.search(r"\bsame date\b", sentence, re.IGNORECASE):
                    on = previous
                verb = m.group(1).lower()
                kind = next((k for w, k in _REJOIN_KIND.items() if w in verb), "accession")
                if on is not None and not any(r.on == on for r in rejoined):
                    rejoined.append(Rejoined(p.key, kind, on, sentence[:300]))
                continue
            if not _ANNOUNCE.search(sentence) or _NOT_THE_TREATY.search(sentence):
                continue
            endings.append(_ending(p, sentence, sentences[i + 1 : i + 3], clause))
    return endings, rejoined


def _ending(p: Participant, sentence: str, after: list[str], clause: Delay | None) -> Ending:
    """One ending from its announcing sentence and the (up to two) sentences after it."""
    kind = "withdrawal"
    if re.search(_REVOKE, sentence, re.IGNORECASE):
        kind = "revocation"
    elif re.search(r"denunc|denounc", sentence, re.IGNORECASE):
        kind = "denunciation"
    effect = _EFFECT.search(sentence)
    notified = None
    for m in _DATE_RE.finditer(sentence):
        if effect is None or m.start() < effect.start() or m.start() > effect.end():
            notified = _date(m)
            break
    effective = _date(effect, 1) if effect else None
    words = sentence
    if effective is None:
        effective = _relative(sentence, notified)
    for follow in after:
        if effective is not None or _ANNOUNCE.search(follow) or _REJOIN.search(follow):
            break
        if (later := _EFFECT.search(follow)) is not None:
            effective, words = _date(later, 1), f"{sentence} {follow}"
        elif (rel := _relative(follow, notified)) is not None:
            effective, words = rel, f"{sentence} {follow}"
    if effective is not None:
        return Ending(p.key, kind, notified, effective, FOOTNOTE, words[:600])
    if notified is not None and clause is not None:
        return Ending(p.key, kind, notified, clause.apply(notified), CLAUSE, words[:600])
    return Ending(p.key, kind, notified, None, UNKNOWN, words[:600])
