"""The project's own WIPO Lex pages (tests/fixtures/wipo), made with tests/support/wipo_render
from rows of the real pages of 2026-02-03 (a few each), plus one hostile page per rule the
validation enforces. `python -m tests.support.wipo_fixtures` rewrites them;
tests/sources/wipo/test_wipo_fixtures.py checks the committed files are what this makes.
"""

from __future__ import annotations

from datetime import date as d
from pathlib import Path

from tests.support.wipo_render import Row, page, row_html

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "wipo"

# Marrakesh (843): a signatory that ratified, a party whose entry into force lies after the
# capture (Angola), a signatory only (Austria), the European Union.
MARRAKESH_ROWS: list[Row] = [
    ("Afghanistan", d(2013, 6, 28), ("Ratification", d(2018, 7, 26)), d(2018, 10, 26)),
    ("Angola", None, ("Accession", d(2025, 12, 15)), d(2026, 3, 15)),
    ("Austria", d(2014, 6, 25), None, None),
    ("European Union (EU)", d(2014, 4, 30), ("Ratification", d(2018, 10, 1)), d(2019, 1, 1)),
]
# Paris (2): successions as WIPO prints them (a declaration of continued application, a
# declaration of succession, both in force before the deposit), a member in force with no
# instrument printed (Viet Nam), an acceptance; Burkina Faso's instrument without an In Force
# date is the Trademark Law Treaty's row, put here to show it is not a member.
PARIS_ROWS: list[Row] = [
    ("Armenia", None, ("Declaration of Continued Application", d(1994, 5, 17)), d(1991, 12, 25)),
    ("Croatia", None, ("Declaration/Notification of Succession", d(1992, 7, 28)), d(1991, 10, 8)),
    (
        "Netherlands (Kingdom of the)",
        d(1883, 3, 20),
        ("Ratification", d(1884, 3, 7)),
        d(1884, 7, 7),
    ),
    ("Viet Nam", None, None, d(1949, 3, 8)),
    ("Burkina Faso", None, ("Accession", d(1997, 5, 9)), None),
]
# Washington (29): not yet in force, signatories and instruments, no In Force date.
WASHINGTON_ROWS: list[Row] = [
    ("Bosnia and Herzegovina", None, ("Accession", d(2007, 3, 8)), None),
    ("China", d(1990, 5, 1), None, None),
    ("Egypt", d(1989, 12, 5), ("Ratification", d(1990, 7, 26)), None),
]

MAINTENANCE = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8" /><title>WIPO Lex</title></head>
<body><wu-page-header no-margin><h1 slot="title">Service temporarily unavailable</h1>
</wu-page-header><p>WIPO Lex is undergoing maintenance. Please try again later.</p></body></html>
"""


def _swap(body: bytes, old: str, new: str) -> bytes:
    assert old.encode() in body, old
    return body.replace(old.encode(), new.encode(), 1)


def pages() -> dict[str, bytes]:
    marrakesh = page("843", "Marrakesh VIP Treaty", "(Total Members: 3)", MARRAKESH_ROWS)
    return {
        "marrakesh_few.html": marrakesh,
        "paris_few.html": page("2", "Paris Convention", "(Total Members: 4)", PARIS_ROWS),
        "washington_not_in_force.html": page(
            "29", "Washington Treaty", "(Not yet in force)", WASHINGTON_ROWS
        ),
        "maintenance.html": MAINTENANCE,
        "no_table.html": page("843", "Marrakesh VIP Treaty", "(Total Members: 3)", [], table=False),
        "empty_table.html": page("843", "Marrakesh VIP Treaty", "(Total Members: 3)", []),
        # Total Members 4, three rows with an In Force date.
        "members_disagree.html": _swap(marrakesh, "(Total Members: 3)", "(Total Members: 4)"),
        # The canonical link names Berne (15) while Marrakesh was asked for (test: expected 843).
        "other_treaty.html": page("15", "Berne Convention", "(Total Members: 3)", MARRAKESH_ROWS),
        "bad_date.html": _swap(
            marrakesh, "Ratification: July 26, 2018", "Ratification: Juli 26, 2018"
        ),
        # The text says July 26, 2018, its data-sort the day after.
        "sort_disagrees.html": _swap(
            marrakesh, 'data-sort="1532563200000"', 'data-sort="1532649600000"'
        ),
        "unknown_instrument.html": _swap(
            marrakesh, "Ratification: July 26, 2018", "Provisional Application: July 26, 2018"
        ),
        "layout_changed.html": page(
            "843",
            "Marrakesh VIP Treaty",
            "(Total Members: 3)",
            MARRAKESH_ROWS,
            headers=("Member", "Signature", "Instrument", "Entry into force", "Details"),
        ),
        "listed_twice.html": page(
            "843",
            "Marrakesh VIP Treaty",
            "(Total Members: 4)",
            [*MARRAKESH_ROWS, row_html(MARRAKESH_ROWS[0], "843")],
        ),
        "no_header_words.html": _swap(marrakesh, "(Total Members: 3)", "(Members: see below)"),
    }


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    for name, body in pages().items():
        (FOLDER / name).write_bytes(body)


if __name__ == "__main__":
    main()
