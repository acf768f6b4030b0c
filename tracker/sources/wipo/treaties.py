"""The WIPO-administered treaties the `wipo` source follows: WIPO Lex's treaty_id and the common
name its Contracting Parties page prints in the facet header (as of 2026-02-03).

Configured, not discovered: WIPO Lex's treaty list page was never recorded, so no parser of it
could be tested on the real markup. A treaty WIPO adds is one line here.
"""

from __future__ import annotations

TREATIES: tuple[tuple[str, str], ...] = (
    ("1", "WIPO Convention"),
    ("2", "Paris Convention"),
    ("3", "Madrid Agreement (Indications of Source)"),
    ("4", "Patent Law Treaty"),
    ("5", "Trademark Law Treaty"),
    ("6", "Patent Cooperation Treaty"),
    ("7", "Budapest Treaty"),
    ("8", "Madrid Protocol"),
    ("9", "Hague Agreement"),
    ("10", "Lisbon Agreement"),
    ("11", "Strasbourg Agreement"),
    ("12", "Nice Agreement"),
    ("13", "Vienna Agreement"),
    ("14", "Locarno Agreement"),
    ("15", "Berne Convention"),
    ("16", "WIPO Copyright Treaty"),
    ("17", "Rome Convention"),
    ("18", "Phonograms Convention"),
    ("19", "Brussels Convention"),
    ("20", "WIPO Performances and Phonograms Treaty"),
    ("21", "Madrid Agreement (Marks)"),
    ("22", "Nairobi Treaty"),
    ("29", "Washington Treaty"),
    ("30", "Singapore Treaty"),
    ("841", "Beijing Treaty on Audiovisual Performances"),
    ("843", "Marrakesh VIP Treaty"),
)


def treaty_ids() -> tuple[str, ...]:
    return tuple(treaty_id for treaty_id, _ in TREATIES)


def name_of(treaty_id: str) -> str | None:
    return dict(TREATIES).get(treaty_id)
