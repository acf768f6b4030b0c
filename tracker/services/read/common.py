"""What every read module shares: the answer to an unknown treaty, and dates as answered."""

from __future__ import annotations

from datetime import date, datetime


class NotFound(LookupError):
    """No treaty (or no accepted snapshot of it) under that id.

    `str()` is the answer for every surface; `cli_hint` names the command that lists what
    exists (`tracker treaties`), which only the CLI adds (`for_cli`): an HTTP answer never
    tells a client to run a command."""

    def __init__(self, message: str, *, cli_hint: str | None = None) -> None:
        super().__init__(message)
        self.cli_hint = cli_hint

    def for_cli(self) -> str:
        return f"{self} (see `{self.cli_hint}`)" if self.cli_hint else str(self)


def iso_or_none(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
