"""Azure SQL / SQL Server: DuckDB parses and validates, pyodbc fast_executemany lands.

Not exercised by the test suite (no SQL Server here); kept small so it can be read whole.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyodbc

from loanops import raw_tables as rt
from loanops.ingest.engine import Engine, Progress, Stamp, raw_column_names, read_csv_sql
from loanops.ingest.layout import FileLayout
from loanops.ingest.loadlog import (
    LOAD_LOG_COLUMNS,
    MSSQL_TYPES,
    LoadLogEntry,
    added_log_columns,
    table_columns,
)

_BATCH_ROWS = 20_000  # fast_executemany sends a whole batch as one parameter array


class MssqlEngine(Engine):
    """Ingest into Azure SQL through pyodbc."""

    types = MSSQL_TYPES
    data_errors = (duckdb.InvalidInputException, duckdb.ConversionException, pyodbc.DataError)

    def ensure_tables(self) -> None:
        """T-SQL has no `create ... if not exists`: test the catalog first."""
        cursor = self.conn.cursor()
        cursor.execute(
            f"if schema_id('{rt.RAW_SCHEMA}') is null exec('create schema {rt.RAW_SCHEMA}')"
        )
        for table, columns in table_columns(self.types).items():
            body = ", ".join(f"{name} {kind}" for name, kind in columns)
            cursor.execute(
                f"if object_id('{rt.RAW_SCHEMA}.{table}') is null "
                f"create table {rt.RAW_SCHEMA}.{table} ({body})"
            )
        log = f"{rt.RAW_SCHEMA}.{rt.LOAD_LOG_TABLE}"
        for name, kind in added_log_columns(self.types):
            cursor.execute(
                f"if col_length('{log}', '{name}') is null alter table {log} add {name} {kind}"
            )
        self.conn.commit()

    def lock_log(self) -> None:
        """Hold an exclusive table lock on the load log until commit."""
        self.conn.execute(
            f"select count(*) from {rt.RAW_SCHEMA}.{rt.LOAD_LOG_TABLE} with (tablockx, holdlock)"
        ).fetchall()

    def _latest_entry(self, where: str, params: tuple[object, ...]) -> LoadLogEntry | None:
        """T-SQL has no LIMIT; `top 1` keeps the base query's meaning."""
        row = self.conn.execute(
            f"select top 1 {', '.join(LOAD_LOG_COLUMNS)} "
            f"from {rt.RAW_SCHEMA}.{rt.LOAD_LOG_TABLE} where {where} order by load_id desc",
            params,
        ).fetchone()
        return LoadLogEntry(*row) if row else None

    def land(
        self, path: Path, layout: FileLayout, table: str, stamp: Stamp, progress: Progress | None
    ) -> int:
        """Insert validated batches with one parameter array per batch."""
        names = raw_column_names(table)
        insert = (
            f"insert into {rt.RAW_SCHEMA}.{table} ({', '.join(names)}) "
            f"values ({', '.join(['?'] * len(names))})"
        )
        reader_db = duckdb.connect()
        cursor = self.conn.cursor()
        cursor.fast_executemany = True
        count = 0
        try:
            batches = reader_db.sql(read_csv_sql(path, layout, table)).to_arrow_reader(_BATCH_ROWS)
            for batch in batches:
                values = zip(*(column.to_pylist() for column in batch.columns), strict=True)
                rows = [
                    (*value, stamp.file_name, count + i, stamp.loaded_at, stamp.load_id)
                    for i, value in enumerate(values, start=1)
                ]
                cursor.executemany(insert, rows)
                count += len(rows)
                if progress is not None:
                    progress(min(1.0, count / layout.estimated_rows))
        finally:
            reader_db.close()
        return count
