"""Plain-text rendering of the CLI's answers (the JSON forms come straight from the services)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from db.vocabulary import in_words
from tracker.services.ingest import IngestResult
from tracker.services.read.freshness import printed_note

words = in_words  # a stored word as people read it (db.vocabulary)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Render rows as left-aligned columns under a header line."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def ingest_line(path: str, result: IngestResult) -> str:
    """One line per ingested file: what happened, to which treaty, or why not."""
    if result.outcome in ("accepted", "unchanged"):
        why = f"; {result.reason}" if result.reason else ""  # e.g. a cross-check that agreed
        return f"{result.outcome:<11} {result.treaty_id}  {path}  ({result.events} events{why})"
    return f"{result.outcome:<11} {path}: {result.reason}"


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def treaties_table(rows: Sequence[dict[str, Any]]) -> str:
    """Render the treaty list (public ids, each with its source): stage, threshold, remaining,
    entry into force (computed; the printed date where it differs or stands alone), the
    depositary's "status as at" and the observation; then a note per treaty whose printed
    status was old when observed."""
    if not rows:
        return "no treaties yet (run `tracker crawl` or `tracker ingest`)"
    body = [
        (
            r["treaty"],
            r["source"],
            r["signatories"],
            r["parties"],
            r.get("stage") or "",
            _count(r.get("threshold")),
            _count(r.get("remaining")),
            _eif(r),
            (r.get("status_as_at") or "-")[:10],
            (r["observed_at"] or "")[:10],
            _short(r["title"], 60),
        )
        for r in rows
    ]
    headers = (
        "treaty",
        "source",
        "sign.",
        "parties",
        "stage",
        "threshold",
        "remaining",
        "entry into force",
        "status as at",
        "observed",
        "title",
    )
    notes = [
        f"{r['treaty']}: {note}"
        for r in rows
        if (note := printed_note(r.get("status_as_at"), r.get("observed_at")))
    ]
    return "\n".join([table(headers, body), *notes])


def _eif(r: dict[str, Any]) -> str:
    computed, printed = r.get("entry_into_force"), r.get("published_entry_into_force")
    if computed and printed and computed != printed:
        return f"{computed} (printed {printed})"
    if computed:
        return computed
    return f"printed {printed}" if printed else "-"


def events_table(rows: Sequence[dict[str, Any]]) -> str:
    """Render a list of events across treaties, newest first."""
    if not rows:
        return "no events"
    body = [
        (
            e["observed_at"],
            e["treaty"],
            e["source"],
            words(e["kind"]),
            e["participant"] or "",
            e["legal_date"] or "",
            words(e["state"]),
        )
        for e in rows
    ]
    headers = ("observed", "treaty", "source", "kind", "participant", "legal date", "state")
    return table(headers, body)


def _count(value: Any) -> str:
    return "-" if value is None else str(value)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def status_text(s: dict[str, Any]) -> str:
    """Render a status answer: header lines, then one row per participant."""
    published = s["published"] or {}
    head = [
        f"{s['treaty']}  {s['title']}",
        f"as of {s['as_of'] or 'latest'}: {s['signatories']} signatories, {s['parties']} parties;"
        f" in force: {_yes_no(s['in_force'])}",
        f"printed: {_count(published.get('signatories'))} signatories, "
        f"{_count(published.get('parties'))} parties;"
        f" entry into force {published.get('entry_into_force') or '-'}",
        f"observed {s['observed_at']}  status as at {s.get('status_as_at') or 'not printed'}"
        f"  source {s['source']} {s['source_url']}",
        *(
            [f"note: {note}"]
            if (note := printed_note(s.get("status_as_at"), s.get("observed_at")))
            else []
        ),
        *_known_lines(s),
        *_rule_lines(s),
        "",
    ]
    provisional = any(p["provisional_application"] for p in s["participants"])
    headers = ["participant", "iso3", "signature", "consent"]
    headers += ["provisional application"] if provisional else []
    headers += ["in force from"]
    # the depositary's own per-participant date (WIPO Lex's In Force), where it prints one
    printed = any(p.get("published_in_force_from") for p in s["participants"])
    headers += ["printed in force"] if printed else []
    rows = []
    for p in s["participants"]:
        row = [p["name"], p["iso3"], p["signature"], _dated(p["consent"])]
        row += [_dated(p["provisional_application"])] if provisional else []
        row += [p.get("in_force_from")]
        row += [p.get("published_in_force_from")] if printed else []
        rows.append([*row, _standing(p)])
    if not rows:
        return "\n".join(head) + "no participants"
    return "\n".join(head) + table([*headers, ""], rows)


def _standing(p: dict[str, Any]) -> str:
    """The last column: "withdrawn", or the as-of answer's standing where it is not plain."""
    standing = p.get("standing")
    if standing in ("withdrawn", "revoked", "ended", "unknown"):
        return "standing not known" if standing == "unknown" else standing
    return "withdrawn" if p["withdrawn"] and standing is None else ""


def _known_lines(s: dict[str, Any]) -> list[str]:
    """What an answer from the history read: up to when, how many pages."""
    evidence = s.get("evidence")
    if not evidence and not s.get("known_at"):
        return []
    known = f"known at {s['known_at']}: " if s.get("known_at") else ""
    pages = (
        f"{evidence['snapshots']} snapshots printed {evidence['first_printed']} to "
        f"{evidence['last_printed']}"
        if evidence
        else ""
    )
    return [f"{known}{pages} (snapshot {s.get('snapshot_id')})"]


def _dated(action: dict[str, Any] | None) -> str:
    return f"{action['date']} {words(action['kind'])}" if action else ""


def history_text(h: dict[str, Any]) -> str:
    """Render snapshots then events."""
    snaps = [
        (s["observed_at"], s["signatories"], s["parties"], s["hash"][:12]) for s in h["snapshots"]
    ]
    events = [
        (
            e["observed_at"],
            words(e["kind"]),
            e["participant"] or "",
            e["legal_date"] or "",
            words(e["state"]),
        )
        for e in h["events"]
    ]
    parts = [
        f"{h['treaty']}  {h['title']}",
        f"source {h['source']}",
        "",
        f"snapshots ({len(snaps)})",
        table(("observed", "sign.", "parties", "hash"), snaps),
        "",
        f"events ({len(events)})",
        table(("observed", "kind", "participant", "legal date", "state"), events)
        if events
        else "none",
    ]
    return "\n".join(parts)


def _rule_lines(s: dict[str, Any]) -> list[str]:
    """The entry-into-force lines of a status answer."""
    rule = s.get("rule")
    if rule is None:
        return ["rule: none known (not in the catalogue, printed text not recognized)"]
    eif = s["entry_into_force"]
    agree = {True: "agrees with", False: "DISAGREES with", None: "nothing printed to compare with"}
    lines = [
        f"rule: {rule['words']}",
        f"qualifying instruments: {s['qualifying_instruments']}"
        + (f" of {rule['threshold']}" if rule["threshold"] else "")
        + f"; remaining: {s['remaining']}; threshold met on: {s['threshold_met_on'] or '-'}",
    ]
    deciding = [d for d in s["deciding_deposits"] if d.get("deciding", True)]
    if deciding:
        lines.append(
            "deciding deposits: "
            + ", ".join(f"{d['participant']} ({words(d['kind'])}, {d['date']})" for d in deciding)
        )
    for d in s["deciding_deposits"]:
        if not d.get("deciding", True):
            lines.append(
                f"same day, not deciding: {d['participant']} ({words(d['kind'])}, {d['date']}): "
                f"{d.get('reason') or 'not counted'}"
            )
    for g in s.get("groups", []):
        if g["missing"]:
            lines.append(f"missing from {g['label']}: {', '.join(g['missing'])}")
    for c in s.get("conditions", []):
        lines.append(
            f"condition {c['key']}: {words(c['state'])}"
            + (f" (met on {c['met_on']})" if c["met_on"] else "")
        )
    computed = eif["computed"] or "-"
    # Without a printed date the comparison is with the printed words (in force or not yet).
    printed = f" printed {eif['published']}" if eif["published"] else ""
    if not printed and eif["agrees"] is not None:
        printed = (
            " the depositary's \"" + ("in force" if s.get("in_force") else "not yet in force") + '"'
        )
    lines.append(f"entry into force computed: {computed}; {agree[eif['agrees']]}{printed}")
    if eif.get("earliest"):
        lines.append(
            f"earliest entry into force if the rest were deposited on that day: {eif['earliest']}"
        )
    lines += [f"note: {w}" for w in s.get("warnings", [])]
    return lines


def rules_table(rows: Sequence[dict[str, Any]]) -> str:
    """Render the list of rules."""
    body = [
        (
            r["treaty"],
            r["threshold"] or "all",
            r["origin"],
            "yes" if r["tracked"] else "no",
            _short(r["citation"] or "", 30),
            _short(r["title"] or "", 50),
        )
        for r in rows
    ]
    return table(("treaty", "threshold", "origin", "tracked", "citation", "title"), body)


def rule_text(r: dict[str, Any]) -> str:
    """Render one rule in words, then its data."""
    lines = [
        f"{r['treaty']}  {r['title'] or ''}".rstrip(),
        "",
        r["words"],
        "",
        f"origin: {r['origin']}  citation: {r['citation'] or '-'}",
    ]
    lines += [
        f"condition {c['key']}: {c['description']} — {words(c['state'])}" for c in r["conditions"]
    ]
    if r.get("source_text"):
        lines.append(f"read from: {r['source_text']}")
    lines += ["", "as the catalogue writes it (tracker/catalogue/<source>.toml):"]
    lines += [f"  {k} = {_toml(v)}" for k, v in r["spec"].items() if v is not None]
    return "\n".join(lines)


def _toml(value: Any) -> str:
    """A rule's spec value as TOML writes it (no Python reprs: quotes, lists, inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if value is None:
        return '""'
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def evaluation_text(e: dict[str, Any]) -> str:
    """Render what an evaluation run did."""
    lines = [
        f"evaluated {e['evaluated']} treaties ({e['with_rule']} with a rule); "
        f"{len(e['events'])} new events"
    ]
    lines += [f"  {ev['treaty']}: {words(ev['kind'])}" for ev in e["events"]]
    lines += [f"  {t}: enters into force on {d}" for t, d in e["pending_entry_into_force"].items()]
    return "\n".join(lines)


def sources_table(rows: Sequence[dict[str, Any]]) -> str:
    """Render the sources and their health, then why each one that is not healthy is not."""
    if not rows:
        return "no sources"
    body = [
        (
            r["slug"],
            "yes" if r["healthy"] else ("no (pending)" if r["state"] == "pending" else "no"),
            r["last_success_at"] or "never",
            r["last_checked_at"] or "never",
            r["consecutive_failures"],
            _short(r["last_error"] or "", 60),
        )
        for r in rows
    ]
    headers = ("source", "healthy", "last success", "last checked", "failures", "last error")
    lines = [table(headers, body)]
    for r in rows:
        lines += [f"{r['slug']}: {reason}" for reason in r["reasons"]]
    return "\n".join(lines)


def missing_text(m: dict[str, Any]) -> str:
    """Render the "not yet joined" answer: counts, then who signed only, who did not sign and
    who withdrew (with dates), then what was not compared."""
    ref, c = m["reference"], m["counts"]
    observed = (m["observed_at"] or "")[:10]
    lines = [
        f"{m['treaty']}  {m['title']}",
        f"not yet joined, as observed {observed}"
        + (f" (status as at {m['status_as_at'][:10]})" if m.get("status_as_at") else "")
        + f": {c['signed_not_ratified']} signed, not ratified; {c['not_signed']} not signed;"
        f" {c['withdrawn']} withdrawn ({c['parties']} parties of {c['reference']} States)",
        f"reference: {ref['title']}, version {ref['version']} of {ref['as_at']}"
        f" ({ref['members']} Members)",
    ]
    for o in m["observers"]:
        lines.append(
            f"observer {o['name']} ({o['iso3']}): {'counted' if o['counted'] else 'not counted'}, {o['why']}"
        )
    signed, unsigned = m["signed_not_ratified"], m["not_signed"]
    lines += ["", f"signed, not ratified ({len(signed)}):"]
    if signed:
        lines.append(
            table(("iso3", "name", "signed"), [(r["iso3"], r["name"], r["signed"]) for r in signed])
        )
    lines += ["", f"not signed ({len(unsigned)}):"]
    if unsigned:
        lines.append(table(("iso3", "name"), [(r["iso3"], r["name"]) for r in unsigned]))
    if m["withdrawn"]:
        lines += ["", f"withdrawn ({len(m['withdrawn'])}):"]
        body = []
        for r in m["withdrawn"]:
            consent = ", ".join(f"{a['date']} {words(a['kind'])}" for a in r["consents"])
            ends = ", ".join(
                f"effective {e['effective_on']}" if e["effective_on"] else "date not known"
                for e in r["withdrawals"]
            )
            body.append(
                (r["iso3"], r["name"], r["signed"] or "", consent, ends or "date not known")
            )
        lines.append(table(("iso3", "name", "signed", "consent", "withdrawal"), body))
    if m["not_in_reference"]:
        names = ", ".join(p["name"] for p in m["not_in_reference"])
        lines += ["", f"not UN Members or observer States, never missing: {names}"]
    lines += [f"warning: {w}" for w in m["warnings"]]
    return "\n".join(lines)
