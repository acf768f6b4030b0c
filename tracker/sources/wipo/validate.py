"""Acceptance rules for a parsed WIPO Lex Contracting Parties page: raise PageRejected with a
reason a person can act on (the same PageRejected as UNTC's, so the same quarantine).

What "party" means here. WIPO Lex's "Total Members: N" counts the rows that print an In Force
date, whatever the Instrument column holds, and a future date counts already. On the 26 real
pages of 2026-02-03 that count equals the printed total on every one of the 25 in force, while
the rows with an instrument do not: the Trademark Law Treaty lists 57 instruments and 55 members
(Burkina Faso's and Guinea's accessions of 1996-1997 print no In Force date and are not members),
and the Paris Convention (Viet Nam), the Madrid Agreement on Indications of Source (New Zealand)
and the WIPO Convention (Ireland) each count one member in force with no instrument printed.
Angola (Marrakesh: accession December 15, 2025, in force March 15, 2026) is counted on
2026-02-03. So a page's members are its participants with a `published_in_force_from`; the
domain's `parties` (participants with a consent action) is a different figure and is not what
WIPO prints.
"""

from __future__ import annotations

from collections import Counter

from tracker.domain.models import TreatyStatus
from tracker.sources import PageRejected

NOT_A_STATUS_PAGE = (
    "not a WIPO Lex Contracting Parties page: {what} (maintenance or error page answering 200?)"
)


def check_identity(treaty_ids: set[str], view: str | None, expected: str | None) -> str:
    """The page's own treaty_id (from its canonical link): one, the one asked for, and the
    Contracting Parties view (search_what=C)."""
    if not treaty_ids:
        raise PageRejected(NOT_A_STATUS_PAGE.format(what="no canonical link with a treaty_id"))
    if len(treaty_ids) > 1:
        raise PageRejected(f"the page names several treaties: {', '.join(sorted(treaty_ids))}")
    (treaty_id,) = treaty_ids
    if view is not None and view.upper() != "C":
        raise PageRejected(f"not the Contracting Parties view: search_what={view!r} (expected 'C')")
    if expected is not None and treaty_id != expected:
        raise PageRejected(f"wrong treaty: page is {treaty_id}, expected {expected}")
    return treaty_id


def members(status: TreatyStatus) -> int:
    """What WIPO's Total Members counts: the participants with a printed In Force date."""
    return sum(1 for p in status.participants if p.published_in_force_from is not None)


def check_status(status: TreatyStatus, *, table_found: bool) -> TreatyStatus:
    """Reject a page without participants, with a participant twice, or whose members
    disagree with its printed Total Members."""
    if not table_found:
        raise PageRejected("no participants table (no table#wipoTreatiesTable)")
    if not status.participants:
        raise PageRejected("participants table has no rows")
    seen = Counter(p.key for p in status.participants)
    twice = sorted({p.name for p in status.participants if seen[p.key] > 1})
    if twice:
        raise PageRejected(f"participant listed more than once: {', '.join(twice)}")
    if status.in_force is True and status.published_parties is None:
        raise PageRejected("the page prints no Total Members although it is in force")
    counted = members(status)
    if status.published_parties is not None and counted != status.published_parties:
        raise PageRejected(
            f"parties disagree: table has {counted} members with an In Force date, "
            f"page prints Total Members: {status.published_parties}"
        )
    return status
