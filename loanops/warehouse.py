"""One way to talk to the active warehouse (DuckDB file, PostgreSQL or Azure SQL).

Every read and write is a SQLAlchemy statement: `sqlalchemy.text()` with named binds
(`:name`) or Core (Table, insert, CreateTable), so no caller spells a driver's placeholder.
`engine` is a SQLAlchemy engine per target: DuckDB through duckdb-engine, PostgreSQL through
psycopg, Azure SQL through pyodbc (an Entra token handed to the driver in a `do_connect` event).
Drivers load lazily, so a DuckDB laptop needs no ODBC driver.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from loanops import azure_auth
from loanops import settings as settings_module
from loanops.azure_auth import TokenCredential
from loanops.settings import Settings


def _read_only(settings: Settings) -> bool:
    """DuckDB readers go read-only on an existing file: never a running ingest's writer lock."""
    return settings.target == "duckdb" and settings.duckdb_path.exists()


def _connect_with(engine: sa.Engine, dsn: str) -> None:
    """Hand psycopg the libpq connection string the dbt profile's variables make."""

    @sa.event.listens_for(engine, "do_connect")
    def _conninfo(_dialect: Any, _record: Any, cargs: list[Any], _cparams: dict) -> None:
        cargs[:] = [dsn]


def engine(
    settings: Settings | None = None,
    *,
    read_only: bool = False,
    credential: TokenCredential | None = None,
) -> sa.Engine:
    """A SQLAlchemy engine on the target LOANOPS_TARGET names (no pool: a connection closes).

    Azure SQL signs in as LOANOPS_MSSQL_AUTH says; `credential` replaces the token mode's own
    azure-identity credential.
    """
    settings = settings or settings_module.load()
    if settings.target == "duckdb":
        if not read_only:
            settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        url = sa.URL.create("duckdb", database=str(settings.duckdb_path))
        return sa.create_engine(url, poolclass=NullPool, connect_args={"read_only": read_only})
    if settings.target == "postgres":
        made = sa.create_engine("postgresql+psycopg://", poolclass=NullPool)
        _connect_with(made, settings_module.postgres_dsn())
        return made
    if settings.target == "azure_sql":
        odbc = settings_module.mssql_odbc_string()  # refuses an unknown sign-in mode
        url = sa.URL.create("mssql+pyodbc", query={"odbc_connect": odbc})
        made = sa.create_engine(url, poolclass=NullPool, fast_executemany=True)
        mode = settings_module.mssql_auth()
        source = azure_auth.token_source(mode, credential)
        if source is not None:
            azure_auth.sign_in_with_token(made, source, mode, "the warehouse's ODBC settings")
        return made
    raise ValueError(f"unknown target {settings.target!r}")  # load() already refuses these


def driver_connection(conn: sa.Connection) -> Any:
    """The driver's own connection under `conn`, for a bulk load that needs its fast path."""
    return conn.connection.driver_connection


@contextmanager
def begin(settings: Settings | None = None, *, read_only: bool = False) -> Iterator[sa.Connection]:
    """One transaction on the warehouse: committed when the block ends, rolled back on error."""
    settings = settings or settings_module.load()
    made = engine(settings, read_only=read_only)
    try:
        with made.begin() as conn:
            yield conn
    finally:
        made.dispose()


def connect(
    settings: Settings | None = None,
    *,
    read_only: bool = False,
    credential: TokenCredential | None = None,
) -> Any:
    """The driver's own connection (caller closes it), for bulk loads that need its fast path.

    Ingest keeps using the driver (PostgreSQL COPY, DuckDB read_csv and appends, pyodbc's fast
    executemany). The servers' connection comes from `engine(...).raw_connection()`, so it signs
    in exactly as every other statement does; DuckDB's is the duckdb module's own connection,
    whose relational API (read_csv, register) ingest calls.
    """
    settings = settings or settings_module.load()
    if settings.target == "duckdb":
        import duckdb

        if not read_only:
            settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(settings.duckdb_path), read_only=read_only)
    return engine(settings, read_only=read_only, credential=credential).raw_connection()


def read_frame(
    settings: Settings | None,
    sql: str | sa.Executable,
    params: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Run one query on the active target and return its rows as a DataFrame.

    `sql` is text with named binds (`:run_id`) or a SQLAlchemy statement; `params` their values.
    """
    settings = settings or settings_module.load()
    statement = sa.text(sql) if isinstance(sql, str) else sql
    with begin(settings, read_only=_read_only(settings)) as conn:
        result = conn.execute(statement, dict(params or {}))
        if settings.target == "duckdb":
            # DuckDB's own DataFrame of the pending result (duckdb-engine's connection passes
            # `df` through to the driver): its fast path, and it keeps DuckDB's column types.
            return driver_connection(conn).df()
        return pd.DataFrame.from_records(result.fetchall(), columns=list(result.keys()))
