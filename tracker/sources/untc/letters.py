"""UNTC's action letters: the letter printed after a date names the kind of action.

The domain keeps the neutral kinds (`tracker.domain.models.KINDS`); this is how UNTC's pages
print them, by column and letter (never by position).
"""

from __future__ import annotations

from tracker.domain.models import Column

LETTER_KINDS: dict[str, str] = {
    "": "ratification",
    "a": "accession",
    "A": "acceptance",
    "AA": "approval",
    "d": "succession",
    "c": "formal_confirmation",
    "C": "formal_confirmation",
    "s": "definitive_signature",
    "P": "consent_to_be_bound",
    "p": "participation",
    "n": "provisional_application",
}
# In the signature column the same letters mean something narrower.
SIGNATURE_LETTER_KINDS: dict[str, str] = {
    "": "signature",
    "d": "succession_to_signature",
    "s": "definitive_signature",
}
# In a provisional-application column an unlettered date is provisional application too.
PROVISIONAL_LETTER_KINDS: dict[str, str] = {"": "provisional_application"}
_COLUMN_LETTER_KINDS = {
    Column.SIGNATURE: SIGNATURE_LETTER_KINDS,
    Column.PROVISIONAL: PROVISIONAL_LETTER_KINDS,
}


def kind_for(column: Column, letter: str) -> str:
    """Name the kind of an action from its column and its letter (ValueError if unknown)."""
    narrower = _COLUMN_LETTER_KINDS.get(column, {})
    if letter in narrower:
        return narrower[letter]
    if letter in LETTER_KINDS:
        return LETTER_KINDS[letter]
    raise ValueError(f"unknown action letter {letter!r}")


def kinds_for(column: Column) -> dict[str, str]:
    """Every letter kind_for() knows in `column`, with its kind (a look-up for the table
    parsers' inner loop; a letter missing from it is one kind_for() refuses)."""
    return LETTER_KINDS | _COLUMN_LETTER_KINDS.get(column, {})


def label_in_force(label: str | None) -> bool | None:
    """What UNTC's entry-into-force label says: "Entry into force" (or "entered into force"):
    True; "Not yet in force": False; no label, or other words: None (nothing is guessed)."""
    if label is None:
        return None
    folded = label.casefold()
    if "not yet" in folded:
        return False
    if "entry into force" in folded or "entered into force" in folded:
        return True
    return None
