"""The daily digest: one short message, grouped by treaty.

Each treaty gets a summary line ("XXVI-9 (Treaty on ...): 3 new parties (A, B, C), 1 signature;
threshold met on 2020-10-24"), then each change on one line, at most MAX_CHANGES of them (the
rest counted, with the treaty page's link), then its page; the message ends with one footer.
Operators' alerts about sources are grouped last, under "Sources". The webhook payload keeps
every alert's own payload (`digest`), whatever the text leaves out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from tracker.alerts.channels import Message
from tracker.alerts.messages import expected_words

MAX_CHANGES = 20  # change lines per treaty; the rest are counted and linked
MAX_NAMES = 5  # names in a summary's parentheses; the rest are counted

# kind -> (singular, plural) of the summary's counts; named: the participants are listed
_COUNTED: dict[str, tuple[str, str, bool]] = {
    "consent": ("new party", "new parties", True),
    "reaccession": ("party again", "parties again", True),
    "signature": ("signature", "signatures", False),
    "withdrawal": ("withdrawal", "withdrawals", True),
    "revocation": ("revocation", "revocations", True),
    "correction": ("correction", "corrections", False),
    "declaration": ("declaration or reservation", "declarations or reservations", True),
    "reappearance": ("listed again", "listed again", False),
    "retraction": ("earlier alert withdrawn", "earlier alerts withdrawn", False),
}
_ORDER = (*_COUNTED, "approaching", "threshold_crossed", "entered_into_force")


@dataclass
class _Group:
    title: str
    url: str | None = None
    alerts: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (payload, line)


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_NAMES])
    more = len(names) - MAX_NAMES
    return f"{shown} and {more} more" if more > 0 else shown


def summary(payloads: list[dict[str, Any]]) -> str:
    """What a treaty's alerts add up to: "3 new parties (A, B, C), 1 signature; threshold met
    on 2020-10-24" (counts first, then the rule events, in a fixed order)."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for p in payloads:
        by_kind.setdefault(p["event"]["kind"], []).append(p)
    counts: list[str] = []
    rules: list[str] = []
    kinds = [k for k in _ORDER if k in by_kind] + [k for k in by_kind if k not in _ORDER]
    for kind in kinds:
        found = by_kind[kind]
        last = found[-1]
        day = last["event"].get("legal_date") or "an unknown date"
        if kind == "approaching":
            expected = expected_words(last.get("forecast"))
            rules.append(
                f"{last.get('remaining', '?')} instruments remain before the threshold"
                + (f", entry into force {expected}" if expected else "")
            )
        elif kind == "threshold_crossed":
            rules.append(f"threshold met on {day}")
        elif kind == "entered_into_force":
            rules.append(f"entered into force on {day}")
        else:
            one, many, named = _COUNTED.get(kind, (kind.replace("_", " "),) * 2 + (False,))
            text = f"{len(found)} {one if len(found) == 1 else many}"
            names = [p["event"].get("participant") for p in found]
            if named and all(names):
                text += f" ({_names([str(n) for n in names])})"
            counts.append(text)
    return "; ".join(part for part in (", ".join(counts), "; ".join(rules)) if part)


def _line(message: Message, prefix: str) -> str:
    """One alert as one line: its headline (the subject without the treaty), with its legal
    date when the headline does not already say it."""
    text = message.subject.removeprefix(prefix)
    day = (message.payload.get("event") or {}).get("legal_date")
    if day and day not in text:
        text += f" on {day}"
    return "- " + text[:1].upper() + text[1:]


def digest_text(messages: list[Message]) -> str:
    """The digest's text: a heading, each treaty's block, one footer."""
    groups: dict[str, _Group] = {}
    for m in messages:
        treaty = m.payload.get("treaty")
        if treaty:
            key = str(treaty["id"])
            group = groups.setdefault(key, _Group(f"{key} ({treaty['title']})", treaty.get("url")))
            group.alerts.append((m.payload, _line(m, f"{key}: ")))
        else:
            groups.setdefault("", _Group("Sources")).alerts.append((m.payload, _line(m, "")))
    if "" in groups:  # sources last
        groups[""] = groups.pop("")
    treaties = sum(1 for k in groups if k)
    lines = [
        f"Treaty tracker, daily digest: {len(messages)} updates"
        + (f" on {treaties} treat{'y' if treaties == 1 else 'ies'}" if treaties else "")
        + ".",
    ]
    for key, group in groups.items():
        said = summary([p for p, _ in group.alerts]) if key else ""
        lines += ["", f"{group.title}: {said}" if said else f"{group.title}:"]
        shown = group.alerts[:MAX_CHANGES]
        lines += [line for _, line in shown]
        more = len(group.alerts) - len(shown)
        if more:
            lines.append(f"- and {more} more" + (f": {group.url}" if group.url else ""))
        if group.url:
            lines.append(f"Treaty page: {group.url}")
    manage = next((m.manage_url for m in messages if m.manage_url), None)
    lines += ["", "--"]
    lines.append(
        f"Manage or end this subscription: {manage}"
        if manage
        else "Sent by the treaty tracker: one message a day with every change."
    )
    return "\n".join(lines) + "\n"


def _in_order(message: Message) -> tuple[str, str, str]:
    event = message.payload["event"]
    return (event["observed_at"], event.get("legal_date") or "", event.get("participant") or "")


def digest_of(messages: list[Message]) -> Message:
    """Several alerts as one message; its key is derived from theirs (the same on a retry)."""
    if len(messages) == 1:
        return messages[0]
    keys = "".join(sorted(m.idempotency_key for m in messages))
    messages = sorted(messages, key=_in_order)
    first = messages[0]
    return Message(
        subject=f"Treaty tracker: {len(messages)} updates (daily digest)",
        text=digest_text(messages),
        payload={"digest": [m.payload for m in messages]},
        idempotency_key="digest-" + hashlib.sha256(keys.encode()).hexdigest()[:40],
        unsubscribe_url=first.unsubscribe_url,
        manage_url=first.manage_url,
    )
