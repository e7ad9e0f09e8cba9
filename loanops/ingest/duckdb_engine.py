"""DuckDB: the warehouse's own CSV reader inserts straight into the raw table."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import duckdb

from loanops import raw_tables as rt
from loanops.ingest.engine import Engine, Progress, Stamp, raw_column_names, read_csv_sql
from loanops.ingest.layout import FileLayout
from loanops.ingest.loadlog import DUCKDB_TYPES

_PROGRESS_POLL_SECONDS = 0.25


class DuckDBEngine(Engine):
    """Ingest into a DuckDB file."""

    types = DUCKDB_TYPES
    data_errors = (duckdb.InvalidInputException, duckdb.ConversionException)

    def begin(self) -> None:
        """DuckDB needs an explicit BEGIN; it autocommits otherwise."""
        self.conn.begin()

    def land(
        self, path: Path, layout: FileLayout, table: str, stamp: Stamp, progress: Progress | None
    ) -> int:
        """Insert from read_csv, then number the rows from their row ids."""
        target = f"{rt.RAW_SCHEMA}.{table}"
        insert = (
            f"insert into {target} ({', '.join(raw_column_names(table))}) "
            f"select *, ?, null, ?, ? from ({read_csv_sql(path, layout, table)})"
        )
        params = [stamp.file_name, stamp.loaded_at, stamp.load_id]
        count = self._execute(insert, params, progress).fetchone()[0]
        # `row_number() over ()` in the insert would cost about half the load's time; with
        # insertion order preserved (DuckDB's default) one insert appends rows in file order
        # under consecutive row ids, so numbering from the smallest id of this load is exact.
        self.conn.execute(
            f"update {target} set {rt.SOURCE_ROW} = rowid - "
            f"(select min(rowid) from {target} where {rt.LOAD_ID} = ?) + 1 "
            f"where {rt.LOAD_ID} = ?",
            [stamp.load_id, stamp.load_id],
        )
        return int(count)

    def _execute(self, sql: str, params: list[Any], progress: Progress | None) -> Any:
        """Run a statement; with a progress callback, poll DuckDB's progress from this thread."""
        if progress is None:
            return self.conn.execute(sql, params)
        self.conn.execute("set enable_progress_bar = true")
        self.conn.execute("set enable_progress_bar_print = false")
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["result"] = self.conn.execute(sql, params)
            except BaseException as error:  # re-raised in the caller's thread below
                outcome["error"] = error

        worker = threading.Thread(target=run, name="duckdb-ingest")
        worker.start()
        while worker.is_alive():
            worker.join(_PROGRESS_POLL_SECONDS)
            done = self.conn.query_progress()
            if done >= 0:
                progress(min(done, 100.0) / 100.0)
        if "error" in outcome:
            raise outcome["error"]
        progress(1.0)
        return outcome["result"]
