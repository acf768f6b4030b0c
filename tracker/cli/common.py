"""What every command module shares: the usage error, the argument parser and types, and the
database a command works on."""

from __future__ import annotations

import argparse
from datetime import date, datetime
from typing import NoReturn

from tracker.services.unit_of_work import Database
from tracker.settings import Settings


class UsageError(Exception):
    """A mistake on the command line or in its inputs: one line on stderr, exit 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def date_arg(text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad date {text!r}, expected YYYY-MM-DD") from None


def moment_arg(text: str) -> datetime:
    from tracker.domain.moments import known_at_moment

    try:
        return known_at_moment(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"bad time {text!r}: {error}") from None


def since_arg(text: str) -> datetime:
    from tracker.domain.moments import since_moment

    try:
        return since_moment(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"bad time {text!r}: {error}") from None


def upgrade_database(settings: Settings) -> None:
    """Bring the database to the latest schema (cheap when current)."""
    from tracker.services.unit_of_work import upgrade_schema

    upgrade_schema(settings.database_url)


def database(settings: Settings) -> Database:
    """The configured database, upgraded: use it as `with database(settings) as db:`, its
    units of work `db.read()` / `db.write()` (the engine is disposed at the end)."""
    return Database.upgraded(settings.database_url)
