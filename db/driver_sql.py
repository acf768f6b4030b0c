"""A statement compiled once per dialect and run as its driver's SQL: for a hot path's one small
statement, run thousands of times with new values (a dispatcher's try, one per e-mail).

SQLAlchemy's `execute` of a Core statement computes the statement's cache key, looks its
compiled form up and builds an execution context on every call: about 0.16 ms on this project's
machine, where the statement itself takes 0.06 ms on SQLite. `DriverSQL` is the same statement,
compiled for the dialect once, its values bound as its columns' types bind them there (None
included, as SQLAlchemy does; the statement's own constants too), run by
`Connection.exec_driver_sql`.

`execute_many` runs it once per row with the driver's executemany (a page's actions): each
column's values are bound once per distinct value, the rows of one page sharing their treaty,
snapshot and observation time, and many dates.

A statement with an expanding IN parameter (its SQL depends on how many values come) is
refused: give one statement per size, or run it the usual way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from sqlalchemy import CursorResult
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # a positional driver's parameter names, in order
    constants: dict[str, Any]  # the statement's own values, bound
    given: tuple[tuple[str, _Processor], ...]  # the caller's parameters, with their processors


class DriverSQL:
    """`statement` (its parameters named `bindparam`s) run as the driver's SQL; compiled on its
    first use on each dialect, with `compile_options` (an INSERT of some columns of a table:
    `column_keys=(...)`, its parameters then named by them)."""

    def __init__(self, statement: Executable, **compile_options: Any) -> None:
        self.statement = statement
        self._options = compile_options
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            found = _compile(self.statement, dialect, self._options)
            self._by_dialect[dialect.name] = found
        return found

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> CursorResult[Any]:
        """Run the statement on `connection` (in its transaction) with `values` for every
        parameter the statement leaves to its caller (KeyError names a missing one)."""
        compiled = self._compiled(connection.dialect)
        params = dict(compiled.constants)
        for name, process in compiled.given:
            value = values[name]
            params[name] = value if process is None else process(value)
        if compiled.order is not None:
            return connection.exec_driver_sql(
                compiled.sql, tuple(params[n] for n in compiled.order)
            )
        return connection.exec_driver_sql(compiled.sql, params)

    def execute_many(
        self, connection: Connection, names: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Run the statement once per row of `rows` (the driver's executemany; no row, no
        statement), each row the values of the parameters `names`, in that order (ValueError:
        `names` are not the parameters the statement leaves to its caller)."""
        compiled = self._compiled(connection.dialect)
        processors = dict(compiled.given)
        if sorted(names) != sorted(processors):
            raise ValueError(
                f"the statement's parameters are {sorted(processors)}, not {sorted(names)}"
            )
        by_column = list(zip(*rows, strict=True))  # the values column by column
        if not by_column:
            return
        values: dict[str, Iterable[Any]] = {
            name: column if (process := processors[name]) is None else _each(process, column)
            for name, column in zip(names, by_column, strict=True)
        }
        values.update({name: repeat(value) for name, value in compiled.constants.items()})
        order = compiled.order if compiled.order is not None else tuple(values)
        # Each row's values in the driver's order; zip ends with the rows (the constants' `repeat`
        # never does).
        bound = zip(*(values[name] for name in order), strict=False)
        if compiled.order is not None:
            connection.exec_driver_sql(compiled.sql, list(bound))
        else:
            connection.exec_driver_sql(
                compiled.sql, [dict(zip(order, row, strict=True)) for row in bound]
            )


def _each(process: Callable[[Any], Any], values: Sequence[Any]) -> list[Any]:
    """`process` of each value (None too, as SQLAlchemy binds it), run once per distinct value:
    the column types here bind equal values of one type alike."""
    keys = [(type(value), value) for value in values]  # True and 1: never one value
    done = {key: process(key[1]) for key in dict.fromkeys(keys)}
    return [done[key] for key in keys]


def _compile(statement: Executable, dialect: Dialect, options: Mapping[str, Any]) -> _Compiled:
    compiled = statement.compile(dialect=dialect, **options)  # type: ignore[attr-defined]
    assert isinstance(compiled, SQLCompiler)
    if "POSTCOMPILE" in compiled.string:
        raise ValueError("an expanding IN parameter: its SQL depends on how many values come")
    if compiled.escaped_bind_names:
        raise ValueError(f"parameter names the driver cannot take: {compiled.escaped_bind_names}")
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    constants: dict[str, Any] = {}
    given: list[tuple[str, _Processor]] = []
    for name, bind in compiled.binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if bind.required:
            given.append((name, process))
        else:
            value = bind.effective_value
            constants[name] = value if process is None else process(value)
    return _Compiled(compiled.string, order, constants, tuple(given))
