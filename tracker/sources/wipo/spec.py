"""WIPO Lex's entry in the source registry (tracker.sources.registry)."""

from __future__ import annotations

from tracker.sources.registry import Source
from tracker.sources.wipo import parse
from tracker.sources.wipo.ids import check_id, sort_key

SOURCE = Source(
    slug="wipo",
    title="WIPO Lex (treaties administered by WIPO)",
    parse=parse,
    check_id=check_id,
    sort_key=sort_key,
    default_base_url="https://www.wipo.int",
    spider="spiders.wipo",
    id_prefix="WIPO-",  # WIPO's treaty_id 843 is WIPO-843 to people: unique beside MTDSG numbers
)
