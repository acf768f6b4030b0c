"""Events in words, for people (the /changes page, the Atom feeds): never a stored enum name."""

from __future__ import annotations

from typing import Any

from db.vocabulary import EventKind, EventState

# A kind as a filter's label.
KIND_WORDS: dict[str, str] = {
    EventKind.SIGNATURE: "signature",
    EventKind.CONSENT: "new party (consent to be bound)",
    EventKind.PROVISIONAL_APPLICATION: "provisional application",
    EventKind.WITHDRAWAL: "withdrawal",
    EventKind.REVOCATION: "revocation of a consent",
    EventKind.REACCESSION: "party again",
    EventKind.CORRECTION: "correction by the depositary",
    EventKind.DECLARATION: "declaration or reservation",
    EventKind.PARTICIPANT_DISAPPEARED: "participant no longer listed",
    EventKind.ACTION_DISAPPEARED: "action no longer listed",
    EventKind.REAPPEARANCE: "listed again",
    EventKind.RETRACTION: "earlier event withdrawn",
    EventKind.APPROACHING: "approaching the threshold",
    EventKind.THRESHOLD_CROSSED: "threshold met",
    EventKind.ENTERED_INTO_FORCE: "entry into force",
}

# A state other than settled, as a badge.
STATE_WORDS: dict[str, str] = {
    EventState.SUSPICIOUS: "not yet confirmed",
    EventState.CONFIRMED: "confirmed by a second look",
    EventState.RETRACTED: "withdrawn: shown wrong",
    EventState.DISPUTED: "held: disagrees with the depositary's page",
}

_HEADLINES: dict[str, str] = {
    EventKind.SIGNATURE: "{who} signed",
    EventKind.CONSENT: "{who} became a party ({how})",
    EventKind.PROVISIONAL_APPLICATION: "{who} applies it provisionally",
    EventKind.WITHDRAWAL: "{who} withdrew",
    EventKind.REVOCATION: "{who} revoked its {how}",
    EventKind.REACCESSION: "{who} became a party again ({how})",
    EventKind.CORRECTION: "the depositary corrected {who}'s entry",
    EventKind.DECLARATION: "{who} made or changed a declaration or reservation ({how})",
    EventKind.PARTICIPANT_DISAPPEARED: "{who} is no longer listed",
    EventKind.ACTION_DISAPPEARED: "an action of {who} is no longer listed",
    EventKind.REAPPEARANCE: "{who} is listed again, as before",
    EventKind.RETRACTION: "an earlier event was withdrawn",
    EventKind.APPROACHING: "{remaining} instruments remain before the threshold",
    EventKind.THRESHOLD_CROSSED: "the entry-into-force threshold was met",
    EventKind.ENTERED_INTO_FORCE: "entered into force",
}


def kind_words(kind: str) -> str:
    return KIND_WORDS.get(kind, kind.replace("_", " "))


def headline(e: dict[str, Any]) -> str:
    """What happened, as a sentence without its treaty: "Austria became a party (ratification)"."""
    d = e.get("details") or {}
    template = _HEADLINES.get(e["kind"], kind_words(e["kind"]))
    how = d.get("action_kind") or d.get("kind") or "instrument"
    text = template.format(
        who=e.get("participant") or "a participant",
        how=str(how).replace("_", " "),
        remaining=d.get("remaining", "some"),
    )
    return text[:1].upper() + text[1:]


def state_words(state: str | None) -> str | None:
    """A badge for an event that is not simply settled (None for a final one)."""
    return STATE_WORDS.get(state) if state else None
