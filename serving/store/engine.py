"""SQLAlchemy engines for the store: SQLite in WAL mode by default, any server URL otherwise."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from loanops import azure_auth, settings

PAGE_SIZE = 16384
WAL_LIMIT_BYTES = 64 * 1024 * 1024  # a WAL that grew past this shrinks back after a checkpoint
CACHE_KIB = 16 * 1024  # page cache per SQLite connection


def default_url() -> str:
    """A SQLite file under the data folder."""
    return f"sqlite:///{settings.load().data_dir / 'predictions.db'}"


def configured_url(environ: dict[str, str] | None = None) -> str:
    """The store URL: LOANOPS_PREDICTION_STORE_URL, a file, else SQLite under the data folder.

    LOANOPS_PREDICTION_STORE_URL_FILE names a mounted secret file holding the URL, so a
    password never sits in a pod's environment.
    """
    env = os.environ if environ is None else environ
    url = env.get("LOANOPS_PREDICTION_STORE_URL", "").strip()
    path = env.get("LOANOPS_PREDICTION_STORE_URL_FILE", "").strip()
    if url and path:
        raise ValueError(
            "both LOANOPS_PREDICTION_STORE_URL and LOANOPS_PREDICTION_STORE_URL_FILE are set: "
            "keep one (the file for a URL with a password)"
        )
    if not path:
        return url or default_url()
    try:
        text = Path(path).read_text().strip()
    except OSError as error:
        raise ValueError(
            f"LOANOPS_PREDICTION_STORE_URL_FILE={path!r} cannot be read: {error.strerror}"
        ) from error
    if not text:
        raise ValueError(f"LOANOPS_PREDICTION_STORE_URL_FILE={path!r} is empty: put the URL in it")
    return text


def dumps(value: Any) -> str:
    """Compact JSON text for the JSON columns (valid on SQLite, PostgreSQL and SQL Server).

    orjson is about ten times faster than the standard library; values it cannot encode (ints
    beyond 64 bits, non-text keys) go through `json.dumps`. The store cleans NaN and infinities
    before this, so no non-standard token reaches either encoder.
    """
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; busy_timeout lets worker processes take turns.

    SQLite checkpoints the WAL itself, in the COMMIT that takes it past 1,000 pages.
    """
    cursor = dbapi_connection.cursor()
    # Only a new, empty file takes a page size (before WAL mode); an existing one keeps its own.
    # A stored row is ~3.5 KB: 16 KiB pages hold four, so a 1,000-row insert writes and
    # checkpoints fewer, fuller pages (~25% less CPU than 4 KiB pages).
    cursor.execute(f"PRAGMA page_size={PAGE_SIZE}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable against process crashes in WAL mode
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
    # A 1,000-row batch touches ~4 MB of table pages and index leaves: with the default 2 MiB
    # cache it spills and re-reads; 16 MiB (allocated only as used) takes ~20% off the insert's
    # CPU.
    cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    cursor.close()


def _postgres_lz4(dbapi_connection: Any, _record: Any) -> None:
    """TOAST-compress this session's JSON values with lz4 where the server has it.

    A prediction row is ~3.5 KB, so PostgreSQL compresses its JSON columns on insert; its default
    pglz costs about a third of a 1,000-row insert, lz4 a fraction of that (PostgreSQL 14+, when
    built with lz4; older servers have no such setting and keep pglz). Reads are unchanged.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(
            "select 'lz4' = any(enumvals) from pg_settings where name = 'default_toast_compression'"
        )
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute("set default_toast_compression = lz4")
    finally:
        cursor.close()
    dbapi_connection.commit()  # keep the setting for the session, past the pool's rollbacks


def make_engine(url: str, *, credential: azure_auth.TokenCredential | None = None) -> sa.Engine:
    """An engine for the store URL (creating the SQLite folder when needed).

    A SQL Server URL signs in as LOANOPS_MSSQL_AUTH says (loanops/settings.py); `credential`
    replaces the token mode's own azure-identity credential.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, json_serializer=dumps, connect_args={"timeout": 10})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = sa.create_engine(
        url, json_serializer=dumps, pool_pre_ping=True, pool_size=2, max_overflow=2,
        pool_timeout=5,
    )  # fmt: skip
    if parsed.get_backend_name() == "postgresql":
        sa.event.listen(engine, "connect", _postgres_lz4)
    if parsed.get_backend_name() == "mssql":
        mode = settings.mssql_auth()  # an unknown mode stops the API at start
        source = azure_auth.token_source(mode, credential)
        if source is not None:
            azure_auth.sign_in_with_token(engine, source, mode, "the prediction store URL")
    return engine
