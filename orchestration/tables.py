"""Write Dagster-made tables (batch scores, the prediction-log copy) into the active warehouse.

Portable on purpose: the same calls write to DuckDB, PostgreSQL and Azure SQL, each in one
transaction, so readers see the old table or the new one, never half of it. Tables are
SQLAlchemy Core tables; each target's dialect spells their types and DDL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import mssql
from sqlalchemy.schema import CreateSchema, CreateTable

from loanops import warehouse
from loanops.settings import Settings

# Logical column types; SQL Server gets nvarchar(max) and datetime2, not ntext and datetime.
TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "bigint": sa.BigInteger(),
    "integer": sa.Integer(),
    "double": sa.Double(),
    "string": sa.Unicode(200),
    "text": sa.UnicodeText().with_variant(mssql.NVARCHAR(), "mssql"),
    "timestamp": sa.DateTime().with_variant(mssql.DATETIME2(), "mssql"),
}
INSERT_CHUNK = 5000

COLUMN_NAMES = sa.text(
    "select column_name from information_schema.columns"
    " where table_schema = :schema and table_name = :table"
)
TABLE_COUNT = sa.text(
    "select count(*) as n from information_schema.tables"
    " where table_schema = :schema and table_name = :table"
)
SCHEMA_COUNT = sa.text(
    "select count(*) from information_schema.schemata where schema_name = :schema"
)


def table(relation: str, columns: Mapping[str, str]) -> sa.Table:
    """The Core table `schema.table` with the given logical column types."""
    schema, name = relation.split(".")
    return sa.Table(
        name, sa.MetaData(), *(sa.Column(c, TYPES[kind]) for c, kind in columns.items()),
        schema=schema,
    )  # fmt: skip


def type_sql(conn: Any, kind: str) -> str:
    """How the connection's dialect spells a logical column type."""
    return TYPES[kind].compile(dialect=conn.dialect)


def column_names(conn: Any, relation: str) -> set[str]:
    """The table's column names, lower-case (empty when there is no such table)."""
    schema, name = relation.split(".")
    rows = conn.execute(COLUMN_NAMES, {"schema": schema, "table": name}).fetchall()
    return {str(row[0]).lower() for row in rows}


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Plain Python rows, NaN and NaT as NULL (what every driver accepts)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict("records")


def write(
    settings: Settings,
    relation: str,
    frame: pd.DataFrame,
    columns: Mapping[str, str],
    *,
    replace: bool,
) -> int:
    """Replace (or append to) `schema.table` with the frame's columns; the rows written."""
    frame = frame[list(columns)]
    target = table(relation, columns)
    with warehouse.begin(settings) as conn:
        if not conn.execute(SCHEMA_COUNT, {"schema": target.schema}).fetchall()[0][0]:
            conn.execute(CreateSchema(target.schema))
        found = column_names(conn, relation)
        if replace and found:
            found = _empty(conn, target, found)
        if not found:
            conn.execute(CreateTable(target))
        _insert(conn, target, frame)
    return len(frame)


def _empty(conn: Any, target: sa.Table, found: set[str]) -> set[str]:
    """Delete the table's rows but keep the table, so that dbt's views over it stay valid.

    PostgreSQL refuses to drop a table a view depends on. A table whose columns differ is
    dropped. The columns left (none once dropped).
    """
    if found == {c.name.lower() for c in target.columns}:
        conn.execute(target.delete())
        return found
    conn.execute(sa.schema.DropTable(target))
    return set()


def _insert(conn: Any, target: sa.Table, frame: pd.DataFrame) -> None:
    """Insert the frame's rows: DuckDB reads the frame directly, the servers in chunks."""
    if conn.dialect.name == "duckdb":
        # DuckDB's fast path is the driver reading the DataFrame itself, not bound rows.
        driver = warehouse.driver_connection(conn)
        names = ", ".join(frame.columns)
        relation = f"{target.schema}.{target.name}"
        driver.register("incoming_frame", frame)
        driver.execute(f"insert into {relation} ({names}) select {names} from incoming_frame")
        driver.unregister("incoming_frame")
        return
    rows = _rows(frame)
    for start in range(0, len(rows), INSERT_CHUNK):
        conn.execute(target.insert(), rows[start : start + INSERT_CHUNK])


def exists(settings: Settings, relation: str) -> bool:
    """True when the warehouse has the table."""
    schema, name = relation.split(".")
    found = warehouse.read_frame(settings, TABLE_COUNT, {"schema": schema, "table": name})
    return int(found["n"].iloc[0]) > 0
