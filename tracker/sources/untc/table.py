"""UNTC participants table semantics shared by the HTML and XML parsers: column roles, rows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from tracker.domain.models import Action, Column, Participant
from tracker.sources import PageRejected
from tracker.sources.countries import identify
from tracker.sources.text import clean, read_cell
from tracker.sources.untc.letters import kind_for, kinds_for

# Case-insensitive on purpose: "Undertaking of provisional application" and "Notification of
# non-provisional application" (UNCLOS Part XI, XXI-6-a) are not consent: the printed parties
# count of XXI-6-a only agrees with the table when that column is left out of the parties.
_PROVISIONAL_RE = re.compile(r"provisional application", re.I)


# Each column role's letters and kinds (tracker.sources.untc.letters.kind_for, looked up once).
_KINDS: dict[Column, dict[str, str]] = {role: kinds_for(role) for role in Column}


def column_role(header: str) -> Column:
    """Role of a non-participant column from its printed header."""
    text = clean(header)
    if _PROVISIONAL_RE.search(text):
        return Column.PROVISIONAL
    if text.casefold().startswith("signature"):
        return Column.SIGNATURE
    return Column.CONSENT


def column_roles(columns: Sequence[str]) -> tuple[Column, ...]:
    """Roles of every column after the first (the participant column)."""
    return tuple(column_role(h) for h in columns[1:])


# Tables print the same cells again and again (a day of signature, the same date in another
# treaty); an Action is a frozen value, so one instance serves every cell printed alike.
@lru_cache(maxsize=1 << 14)
def cell_action(raw: str, role: Column) -> Action | None:
    """The action a raw cell of a `role` column prints (None: an empty cell; ValueError: an
    unreadable one, an unknown letter)."""
    cell = read_cell(raw)
    if cell is None:
        return None
    on, letter, withdrawn = cell
    kind = _KINDS[role].get(letter) or kind_for(role, letter)  # kind_for: the error
    return Action(role, kind, on, letter, withdrawn)


def build_participant(
    name: str, refs: Sequence[str], cells: Sequence[str], roles: Sequence[Column], row: int
) -> Participant:
    """One participant from its printed name (cleaned: tracker.sources.text.clean), footnote
    refs and raw cells (PageRejected if odd)."""
    if not name:
        raise PageRejected(f"participants table row {row}: empty participant name")
    if len(cells) != len(roles):
        raise PageRejected(
            f"participants table row {row} ({name}): {len(cells) + 1} cells "
            f"but {len(roles) + 1} column headers (layout change?)"
        )
    actions: list[Action] = []
    for raw, role in zip(cells, roles, strict=True):
        if not raw or raw.isspace():  # read_cell()'s first test: an empty cell (most of them)
            continue
        try:
            action = cell_action(raw, role)
        except ValueError as exc:
            raise PageRejected(
                f"participants table row {row} ({name}), {role.value} column: {exc} "
                "(layout change?)"
            ) from exc
        if action is not None:
            actions.append(action)
    ident = identify(name)
    return Participant(name, ident.iso3, ident.reio, tuple(refs), tuple(actions))
