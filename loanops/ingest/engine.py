"""What every warehouse engine does for ingest, and the one strict CSV reader they share.

Every engine parses files with DuckDB's CSV reader (in the warehouse itself for DuckDB, in
an in-memory DuckDB for the others), so a file means the same rows on every target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loanops import raw_tables as rt
from loanops.ingest.layout import FileLayout, Layout
from loanops.ingest.loadlog import (
    LOAD_LOG_COLUMNS,
    LoadLogEntry,
    Types,
    added_log_columns,
    create_table_sql,
    table_columns,
)
from loanops.schema import APPLICATION_COLUMNS, BY_NAME, OUTCOME_COLUMNS

Progress = Callable[[float], None]  # fraction done, 0..1

# Which raw tables each layout lands in, and from which published columns.
TABLE_SOURCES: dict[str, tuple[str, ...]] = {
    rt.APPLICATIONS_TABLE: APPLICATION_COLUMNS,
    rt.OUTCOMES_TABLE: OUTCOME_COLUMNS,
}
LAYOUT_TABLES: dict[Layout, tuple[str, ...]] = {
    Layout.APPLICATIONS: (rt.APPLICATIONS_TABLE,),
    Layout.OUTCOMES: (rt.OUTCOMES_TABLE,),
    Layout.PUBLISHED: (rt.APPLICATIONS_TABLE, rt.OUTCOMES_TABLE),
}


@dataclass(frozen=True)
class Stamp:
    """The load metadata written on every row of one load."""

    file_name: str
    loaded_at: Any  # datetime, UTC without zone
    load_id: int


def sql_literal(text: str) -> str:
    """A single-quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def read_csv_sql(path: Path, layout: FileLayout, table: str) -> str:
    """A DuckDB query returning one table's columns from the file, strictly parsed, all text.

    Sniffing is off and every option is explicit: a row with the wrong number of fields,
    an unterminated quote or invalid UTF-8 is an error, never a guess or a skipped row.
    """
    columns = ", ".join(f"{sql_literal(name)}: 'VARCHAR'" for name in layout.header)
    select = ", ".join(f'"{name}" as {BY_NAME[name].raw}' for name in TABLE_SOURCES[table])
    return (
        f"select {select} from read_csv({sql_literal(str(path))}, header = true, "
        "delim = ',', quote = '\"', escape = '\"', strict_mode = true, auto_detect = false, "
        f"null_padding = false, ignore_errors = false, columns = {{{columns}}})"
    )


def raw_column_names(table: str) -> tuple[str, ...]:
    """A raw table's columns: published values, then the load metadata."""
    if table == rt.APPLICATIONS_TABLE:
        return rt.APPLICATION_RAW_COLUMNS + rt.METADATA_COLUMNS
    return rt.OUTCOME_RAW_COLUMNS + rt.METADATA_COLUMNS


class Engine:
    """One warehouse connection seen by ingest; transactions are driven by the runner."""

    types: Types
    param = "?"
    data_errors: tuple[type[BaseException], ...] = ()  # errors that mean "the file is bad"

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def ensure_tables(self) -> None:
        """Create the raw schema, raw tables and the load log if missing (idempotent)."""
        self.begin()
        self.conn.execute(f"create schema if not exists {rt.RAW_SCHEMA}")
        for table, columns in table_columns(self.types).items():
            self.conn.execute(create_table_sql(table, columns))
        # Altering only when a column is missing: even a no-op ALTER would queue an exclusive
        # lock behind a running ingest on PostgreSQL, and every reader of the log behind it.
        present = {
            row[0]
            for row in self.conn.execute(
                "select column_name from information_schema.columns "
                f"where table_schema = {self.param} and table_name = {self.param}",
                (rt.RAW_SCHEMA, rt.LOAD_LOG_TABLE),
            ).fetchall()
        }
        for name, kind in added_log_columns(self.types):
            if name not in present:
                self.conn.execute(
                    f"alter table {rt.RAW_SCHEMA}.{rt.LOAD_LOG_TABLE} add column {name} {kind}"
                )
        self.commit()

    def begin(self) -> None:
        """Start a transaction (DB-API drivers start one implicitly)."""

    def commit(self) -> None:
        """Commit the current transaction."""
        self.conn.commit()

    def rollback(self) -> None:
        """Roll the current transaction back."""
        self.conn.rollback()

    def lock_log(self) -> None:
        """Serialise concurrent ingests until commit (a no-op where there is one writer)."""

    def last_entry(self, checksum: str) -> LoadLogEntry | None:
        """The latest load log entry for a file's checksum, if any."""
        return self._latest_entry(f"checksum = {self.param}", (checksum,))

    def last_entry_for_blob(self, name: str, etag: str) -> LoadLogEntry | None:
        """The latest load log entry for one version (name and etag) of a blob, if any."""
        return self._latest_entry(f"file_name = {self.param} and etag = {self.param}", (name, etag))

    def _latest_entry(self, where: str, params: tuple[object, ...]) -> LoadLogEntry | None:
        """The load log row with the highest load id among those matching `where`."""
        row = self.conn.execute(
            f"select {', '.join(LOAD_LOG_COLUMNS)} from {rt.RAW_SCHEMA}.{rt.LOAD_LOG_TABLE} "
            f"where {where} order by load_id desc",
            params,
        ).fetchone()
        return LoadLogEntry(*row) if row else None

    def next_load_id(self) -> int:
        """One more than the highest load id so far (the log is locked by then)."""
        row = self.conn.execute(
            f"select coalesce(max(load_id), 0) + 1 from {rt.RAW_SCHEMA}.{rt.LOAD_LOG_TABLE}"
        ).fetchone()
        return int(row[0])

    def write_log(self, entry: LoadLogEntry) -> None:
        """Insert one load log row."""
        marks = ", ".join([self.param] * len(LOAD_LOG_COLUMNS))
        self.conn.execute(
            f"insert into {rt.RAW_SCHEMA}.{rt.LOAD_LOG_TABLE} ({', '.join(LOAD_LOG_COLUMNS)}) "
            f"values ({marks})",
            entry.values(),
        )

    def land(
        self, path: Path, layout: FileLayout, table: str, stamp: Stamp, progress: Progress | None
    ) -> int:
        """Append the file's rows to one raw table inside the open transaction; return the count."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()
