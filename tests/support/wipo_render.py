"""Render WIPO Lex Contracting Parties pages in the site's own markup (as recorded on
2026-02-03), for the project's fixtures (tests/fixtures/wipo) and tests that need many pages.

A row is (member, signature, instrument, in force): dates as `date`, the instrument as
(printed kind, date), None for an empty cell. Each dated cell carries its `data-sort`
(epoch milliseconds, midnight UTC), as the real pages do; `sort_ms` overrides them per row
for hostile pages.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

Row = tuple[str, date | None, tuple[str, date] | None, date | None]


def epoch_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000


def printed(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _cell(text: str | None, ms: int | None, indent: str) -> str:
    sort = "" if ms is None else str(ms)
    if text is None:
        return f'{indent}<td data-sort="{sort}">\n                </td>\n'
    return (
        f'{indent}<td data-sort="{sort}">\n'
        f"                    <div>{html.escape(text)}</div>\n"
        "                </td>\n"
    )


def row_html(row: Row, treaty_id: str, remark: str | None = None) -> str:
    member, signed, instrument, in_force = row
    deposited = f"{instrument[0]}: {printed(instrument[1])}" if instrument else None
    details = (
        f'                    <a href="/wipolex/en/treaties/parties/remarks/{remark}/{treaty_id}">'
        "Details</a>\n"
        if remark
        else ""
    )
    return (
        "              <tr>\n"
        f"                <td><div>{html.escape(member)}</div></td>\n"
        + _cell(
            printed(signed) if signed else None,
            epoch_ms(signed) if signed else None,
            "                 ",
        )
        + _cell(deposited, epoch_ms(instrument[1]) if instrument else None, "                 ")
        + _cell(
            printed(in_force) if in_force else None,
            epoch_ms(in_force) if in_force else None,
            "                ",
        )
        + "                <td>\n"
        + details
        + "                </td>\n"
        "              </tr>\n"
    )


HEADERS = ("Member", "Signature", "Instrument", "In Force", "Details")


def page(
    treaty_id: str,
    name: str,
    header: str,
    rows: Iterable[Row | str],
    *,
    headers: Sequence[str] = HEADERS,
    table: bool = True,
) -> bytes:
    """A whole Contracting Parties page; `header` is the facet's words after the name, e.g.
    "(Total Members: 101)" or "(Not yet in force)"; a row given as a string is put in as is."""
    q = f"search_what&#x3D;C&amp;treaty_id&#x3D;{treaty_id}"
    ths = "".join(
        f'                <th class="sortable-column">\n                  {h}\n                </th>\n'
        for h in headers
    )
    body_rows = "".join(r if isinstance(r, str) else row_html(r, treaty_id) for r in rows)
    listing = (
        '      <table class="datatable datatable-striped datatable-wipolex order-column" '
        'id="wipoTreatiesTable">\n'
        "        <thead>\n          <tr>\n"
        f"{ths}"
        "          </tr>\n        </thead>\n        <tbody>\n"
        f"{body_rows}"
        "        </tbody>\n      </table>\n"
        if table
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en" dir="ltr">

<head>
  <meta charset="utf-8" />
  <title>WIPO Lex</title>
  <meta property="og:url" content="https://www.wipo.int/wipolex/en/treaties/ShowResults?{q}" />
  <link rel="canonical" href="https://www.wipo.int/wipolex/en/treaties/ShowResults?{q}" />
</head>

<body>
  <wu-sticky-bar id="sticky-bar">
    <a href="/wipolex/en/main/legislation" slot="links" class="notranslate" >Laws</a>
    <a href="/wipolex/en/main/treaties" slot="links" class="notranslate" >Treaties</a>
  </wu-sticky-bar>

  <wu-page-header no-margin>
  <h1 slot="title">WIPO-Administered Treaties</h1>
  <wu-button slot="actions" id="export-btn" onclick="exportShowResults()">Export to Excel</wu-button>
</wu-page-header>

<wu-view-panel disabled style="margin: 13px 0 16px 0;display:block">
  <wu-slot slot="section-folded" >
    <wu-field multiline-display>
      <span slot="value">
          <span>Contracting Parties/Signatories</span>



          <span class="facet-separator">
              <strong> {html.escape(name)}</strong>
                {header}
          </span>




      </span>
    </wu-field>
  </wu-slot>
</wu-view-panel>

  <wu-step>
    <div slot="content-top">
{listing}    </div>
  </wu-step>

<script type="text/javascript">
    document.addEventListener('DOMContentLoaded', () => {{
        const table = new DataTable("#wipoTreatiesTable", {{
            paging: false,
            order: []
        }});
    }});
    </script><br/>

  <footer>
  </footer>
</body>

</html>
""".encode()
