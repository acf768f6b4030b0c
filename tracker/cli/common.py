"""What every command module shares: the usage error, the argument parser and types, and the
database a command works on."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import NoReturn

from sqlalchemy.orm import Session, sessionmaker

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


def upgrade_database(settings: Settings) -> None:
    """Bring the database to the latest schema (cheap when current)."""
    from db.migrate import upgrade

    upgrade(settings.database_url)


@contextmanager
def database(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Upgrade the database and yield a session factory on it, disposing the engine after."""
    from db.engine import make_engine, make_session_factory

    upgrade_database(settings)
    engine = make_engine(settings.database_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()
