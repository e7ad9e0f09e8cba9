"""Write Dagster-made tables (batch scores, the prediction-log copy) into the active warehouse.

Portable on purpose: the same calls write to DuckDB, PostgreSQL and Azure SQL, each in one
transaction, so readers see the old table or the new one, never half of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from loanops import warehouse
from loanops.settings import Settings

# Logical column types and how each target spells them.
TYPES = {
    "bigint": {"duckdb": "bigint", "postgres": "bigint", "azure_sql": "bigint"},
    "integer": {"duckdb": "integer", "postgres": "integer", "azure_sql": "int"},
    "double": {"duckdb": "double", "postgres": "double precision", "azure_sql": "float"},
    "string": {"duckdb": "varchar", "postgres": "varchar(200)", "azure_sql": "nvarchar(200)"},
    "text": {"duckdb": "varchar", "postgres": "text", "azure_sql": "nvarchar(max)"},
    "timestamp": {"duckdb": "timestamp", "postgres": "timestamp", "azure_sql": "datetime2"},
}
INSERT_CHUNK = 5000


def column_sql(columns: Mapping[str, str], target: str) -> str:
    """The column list of a CREATE TABLE for the target."""
    return ", ".join(f"{name} {TYPES[kind][target]}" for name, kind in columns.items())


def _schema_sql(target: str, schema: str) -> str:
    """Create the schema if it is missing (SQL Server has no IF NOT EXISTS for schemas)."""
    if target == "azure_sql":
        return f"if schema_id('{schema}') is null exec('create schema {schema}')"
    return f"create schema if not exists {schema}"


def _create_sql(target: str, relation: str, columns: Mapping[str, str]) -> str:
    """Create the table if it is missing."""
    body = column_sql(columns, target)
    if target == "azure_sql":
        return f"if object_id('{relation}') is null create table {relation} ({body})"
    return f"create table if not exists {relation} ({body})"


def _rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Plain Python rows, NaN and NaT as NULL (what every driver accepts)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [tuple(row) for row in clean.itertuples(index=False, name=None)]


def write(
    settings: Settings,
    relation: str,
    frame: pd.DataFrame,
    columns: Mapping[str, str],
    *,
    replace: bool,
) -> int:
    """Replace (or append to) `schema.table` with the frame's columns; the rows written."""
    schema = relation.split(".")[0]
    frame = frame[list(columns)]
    target = settings.target
    with warehouse.connection(settings) as conn:
        # A DuckDB "cursor" is a second connection, outside this transaction: use the connection.
        cursor = conn if target == "duckdb" else conn.cursor()
        if target == "duckdb":
            conn.execute("begin")
        try:
            cursor.execute(_schema_sql(target, schema))
            if replace:
                _empty(cursor, target, relation, columns)
            cursor.execute(_create_sql(target, relation, columns))
            _insert(cursor, target, relation, frame)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    return len(frame)


def _empty(cursor: Any, target: str, relation: str, columns: Mapping[str, str]) -> None:
    """Delete the table's rows but keep the table, so that dbt's views over it stay valid.

    PostgreSQL refuses to drop a table a view depends on. A table whose columns differ is dropped.
    """
    schema, table = relation.split(".")
    mark = "%s" if target == "postgres" else "?"
    cursor.execute(
        "select column_name from information_schema.columns"
        f" where table_schema = {mark} and table_name = {mark}",
        [schema, table],
    )
    found = {str(row[0]).lower() for row in cursor.fetchall()}
    if not found:
        return
    if found == {name.lower() for name in columns}:
        cursor.execute(f"delete from {relation}")
    else:
        cursor.execute(f"drop table {relation}")


def _insert(cursor: Any, target: str, relation: str, frame: pd.DataFrame) -> None:
    """Insert the frame's rows: DuckDB reads the frame directly, the servers in chunks."""
    names = ", ".join(frame.columns)
    if target == "duckdb":
        cursor.register("incoming_frame", frame)
        cursor.execute(f"insert into {relation} ({names}) select {names} from incoming_frame")
        cursor.unregister("incoming_frame")
        return
    mark = "%s" if target == "postgres" else "?"
    sql = f"insert into {relation} ({names}) values ({', '.join([mark] * len(frame.columns))})"
    if target == "azure_sql":
        cursor.fast_executemany = True
    rows = _rows(frame)
    for start in range(0, len(rows), INSERT_CHUNK):
        cursor.executemany(sql, rows[start : start + INSERT_CHUNK])


def exists(settings: Settings, relation: str) -> bool:
    """True when the warehouse has the table."""
    schema, table = relation.split(".")
    mark = "%s" if settings.target == "postgres" else "?"
    sql = (
        "select count(*) as n from information_schema.tables"
        f" where table_schema = {mark} and table_name = {mark}"
    )
    found = warehouse.read_frame(settings, sql, [schema, table])
    return int(found["n"].iloc[0]) > 0
