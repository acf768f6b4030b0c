"""The UN Treaty Collection's entry in the source registry (tracker.sources.registry)."""

from __future__ import annotations

from tracker.sources.registry import Source
from tracker.sources.untc import page_format, parse
from tracker.sources.untc.footnotes import FOOTNOTES
from tracker.sources.untc.ids import check_id, sort_key

SOURCE = Source(
    slug="untc",
    title="United Nations Treaty Collection (Multilateral Treaties Deposited with the "
    "Secretary-General)",
    parse=parse,
    check_id=check_id,
    sort_key=sort_key,
    default_base_url="https://treaties.un.org",
    spider="spiders.untc",
    id_prefix="",  # MTDSG numbers are the public ids
    footnotes=FOOTNOTES,
    formats=("html", "xml"),  # the ViewDetails page (the default), the MTDSG XML file
    page_format=page_format,
)
