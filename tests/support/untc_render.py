"""Render a treaty status into UNTC's ViewDetails markup (the same ids and cell forms as the real
pages of Feb 2026), so tests can build pages of any content and serve or ingest them."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

P = "ctl00_ctl00_ContentPlaceHolder1_ContentPlaceHolderInnerPage"
ROMAN = {4: "IV", 11: "XI", 18: "XVIII", 26: "XXVI", 27: "XXVII"}


@dataclass
class Row:
    name: str
    signature: date | None = None
    consent: date | None = None
    letter: str = ""  # "", "a", "A", "AA", "d", ...
    withdrawn: bool = False  # brackets every dated cell of the row, as UNTC prints it
    footnotes: Sequence[str] = ()
    provisional: date | None = None  # printed only when the page has a provisional_header


@dataclass
class Page:
    treaty_id: str
    title: str
    rows: list[Row]
    in_force: str | None = None  # e.g. "22 January 2021, in accordance with article 15."
    eif_text_not_in_force: str = "in accordance with its final clauses."
    signature_column: bool = True
    consent_header: str = "Ratification, Acceptance(A), Approval(AA), Accession(a)"
    status_as_at: str = "03-02-2026 10:16:18 EDT"
    printed_signatories: int | None = None  # None: derived from rows
    printed_parties: int | None = None
    footnotes: dict[str, str] = field(default_factory=dict)
    provisional_header: str | None = None  # e.g. "Provisional application(n)": adds that column
    adopted: str = "New York, 7 July 2017"  # place and date of adoption, as printed


def _cell(d: date | None, letter: str = "", withdrawn: bool = False) -> str:
    if d is None:
        return "<td>&nbsp;</td>"
    day = f" &nbsp;{d.day}" if d.day < 10 else str(d.day)
    text = (
        f"{day} {d.strftime('%b')}\t {d.year} {letter}".rstrip()
        if letter
        else f"{day} {d.strftime('%b')}\t {d.year} "
    )
    return f"<td>[{text}]<br></td>" if withdrawn else f"<td>{text}<br></td>"


def render(page: Page) -> bytes:
    """The status page as bytes (UTF-8)."""
    chapter = int({v: k for k, v in ROMAN.items()}.get(page.treaty_id.split("-")[0], 26))
    number = page.treaty_id.split("-", 1)[1]
    if number[:1].isupper() and number[1:2] == "-":  # XI-A-16: sub-chapter A, printed "16."
        number = number[2:]
    sigs = sum(1 for r in page.rows if r.signature and not r.withdrawn)
    pars = sum(1 for r in page.rows if r.consent and not r.withdrawn)
    printed_sig = page.printed_signatories if page.printed_signatories is not None else sigs
    printed_par = page.printed_parties if page.printed_parties is not None else pars
    status = (
        f"Signatories :\n  {printed_sig}.   Parties :\n  {printed_par}"
        if page.signature_column
        else f"Parties :\n  {printed_par}"
    )
    label, eif = (
        ("Entry into force", page.in_force)
        if page.in_force
        else ("Not yet in force", page.eif_text_not_in_force)
    )
    head = ['<td valign="bottom" width="43%">Participant<br></td>']
    if page.signature_column:
        head.append('<td valign="bottom" width="100">Signature<br></td>')
    head.append(f'<td valign="bottom">{html.escape(page.consent_header)}<br></td>')
    if page.provisional_header is not None:
        head.append(f'<td valign="bottom">{html.escape(page.provisional_header)}<br></td>')
    rows = []
    for i, r in enumerate(page.rows):
        sup = ""
        if r.footnotes:
            sup = (
                " <SUP>"
                + ", ".join(
                    f"<A onclick='ShowNoteAll()' href='#{n}' class='noteIndex'>{n}</A>"
                    for n in r.footnotes
                )
                + " </SUP>"
            )
        cells = [f"<td>{html.escape(r.name)}{sup}<br></td>"]
        if page.signature_column:
            cells.append(_cell(r.signature, withdrawn=r.withdrawn))
        cells.append(_cell(r.consent, r.letter, r.withdrawn))
        if page.provisional_header is not None:
            cells.append(_cell(r.provisional, "n", r.withdrawn))
        cls = "trBWhite" if i % 2 == 0 else "trBGGrey"
        rows.append(f'\t<tr class="{cls}">\n\t\t' + "\n\t\t".join(cells) + "\n\t</tr>")
    notes = "".join(
        f'<div id="{P}_dgNotesAll_ctl{i + 2:02d}_divNotesAll" class="divNotesAll">'
        f"<a name='{ref}'>{ref}</a><index></index>{html.escape(text)}<br><br></div>"
        for i, (ref, text) in enumerate(page.footnotes.items())
    )
    doc = f"""<!DOCTYPE html>
<html><head><title>United Nations Treaty Collection</title></head><body>
<form name="aspnetForm" method="post" action="./ViewDetails.aspx?src=TREATY&amp;mtdsg_no={page.treaty_id}&amp;chapter={chapter}&amp;clang=_en" id="aspnetForm">
<div id="{P}_div3" class="rows top-10 padd-5 heading-three">STATUS AS AT : {page.status_as_at}</div>
<div id="{P}_rptHead_ctl00_tcHead" style="font-weight: bold; text-align: center;">CHAPTER {ROMAN.get(chapter, "XXVI")}</div>
<div id="{P}_rptHead_ctl00_tcText" class="tcTextCenter bold">TEST CHAPTER</div>
<div id="{P}_rptTreaty_ctl00_tcTreaty" style="font-weight: bold" class="treatyCenter">
  {number}. \n  {html.escape(page.title)}
</div>
<div id="{P}_rptTreaty_ctl00_tcText" class="treatyCenterSub normal">{html.escape(page.adopted)}</div>
<div id="{P}_rptEIF_ctl00_tcEifLabel" style="font-weight: bold">{label}</div>
<div id="{P}_rptEIF_ctl00_tcText">{html.escape(eif)}</div>
<div id="{P}_rptStatus_ctl00_tcText">{status}</div>
<table id="{P}_tblgrid" class="table table-striped table-bordered table-hover table-condensed">
\t<tr class="thead-one">
\t\t{"".join(head)}
\t</tr>
{chr(10).join(rows)}
</table>
{notes}
</form></body></html>"""
    return doc.encode("utf-8")


def _xml_cell(d: date | None, letter: str = "", withdrawn: bool = False) -> str:
    """An MTDSG XML cell as the 2018 files print it: `21 Sep 2016 A`, `[ 3 Oct 1975 ]`."""
    if d is None:
        return "<Entry />"
    text = f"{d.day} {d.strftime('%b')} {d.year} {letter}"
    text = f"[{' ' if d.day < 10 else ''}{text}]" if withdrawn else text.rstrip()
    return f"<Entry>{html.escape(text)}</Entry>"


def render_xml(page: Page) -> bytes:
    """The same status as MTDSG XML (`{mtdsg}.en.xml`: Latin-1 bytes, CRLF, escaped superscript
    markers after names, no "status as at" stamp): the XML twin of `render(page)`, so tests can
    serve or ingest both formats of one treaty."""
    parts = page.treaty_id.split("-")
    chapter = parts[0]
    sub = parts[1] if len(parts) > 2 and parts[1][:1].isupper() else None
    rest = parts[2:] if sub else parts[1:]
    number, subnum = rest[0], (rest[1] if len(rest) > 1 else None)
    sigs = sum(1 for r in page.rows if r.signature and not r.withdrawn)
    pars = sum(1 for r in page.rows if r.consent and not r.withdrawn)
    printed_sig = page.printed_signatories if page.printed_signatories is not None else sigs
    printed_par = page.printed_parties if page.printed_parties is not None else pars
    label, eif = (
        ("Entry into force", page.in_force)
        if page.in_force
        else ("Not yet in force", page.eif_text_not_in_force)
    )
    status = (
        f"<SignatoriesLabel>Signatories</SignatoriesLabel><Signatories>{printed_sig}</Signatories>"
        if page.signature_column
        else ""
    ) + f"<PartiesLabel>Parties</PartiesLabel><Parties>{printed_par}</Parties>"
    head = ['<Entry colname="1">Participant</Entry>']
    if page.signature_column:
        head.append('<Entry colname="2">Signature</Entry>')
    head.append(f"<Entry>{html.escape(page.consent_header)}</Entry>")
    if page.provisional_header is not None:
        head.append(f"<Entry>{html.escape(page.provisional_header)}</Entry>")
    rows = []
    for r in page.rows:
        sup = (
            f"&lt;superscript&gt;{','.join(r.footnotes)}&lt;/superscript&gt;" if r.footnotes else ""
        )
        cells = [f"<Entry>{html.escape(r.name)}{sup}</Entry>"]
        if page.signature_column:
            cells.append(_xml_cell(r.signature, withdrawn=r.withdrawn))
        cells.append(_xml_cell(r.consent, r.letter, r.withdrawn))
        if page.provisional_header is not None:
            cells.append(_xml_cell(r.provisional, "n", r.withdrawn))
        rows.append("<Row>" + "".join(cells) + "</Row>")
    notes = "".join(
        f"<Note><index>{html.escape(ref)}</index><text>{html.escape(text)}</text></Note>"
        for ref, text in page.footnotes.items()
    )
    title = (
        f"<Numsect>{number}</Numsect><Subnumsect>{subnum}</Subnumsect>"
        f"<Subtitlesect>{html.escape(page.title)}</Subtitlesect>"
        if subnum
        else f"<Numsect>{number}</Numsect><Titlesect>{html.escape(page.title)}</Titlesect>"
    )
    subchapter = f"<SubChapter><Header>{sub}</Header><Name>TEST</Name></SubChapter>" if sub else ""
    doc = f"""<?xml version="1.0" encoding="iso-8859-1"?>
<Document>
  <Treaty>
    <Template>mtdsg</Template>
    <Header>
      <Chapter><Header>CHAPTER {chapter}</Header><Name>TEST CHAPTER</Name></Chapter>
      {subchapter}
      <ExternalData>
        {title}
        <Conclusion>New York, 7 July 2017</Conclusion>
        <EIF><Label>{label}</Label><Labeltext>{html.escape(eif)}</Labeltext></EIF>
        <Status><Label>Status</Label>{status}</Status>
      </ExternalData>
    </Header>
    <Participants>
      <Table colsep="0" frame="none" rowsep="0">
        <TGroup cols="{len(head)}">
          <Thead><Row rowsep="0">{"".join(head)}</Row></Thead>
          <Tbody><Rows>
            {(chr(10) + "            ").join(rows)}
          </Rows></Tbody>
        </TGroup>
      </Table>
    </Participants>
    <EndNotes>{notes}</EndNotes>
  </Treaty>
</Document>
"""
    return doc.replace("\n", "\r\n").encode("latin-1")
