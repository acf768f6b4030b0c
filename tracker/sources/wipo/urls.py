"""WIPO Lex addresses: the Contracting Parties page of a treaty, built and recognised (pure)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from tracker.sources.wipo.ids import check_id

STATUS_PATH = "/wipolex/en/treaties/ShowResults"
CONTRACTING_PARTIES = "C"  # search_what=C: the "Contracting Parties/Signatories" view


def status_page_url(base_url: str, treaty_id: str) -> str:
    """`{base}/wipolex/en/treaties/ShowResults?search_what=C&treaty_id=N`."""
    check_id(treaty_id)
    return (
        f"{base_url.rstrip('/')}{STATUS_PATH}?search_what={CONTRACTING_PARTIES}"
        f"&treaty_id={treaty_id}"
    )


def query(url: str) -> dict[str, str]:
    """The query parameters of a URL, keys lower-cased (the first value of each)."""
    found: dict[str, str] = {}
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        found.setdefault(key.lower(), value)
    return found


def treaty_from_link(url: str) -> str | None:
    """The treaty_id of a link to a Contracting Parties page (any language), else None."""
    parts = urlsplit(url)
    if not parts.path.lower().endswith("/treaties/showresults"):
        return None
    q = query(url)
    treaty = q.get("treaty_id", "")
    if q.get("search_what", "").upper() != CONTRACTING_PARTIES:
        return None
    try:
        check_id(treaty)
    except ValueError:
        return None
    return treaty
