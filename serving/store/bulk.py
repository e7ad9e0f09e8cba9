"""Inserts of many prediction rows with the bind work done column by column, not row by row.

SQLAlchemy's executemany builds and processes one parameter dict per row, which costs about as
much as SQLite's own insert for 1,000 rows: one insert of 1,000 rows takes about 45 ms that
way on SQLite and 16 ms here, 68 against 31-43 ms on PostgreSQL (benchmarks/bench_store.py),
and without it the API's batches of 1,000 fall below their target of 20,000 applications/s.
These statements store exactly what that path stores: SQLite goes through the dialect's own
bind processors (one call per distinct value, so a batch's shared timestamp is formatted once)
and PostgreSQL gets one statement whose columns are arrays (`unnest`), with the JSON text from
the engine's serializer. SQL Server keeps the
generic path (it cannot be tested here). Each runs on the caller's connection, inside its
transaction, so errors and rollbacks are SQLAlchemy's own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

Insert = Callable[[sa.Connection, Sequence[dict[str, Any]]], None]


def _processed(process: Callable[[Any], Any] | None, values: list[Any]) -> list[Any]:
    """`process` applied to each value, once per run of the same object."""
    if process is None:
        return values
    out: list[Any] = []
    last: Any = out  # a sentinel no value is
    result: Any = None
    for value in values:
        if value is not last:
            last, result = value, process(value)
        out.append(result)
    return out


class SqliteInsert:
    """The table's INSERT with values processed by the SQLite dialect's bind processors."""

    def __init__(self, table: sa.Table, dialect: sa.Dialect) -> None:
        compiled = table.insert().compile(dialect=dialect)
        self.sql = str(compiled)
        self.names: list[str] = list(compiled.positiontup or [])
        assert self.names == [c.name for c in table.c], "expected every column, in table order"
        self.processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.c]

    def __call__(self, conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Insert the rows with one executemany on the connection."""
        columns = [
            _processed(process, [row.get(name) for row in rows])
            for name, process in zip(self.names, self.processors, strict=True)
        ]
        conn.exec_driver_sql(self.sql, list(zip(*columns, strict=True)))


def _pg_array_type(column: sa.Column, dialect: sa.Dialect) -> str:
    """The element type to cast an array parameter to.

    Strings go as text, so the insert itself checks their length (a cast would cut them).
    """
    if isinstance(column.type, sa.String):
        return "text"
    return column.type.compile(dialect=dialect).lower()


def _coerce(column: sa.Column) -> Callable[[Any], Any] | None:
    """Make numeric columns homogeneous (a PostgreSQL array has one element type)."""
    if isinstance(column.type, sa.Float):
        return float
    if isinstance(column.type, sa.Integer):
        return int
    return None


class PostgresInsert:
    """One `INSERT ... SELECT * FROM unnest(array, ...)` for any number of rows (psycopg)."""

    def __init__(self, table: sa.Table, dialect: sa.Dialect, dumps: Callable[[Any], str]) -> None:
        prepare = dialect.identifier_preparer
        names = ", ".join(prepare.quote(c.name) for c in table.c)
        arrays = ", ".join(f"%b::{_pg_array_type(c, dialect)}[]" for c in table.c)
        self.sql = (
            f"INSERT INTO {prepare.format_table(table)} ({names}) SELECT * FROM unnest({arrays})"
        )
        self.names = [c.name for c in table.c]
        self.json = [isinstance(c.type, sa.JSON) for c in table.c]  # None is JSON null there
        self.converters = [
            dumps if json else _coerce(c) for c, json in zip(table.c, self.json, strict=True)
        ]

    def __call__(self, conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Insert the rows with one statement on the connection."""
        arrays = []
        for name, convert, json in zip(self.names, self.converters, self.json, strict=True):
            values = [row.get(name) for row in rows]
            if json:  # a batch shares one policy object: serialised once
                values = _processed(convert, values)
            elif convert is not None:
                values = [None if v is None else convert(v) for v in values]
            arrays.append(values)
        conn.exec_driver_sql(self.sql, tuple(arrays))


def for_engine(table: sa.Table, engine: sa.Engine, dumps: Callable[[Any], str]) -> Insert | None:
    """The fast insert for this engine's database, or None to use SQLAlchemy's executemany."""
    dialect = engine.dialect
    if dialect.name == "sqlite":
        return SqliteInsert(table, dialect)
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        return PostgresInsert(table, dialect, dumps)
    return None
