"""PostgreSQL: DuckDB parses and validates the file in memory, COPY FROM STDIN lands it."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv

from loanops import raw_tables as rt
from loanops.ingest.engine import Engine, Progress, Stamp, raw_column_names, read_csv_sql
from loanops.ingest.layout import FileLayout
from loanops.ingest.loadlog import POSTGRES_TYPES

_BATCH_ROWS = 100_000
# pyarrow quotes every text value, so an empty string could never be mistaken for NULL
# (an unquoted empty field) and no value can look like COPY's end-of-data marker.
_CSV_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="needed")


class PostgresEngine(Engine):
    """Ingest into PostgreSQL through psycopg 3."""

    types = POSTGRES_TYPES
    param = "%s"
    data_errors = (duckdb.InvalidInputException, duckdb.ConversionException, psycopg.DataError)

    def lock_log(self) -> None:
        """Two ingests at once would race for load ids and checksums: take turns."""
        self.conn.execute(f"lock table {rt.RAW_SCHEMA}.{rt.LOAD_LOG_TABLE} in exclusive mode")

    def land(
        self, path: Path, layout: FileLayout, table: str, stamp: Stamp, progress: Progress | None
    ) -> int:
        """Stream validated Arrow batches, with metadata columns added, into COPY."""
        reader_db = duckdb.connect()
        try:
            batches = reader_db.sql(read_csv_sql(path, layout, table)).to_arrow_reader(_BATCH_ROWS)
            columns = ", ".join(raw_column_names(table))
            copy_sql = f"copy {rt.RAW_SCHEMA}.{table} ({columns}) from stdin (format csv)"
            count = 0
            loaded_at = stamp.loaded_at.isoformat(sep=" ")
            with self.conn.cursor() as cursor, cursor.copy(copy_sql) as copy:
                for batch in batches:
                    rows = batch.num_rows
                    metadata = [
                        pa.array(np.full(rows, stamp.file_name, dtype=object), pa.string()),
                        pa.array(np.arange(count + 1, count + rows + 1, dtype=np.int64)),
                        pa.array(np.full(rows, loaded_at, dtype=object), pa.string()),
                        pa.array(np.full(rows, stamp.load_id, dtype=np.int64)),
                    ]
                    names = [*batch.schema.names, *rt.METADATA_COLUMNS]
                    out = io.BytesIO()
                    pacsv.write_csv(
                        pa.RecordBatch.from_arrays([*batch.columns, *metadata], names=names),
                        out,
                        _CSV_OPTIONS,
                    )
                    copy.write(out.getbuffer())
                    count += rows
                    if progress is not None:
                        progress(min(1.0, count / layout.estimated_rows))
            return count
        finally:
            reader_db.close()
