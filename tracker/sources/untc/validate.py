"""Acceptance rules for a parsed UNTC status (both formats): raise PageRejected with a reason."""

from __future__ import annotations

from tracker.domain.models import Column, TreatyStatus
from tracker.sources import PageRejected
from tracker.sources.untc.table import column_roles

NOT_A_STATUS_PAGE = (
    "not a treaty status page: no treaty title (maintenance or error page answering 200?)"
)


def check_header(treaty_id: str | None, title: str | None, expected_treaty: str | None) -> str:
    """Reject a page that is not a treaty status page or not the treaty asked for; return its id."""
    if not title:
        raise PageRejected(NOT_A_STATUS_PAGE)
    if not treaty_id:
        raise PageRejected("not a treaty status page: no MTDSG treaty number found")
    if expected_treaty is not None and treaty_id != expected_treaty:
        raise PageRejected(f"wrong treaty: page is {treaty_id}, expected {expected_treaty}")
    return treaty_id


def check_status(
    status: TreatyStatus, *, table_found: bool, no_table_reason: str = "no participants table"
) -> TreatyStatus:
    """Reject a status without participants, without printed counts, or whose counts disagree."""
    if not table_found:
        raise PageRejected(no_table_reason)
    if not status.participants:
        raise PageRejected("participants table has no rows")
    # Each count walks the table: counted once here, not at every rule.
    signatories, parties = status.signatories, status.parties
    # The UN omits a zero count ("Signatories : 4." alone): a missing count is only an error
    # when the table shows something to count.
    if status.published_parties is None and parties:
        raise PageRejected(f"printed count of parties missing although the table holds {parties}")
    has_signature_column = Column.SIGNATURE in column_roles(status.columns)
    if has_signature_column and status.published_signatories is None and signatories:
        raise PageRejected(
            "printed count of signatories missing although the signature column "
            f"holds {signatories}"
        )
    if status.published_signatories is not None and signatories != status.published_signatories:
        raise PageRejected(
            f"signatories disagree: table has {signatories}, "
            f"page prints {status.published_signatories}"
        )
    if status.published_parties is not None and parties != status.published_parties:
        raise PageRejected(
            f"parties disagree: table has {parties}, page prints {status.published_parties}"
        )
    return status
