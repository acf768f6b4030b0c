"""Numbers as the depositary writes them: "one hundred and eightieth", "65th", "ninety (90)".

Standard library only. `parse_number` reads one; `NUMBER` is the pattern of one in running text
(tracker.domain.rule_sentence reads thresholds and delays with it).
"""

from __future__ import annotations

import re

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
NUMBER = rf"(?:\d+(?:st|nd|rd|th)?|(?:{_WORD})(?:(?:-|\s+and\s+|\s+)(?:{_WORD}))*\b)(?:\s*\(\d+\))?"


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
