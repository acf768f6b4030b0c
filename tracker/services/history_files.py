"""The files and rows around a re-derived history (tracker.services.reparse): an empty
database for it, and making it the current one (`tracker reparse --switch`)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import func, make_url, select
from sqlalchemy.orm import Session, sessionmaker

from db import unit_of_work
from db.engine import make_engine, make_session_factory, sync_file
from db.migrate import upgrade
from db.models import Delivery, Snapshot, Subscription
from db.vocabulary import DeliveryState

SessionFactory = sessionmaker[Session]
_WAITING = (DeliveryState.PENDING.value, DeliveryState.SENDING.value)  # not yet ended


def open_empty(url: str) -> SessionFactory:
    """The database for a new history, migrated (ValueError: it already holds a history).

    It is a scratch database (db.engine.make_engine's `scratch`: SQLite commits that do not wait
    for the disk). That is safe because a re-derivation that is killed, or whose machine
    crashes, is simply run again into another empty database (`tracker reparse` makes a new
    file each run, and refuses one that holds a history already), and because nothing is made
    current from a history before it is complete: only the run that built it switches to it
    (`switch_files`, after re-deriving every page), and it syncs the file to disk first
    (`complete`)."""
    upgrade(url)
    factory = make_session_factory(make_engine(url, scratch=True))
    with factory() as session:
        if session.scalar(select(func.count()).select_from(Snapshot)):
            factory.kw["bind"].dispose()
            raise ValueError(f"{url} already holds a history (it must be empty)")
    return factory


def complete(new: SessionFactory) -> None:
    """A new history is complete: put it on the disk (SQLite: the file synced, see open_empty)."""
    sync_file(new.kw["bind"])


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL (None: another database, or in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


def waiting_deliveries(old: SessionFactory) -> int:
    """Alerts of the current history still to be sent (pending or being sent)."""
    with unit_of_work.read(old) as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.state.in_(_WAITING))
            )
            or 0
        )


def claim_name(folder: Path, stem: str, ending: str = "") -> Path:
    """A new empty file `folder/stem+ending`, or with -2, -3 ... after the stem when that name
    is taken: files named by the second a run started (a new history, a kept previous one) never
    take the file of another run of the same second, a killed one's or one running beside it.
    The file is created exclusively (O_EXCL), so two runs that look at the same moment cannot
    both find a name free and then both write into it; an empty file is an empty SQLite
    database, and os.replace() puts a file over it."""
    n = 1
    while True:
        path = folder / (f"{stem}{ending}" if n == 1 else f"{stem}-{n}{ending}")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            n += 1
            continue
        return path


def switch_files(old: SessionFactory, new: SessionFactory, kept_suffix: str) -> Path:
    """Make the new SQLite history the current file, keeping the current one beside it (its
    name and `kept_suffix`, numbered by `claim_name` if taken); the subscriptions are carried
    over with their ids. The caller makes sure no process uses the database (the service's
    leader lock) and no alert waits."""
    with unit_of_work.read(old) as session:
        subscriptions = list(session.scalars(select(Subscription)))
        session.expunge_all()
    with unit_of_work.write(new) as session:
        for sub in subscriptions:  # the same ids, so links and tokens keep working
            session.merge(sub)
    engines = [factory.kw["bind"] for factory in (old, new)]
    current, new_path = (sqlite_file(str(engine.url)) for engine in engines)
    if current is None or new_path is None:
        raise ValueError("only SQLite database files can be switched")
    for engine in engines:
        sync_file(engine)
        engine.dispose()
    kept = claim_name(current.parent, current.name + kept_suffix)
    os.replace(current, kept)  # over the empty file claimed for it
    for suffix in ("-wal", "-shm"):  # empty after the checkpoint; never paired with another file
        for path in (Path(f"{current}{suffix}"), Path(f"{new_path}{suffix}")):
            path.unlink(missing_ok=True)
    os.replace(new_path, current)
    return kept


__all__ = [
    "claim_name",
    "complete",
    "open_empty",
    "sqlite_file",
    "switch_files",
    "waiting_deliveries",
]
