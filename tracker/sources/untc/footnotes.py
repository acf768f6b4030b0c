"""UNTC's footnote grammar: how the Secretary-General's status pages word withdrawals,
denunciations, re-accessions and predecessor States' instruments (tracker.domain.footnotes says
what the domain asks of a grammar; this is the only one that reads words so far).

Withdrawals: the depositary prints a withdrawn instrument in [brackets] with its original date;
the withdrawal's own dates are in the participant's footnote ("On 27 June 2025, the Government of
... deposited ... a notification of withdrawal ... The withdrawal took effect ... on 27 December
2025"); an ending whose effect the words do not date is returned undated, for the treaty's
withdrawal clause to date (tracker.domain.withdrawals).

Predecessors: UNTC lists today's States; when one succeeded a predecessor (Czechoslovakia, the
former Yugoslavia, the German Democratic Republic, Democratic Yemen, the Yemen Arab Republic), the
predecessor's earlier ratification or accession is only told in a footnote such as
"Czechoslovakia had signed and ratified the Convention on 7 October 1968 and 23 December 1975,
respectively".

Pure, standard library only (and the domain's types).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache

from tracker.domain.dates import MONTH_PATTERN, make_date
from tracker.domain.delays import add_months
from tracker.domain.endings import FOOTNOTE, UNKNOWN, Ending, Rejoined
from tracker.domain.footnotes import PredecessorReading
from tracker.domain.models import Participant
from tracker.domain.number_words import parse_number

# ---- withdrawals, denunciations, re-accessions -------------------------------------------------

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


def _about_someone_else(name: str, sentence: str) -> bool:
    """True when the sentence names the Government of another participant than `name`."""
    m = _GOVERNMENT.search(sentence)
    if m is None:
        return False
    named = _fold(m.group(1))
    own = _fold(re.sub(r"\s*\(.*?\)", "", name))
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


@lru_cache(maxsize=4096)
def _read(
    key: str, name: str, texts: tuple[str, ...]
) -> tuple[tuple[Ending, ...], tuple[Rejoined, ...]]:
    """The endings and re-joinings of the participant (its key and printed name) in the order
    its footnotes give them. Kept (a pure reading of these words, with frozen results): the same
    participant's footnotes are read again by each evaluation of a status and of the statuses
    after it, which mostly print them unchanged."""
    endings: list[Ending] = []
    rejoined: list[Rejoined] = []
    for text in texts:
        sentences = _sentences(text)
        last: date | None = None  # the latest date of the sentences before ("that same date")
        for i, sentence in enumerate(sentences):
            when = _DATE_RE.search(sentence)
            said = _date(when) if when else None
            previous, last = last, said or last
            if _about_someone_else(name, sentence) or _NOT_AN_ACT.search(sentence):
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
                    rejoined.append(Rejoined(key, kind, on, sentence[:300]))
                continue
            if not _ANNOUNCE.search(sentence) or _NOT_THE_TREATY.search(sentence):
                continue
            endings.append(_ending(key, sentence, sentences[i + 1 : i + 3]))
    return tuple(endings), tuple(rejoined)


def _ending(key: str, sentence: str, after: list[str]) -> Ending:
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
        return Ending(key, kind, notified, effective, FOOTNOTE, words[:600])
    return Ending(key, kind, notified, None, UNKNOWN, words[:600])  # the clause may date it


# ---- predecessor States' instruments --------------------------------------------------------

_P_DATE = r"\d{1,2}\s*[A-Za-z]+\s+\d{4}"
_P_KINDS = {
    "ratified": "ratification",
    "acceded to": "accession",
    "acceeded to": "accession",
    "accepted": "acceptance",
    "approved": "approval",
    "succeeded to": "succession",
}
# Typos seen on UNTC pages are kept: "Convenant" (IV-3, IV-4), "acceeded" (MTDSG XML).
_P_TREATY = r"(?:Convention|Convenant|Covenant|Protocol|Treaty|Agreement|[Aa]mendment)s?"
_P_INSTRUMENT = re.compile(
    r"(?:^|(?<=[.;:!?\"”)\]] ))"  # the subject opens a sentence, not a clause
    r"(?:The |the )?(?:former )?"
    r"(?P<subject>[A-Z][\w'’-]*(?: (?:[A-Z][\w'’-]*|of|and|the))*?)"
    r" (?:had )?(?P<signed>signed and )?(?P<verb>" + "|".join(_P_KINDS) + r") "
    r"(?:the (?:[\w'’-]+ ){0,6}?" + _P_TREATY + r"\b[^.]{0,160}?\b)?"  # "signed and ratified on D"
    r"on (?P<d1>" + _P_DATE + r")(?:,? and (?P<d2>" + _P_DATE + r")(?:,? respectively)?)?"
    r"(?!,? " + _P_DATE + r")"  # "on D1, D2 and D3, respectively": not one instrument's date
)
# Subjects that are no predecessor State: a Government (objections, the State's own acts), an
# organ, the treaty itself, or a sentence opener ("Although Democratic Kampuchea had signed").
_P_NOT_A_STATE = re.compile(
    r"^(?:Governments?|Secretary|Permanent|General|Convention|Covenant|Protocol|Treaty|Agreement|"
    r"It|This|An?|Its|Although|When|While|Since|After|Before|Upon|On|In|By|Further|Subsequently|"
    r"Moreover|However)\b"
)
_P_ALIASES = {
    "Socialist Federal Republic of Yugoslavia": "Yugoslavia",
    "Czech and Slovak Federal Republic": "Czechoslovakia",
}


def _p_date(text: str) -> date | None:
    m = re.fullmatch(r"(\d{1,2})\s*([A-Za-z]+)\s+(\d{4})", text)
    return make_date(*m.groups()) if m else None


def read_predecessors(
    text: str, own_names: frozenset[str] = frozenset()
) -> list[PredecessorReading]:
    """The predecessor instruments one footnote tells (signatures alone and objections are not)."""
    flat = " ".join(text.split())  # also folds non-breaking spaces
    found: list[PredecessorReading] = []
    for m in _P_INSTRUMENT.finditer(flat):
        subject = m.group("subject")
        if _P_NOT_A_STATE.match(subject) or subject.casefold() in own_names:
            continue
        # "signed and ratified ... on D1 and D2, respectively": the second date is the instrument.
        when = _p_date(m.group("d2") if m.group("signed") and m.group("d2") else m.group("d1"))
        if when is not None:
            found.append((_P_ALIASES.get(subject, subject), _P_KINDS[m.group("verb")], when))
    return list(dict.fromkeys(found))


class UntcFootnotes:
    """The grammar of UNTC's footnotes (tracker.domain.footnotes.FootnoteGrammar)."""

    def endings(
        self, participant: Participant, texts: Sequence[str]
    ) -> tuple[Sequence[Ending], Sequence[Rejoined]]:
        if not texts:
            return (), ()
        return _read(participant.key, participant.name, tuple(texts))

    def predecessors(self, text: str, own_names: frozenset[str]) -> Sequence[PredecessorReading]:
        return read_predecessors(text, own_names)


FOOTNOTES = UntcFootnotes()
