"""One way to open the active warehouse (DuckDB file, PostgreSQL or Azure SQL) and read from it.

Ingest writes raw tables through `connect`; ML training and monitoring read gold tables
through `read_frame`. Drivers are imported lazily, so a DuckDB laptop needs no ODBC driver.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd

from loanops import azure_auth
from loanops import settings as settings_module
from loanops.azure_auth import TokenCredential
from loanops.settings import Settings


def connect(
    settings: Settings | None = None,
    *,
    read_only: bool = False,
    credential: TokenCredential | None = None,
) -> Any:
    """Open a DB-API connection to the target named by LOANOPS_TARGET (caller closes it).

    DuckDB: a `duckdb.DuckDBPyConnection` on `settings.duckdb_path`; PostgreSQL: a psycopg 3
    connection (autocommit off); Azure SQL: a pyodbc connection (autocommit off), signed in as
    LOANOPS_MSSQL_AUTH says; `credential` replaces the token mode's own azure-identity credential.
    """
    settings = settings or settings_module.load()
    if settings.target == "duckdb":
        import duckdb

        if not read_only:
            settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(settings.duckdb_path), read_only=read_only)
    if settings.target == "postgres":
        import psycopg

        return psycopg.connect(settings_module.postgres_dsn())
    if settings.target == "azure_sql":
        import pyodbc

        odbc = settings_module.mssql_odbc_string()  # refuses an unknown sign-in mode
        source = azure_auth.token_source(settings_module.mssql_auth(), credential)
        attrs = source.attrs_before() if source else {}
        return pyodbc.connect(odbc, autocommit=False, attrs_before=attrs or None)
    raise ValueError(f"unknown target {settings.target!r}")  # load() already refuses these


@contextmanager
def connection(settings: Settings | None = None, *, read_only: bool = False) -> Iterator[Any]:
    """`connect`, closed on exit (nothing is committed for you)."""
    conn = connect(settings, read_only=read_only)
    try:
        yield conn
    finally:
        conn.close()


def read_frame(
    settings: Settings | None, sql: str, params: Sequence[Any] | None = None
) -> pd.DataFrame:
    """Run one query on the active target and return its rows as a DataFrame.

    Placeholders follow the driver: `?` for DuckDB and Azure SQL, `%s` for PostgreSQL.
    """
    settings = settings or settings_module.load()
    # Readers open DuckDB read-only so they never take the writer's lock from a running ingest.
    read_only = settings.target == "duckdb" and settings.duckdb_path.exists()
    with connection(settings, read_only=read_only) as conn:
        if settings.target == "duckdb":
            return conn.execute(sql, list(params or ())).df()
        cursor = conn.cursor()
        cursor.execute(sql, tuple(params or ()))
        columns = [d[0] for d in cursor.description]
        return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
