"""The load log (raw.load_log) and the raw tables' DDL: what was landed, when, and why not."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from loanops import raw_tables as rt

LOADED = "loaded"
REJECTED = "rejected"
LOAD_LOG_COLUMNS = (
    "load_id",
    "file_name",
    "checksum",
    "layout",
    "rows",
    "loaded_at",
    "status",
    "message",
    "etag",
    "header_mapping",
)


@dataclass(frozen=True)
class LoadLogEntry:
    """One row of raw.load_log."""

    load_id: int
    file_name: str
    checksum: str
    layout: str | None
    rows: int | None
    loaded_at: dt.datetime  # UTC, stored without a zone
    status: str
    message: str | None
    etag: str | None = None  # a blob's etag when read from Blob storage; None for a local file
    # JSON {as sent: published} of the headers read as a published name they did not spell
    # exactly (case, padding, a known alias); None when every header was the published name
    header_mapping: str | None = None

    def values(self) -> tuple[object, ...]:
        """The row in LOAD_LOG_COLUMNS order."""
        return tuple(getattr(self, name) for name in LOAD_LOG_COLUMNS)


def file_checksum(path: Path) -> str:
    """The sha256 of the file's bytes, hex: the identity of a landed file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def utc_now() -> dt.datetime:
    """The current UTC time without a zone (every target stores it the same way)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Types:
    """A dialect's column types for the raw layer."""

    text: str
    short_text: str
    integer: str
    bigint: str
    timestamp: str


DUCKDB_TYPES = Types("varchar", "varchar", "integer", "bigint", "timestamp")
POSTGRES_TYPES = Types("text", "text", "integer", "bigint", "timestamp")
# SQL Server needs lengths; 4000 is the longest nvarchar that stays in-row and indexable.
MSSQL_TYPES = Types("nvarchar(4000)", "nvarchar(400)", "int", "bigint", "datetime2")


def table_columns(types: Types) -> dict[str, list[tuple[str, str]]]:
    """Each raw table's (column, type) list, from loanops.raw_tables."""
    metadata = [
        (rt.SOURCE_FILE, types.short_text),
        (rt.SOURCE_ROW, types.bigint),
        (rt.LOADED_AT, types.timestamp),
        (rt.LOAD_ID, types.integer),
    ]
    return {
        rt.LOAD_LOG_TABLE: [
            ("load_id", f"{types.integer} not null primary key"),
            ("file_name", f"{types.short_text} not null"),
            ("checksum", f"{types.short_text} not null"),
            ("layout", types.short_text),
            ("rows", types.bigint),
            ("loaded_at", f"{types.timestamp} not null"),
            ("status", f"{types.short_text} not null"),
            ("message", types.text),
            ("etag", types.short_text),
            ("header_mapping", types.text),
        ],
        rt.APPLICATIONS_TABLE: [(c, types.text) for c in rt.APPLICATION_RAW_COLUMNS] + metadata,
        rt.OUTCOMES_TABLE: [(c, types.text) for c in rt.OUTCOME_RAW_COLUMNS] + metadata,
    }


def create_table_sql(table: str, columns: list[tuple[str, str]]) -> str:
    """`create table if not exists raw.<table> (...)` (DuckDB and PostgreSQL)."""
    body = ",\n    ".join(f"{name} {kind}" for name, kind in columns)
    return f"create table if not exists {rt.RAW_SCHEMA}.{table} (\n    {body}\n)"


def added_log_columns(types: Types) -> list[tuple[str, str]]:
    """Load log columns newer than some warehouses' log: added in place where missing."""
    return [("etag", types.short_text), ("header_mapping", types.text)]
