"""A third party's monthly parses of WIPO Lex (datahub's `membership-to-copyright-treaties`
CSV, every version in its git history: shared/fixtures/real/derived/
wipo_lex_datahub_monthly_2025/, see its MANIFEST.md), turned back into WIPO Lex Contracting
Parties pages (tests/support/wipo_render, the markup of the real pages of 2026-02-03) so the
tracker can ingest them in date order, and the changes between versions computed from the CSVs
alone (independently of the tracker's diff), which the replay's events must equal.

A CSV row is `Contracting Party,Treaty,Signature Date,Instrument Type,Instrument Date,Entry
Into Force Date`. What is read:
- `Treaty` is a short label; LABELS maps it to WIPO Lex's treaty_id (the 2025 labels and the
  2015-2017 ones: `WCT`, `WPPT`). `Riyadh` (the Riyadh Design Law Treaty, 2024, signatures
  only) and `WIPO GRATK Treaty` (the Treaty on Intellectual Property, Genetic Resources and
  Associated Traditional Knowledge, 2024) are not among the 26 treaties the `wipo` source
  follows (tracker/sources/wipo/treaties.py): their rows are set aside (NOT_FOLLOWED), never
  rendered, and their changes are reported apart (`Change.followed` False).
- The 2015-2017 files were edited by hand: blank cells are sometimes one space, a few rows
  of 2015-02-24 hold the instrument as WIPO prints it ("Ratification: June 24, 2014") in both
  the type and the date cells, and the succession is spelled "Declaration / Notification of
  Succession". These are the same facts written differently: they are read into the same row
  (so a later version that writes them cleanly is no change), and rendered as WIPO Lex prints
  them today ("Declaration/Notification of Succession").
- The Entry Into Force Date is the party's own "In Force" date as WIPO prints it; the page's
  "(Total Members: N)" counts the rows with one (tracker/sources/wipo/validate.py), "(Not yet
  in force)" when none has one (Marrakesh and Beijing in 2015).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path

from support.wipo_render import Row, page
from tracker.sources.wipo.treaties import name_of

# The datahub labels (MANIFEST.md, "Structure") -> WIPO Lex treaty_id.
LABELS: dict[str, str] = {
    "Beijing": "841",
    "Berne": "15",
    "Brussels": "19",
    "Madrid": "3",  # Madrid Agreement (Indications of Source), not the Madrid Agreement (Marks)
    "Marrakesh": "843",
    "Nairobi": "22",
    "Paris": "2",
    "Patent": "4",  # Patent Law Treaty
    "Phonograms": "18",
    "Rome": "17",
    "Singapore": "30",
    "Trademark": "5",  # Trademark Law Treaty
    "Washington": "29",
    "WIPO Copyright Treaty (WCT)": "16",
    "WCT": "16",  # 2015-2017 label
    "WIPO Performances and Phonograms Treaty (WPPT)": "20",
    "WPPT": "20",  # 2015-2017 label
}
NOT_FOLLOWED = frozenset({"Riyadh", "WIPO GRATK Treaty"})
# How the hand-edited files spell an instrument kind -> how WIPO Lex prints it.
_KIND_SPELLING = {
    "Declaration / Notification of Succession": "Declaration/Notification of Succession"
}
_EMBEDDED = re.compile(r"^(?P<kind>[^:]+?)\s*:\s*(?P<date>[A-Za-z]+ \d{1,2}, \d{4})$")
_MANIFEST_ROW = re.compile(
    r"^\| `(?P<file>[^`]+\.csv)` \| [^|]* \| [^|]* \| "
    r"(?P<when>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}) \| (?P<rows>\d+) \|"
)


@dataclass(frozen=True)
class PartyRow:
    """One party of one treaty in one version: its dates, the instrument as (WIPO's word, date)."""

    party: str
    signed: date | None
    instrument: tuple[str, date] | None
    in_force: date | None

    def row(self) -> Row:
        return (self.party, self.signed, self.instrument, self.in_force)


@dataclass(frozen=True)
class Version:
    """One CSV version: its file name, when it was captured (the commit's date, the observation
    time of its pages), and its rows by treaty label (followed or not)."""

    name: str
    observed_at: datetime
    rows: Mapping[str, Mapping[str, PartyRow]]
    csv_rows: int

    def treaty_ids(self) -> list[str]:
        return sorted({LABELS[label] for label in self.rows if label in LABELS}, key=int)

    def parties(self, treaty_id: str) -> dict[str, PartyRow]:
        labels = [label for label in self.rows if LABELS.get(label) == treaty_id]
        assert len(labels) == 1, (self.name, treaty_id, labels)
        return dict(self.rows[labels[0]])


@dataclass(frozen=True)
class Change:
    """What changed for one party of one treaty between two versions, as the CSVs say it: the
    tracker's event kind it must give, the legal date, and whether the source follows it."""

    label: str
    party: str
    kind: str  # signature | consent | correction | action_disappeared | participant_disappeared
    legal_date: date | None
    followed: bool

    @property
    def treaty_id(self) -> str | None:
        return LABELS.get(self.label)


def _day(text: str) -> date | None:
    text = text.strip()
    return date.fromisoformat(text) if text else None


def _instrument(kind: str, when: str) -> tuple[str, date] | None:
    kind, when = kind.strip(), when.strip()
    embedded = _EMBEDDED.match(kind)
    if embedded:
        # 2015-02-24: "Ratification: June 24, 2014" in the type cell (and the date cell).
        day = datetime.strptime(embedded["date"], "%B %d, %Y").date()
        assert when in (kind, ""), (kind, when)
        return (_KIND_SPELLING.get(embedded["kind"], embedded["kind"]), day)
    if not kind and not when:
        return None
    assert kind and when, (kind, when)
    return (_KIND_SPELLING.get(kind, kind), date.fromisoformat(when))


def read_csv(text: str) -> dict[str, dict[str, PartyRow]]:
    """The rows of one CSV version, by treaty label then party name."""
    found: dict[str, dict[str, PartyRow]] = {}
    for r in csv.DictReader(io.StringIO(text)):
        label, party = r["Treaty"].strip(), r["Contracting Party"].strip()
        parties = found.setdefault(label, {})
        assert party not in parties, (label, party)
        parties[party] = PartyRow(
            party,
            _day(r["Signature Date"]),
            _instrument(r["Instrument Type"], r["Instrument Date"]),
            _day(r["Entry Into Force Date"]),
        )
    unknown = set(found) - set(LABELS) - NOT_FOLLOWED
    assert not unknown, f"treaty labels not mapped: {sorted(unknown)}"
    return found


def versions(folder: Path, prefix: str) -> list[Version]:
    """The versions whose file names start with `prefix`, in capture order, each observed at
    its commit's date as MANIFEST.md gives it (its Rows column is checked against the file)."""
    found: list[Version] = []
    for line in (folder / "MANIFEST.md").read_text("utf-8").splitlines():
        m = _MANIFEST_ROW.match(line)
        if not m or not m["file"].startswith(prefix):
            continue
        text = (folder / m["file"]).read_text("utf-8")
        rows = read_csv(text)
        count = sum(len(parties) for parties in rows.values())
        assert count == int(m["rows"]), (m["file"], count, m["rows"])
        when = datetime.strptime(m["when"], "%Y-%m-%d %H:%M:%S %z")
        found.append(Version(m["file"], when, rows, count))
    found.sort(key=lambda v: v.observed_at)
    return found


def render(version: Version, treaty_id: str) -> bytes:
    """The treaty's Contracting Parties page as WIPO Lex would have printed this version."""
    name = name_of(treaty_id)
    assert name is not None, treaty_id
    rows = sorted(version.parties(treaty_id).values(), key=lambda r: r.party.casefold())
    members = sum(1 for r in rows if r.in_force is not None)
    header = f"(Total Members: {members})" if members else "(Not yet in force)"
    return page(treaty_id, name, header, [r.row() for r in rows])


def _cell_change(
    label: str, party: str, kind: str, before: date | None, after: date | None, same: bool
) -> Change | None:
    """One column's change: added (its kind), gone, or another date or instrument kind."""
    followed = label in LABELS
    if same:
        return None
    if before is None:
        return Change(label, party, kind, after, followed)
    if after is None:
        return Change(label, party, "action_disappeared", before, followed)
    return Change(label, party, "correction", after, followed)


def _party_changes(label: str, old: PartyRow | None, new: PartyRow) -> list[Change]:
    was = old or PartyRow(new.party, None, None, None)
    cells = (
        _cell_change(
            label, new.party, "signature", was.signed, new.signed, was.signed == new.signed
        ),
        _cell_change(
            label,
            new.party,
            "consent",
            was.instrument[1] if was.instrument else None,
            new.instrument[1] if new.instrument else None,
            was.instrument == new.instrument,
        ),
    )
    return [c for c in cells if c is not None]


def changes(old: Version, new: Version) -> list[Change]:
    """What changed from one version to the next, party by party (an In Force date that
    changes alone is no act: it is not among them)."""
    found: list[Change] = []
    for label in sorted(set(old.rows) | set(new.rows)):
        before, after = old.rows.get(label, {}), new.rows.get(label, {})
        for party in sorted(set(before) | set(after)):
            if party not in after:
                found.append(Change(label, party, "participant_disappeared", None, label in LABELS))
            else:
                found += _party_changes(label, before.get(party), after[party])
    return found


def in_force_only(old: Version, new: Version) -> list[tuple[str, str, date | None, date | None]]:
    """The parties whose In Force date alone changed: (label, party, before, after)."""
    found = []
    for label in sorted(set(old.rows) & set(new.rows)):
        for party in sorted(set(old.rows[label]) & set(new.rows[label])):
            a, b = old.rows[label][party], new.rows[label][party]
            if (a.signed, a.instrument) == (b.signed, b.instrument) and a.in_force != b.in_force:
                found.append((label, party, a.in_force, b.in_force))
    return found


def all_changes(sequence: Sequence[Version]) -> list[tuple[Version, Change]]:
    """Every change of a sequence of versions, with the version that shows it first."""
    return [(new, c) for old, new in pairwise(sequence) for c in changes(old, new)]
