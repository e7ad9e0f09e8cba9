"""Land a landing location's CSV files, each exactly once and each whole or not at all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loanops import warehouse
from loanops.ingest.diagnose import first_problem
from loanops.ingest.engine import LAYOUT_TABLES, Engine, Progress, Stamp
from loanops.ingest.landing import Landing, LandingEntry, LandingError, LocalLanding, open_landing
from loanops.ingest.layout import RejectedFileError, inspect_file
from loanops.ingest.loadlog import LOADED, REJECTED, LoadLogEntry, file_checksum, utc_now
from loanops.settings import Settings

SKIPPED = "skipped"


@dataclass(frozen=True)
class FileResult:
    """What happened to one landed file."""

    file_name: str
    status: str  # loaded | skipped | rejected
    rows: int = 0
    layout: str | None = None
    load_id: int | None = None
    reason: str | None = None  # why it was skipped or rejected
    # {as sent: published} for headers that were not the published name verbatim
    header_mapping: dict[str, str] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """One line for the operator: the file, then what happened."""
        if self.status == LOADED:
            loaded = (
                f"{self.file_name}: loaded {self.rows} rows ({self.layout}, load {self.load_id})"
            )
            if self.header_mapping:
                # A whole file of lower-case headers maps every column: show a few, count the rest.
                pairs = [f"{sent!r} as {name}" for sent, name in self.header_mapping.items()]
                more = f" and {len(pairs) - 3} more" if len(pairs) > 3 else ""
                loaded += f"; headers read as published: {', '.join(pairs[:3])}{more}"
            return loaded
        if self.status == REJECTED:
            return f"{self.file_name}: rejected: {self.reason}"
        return f"{self.file_name}: skipped, {self.reason}"


def open_engine(settings: Settings) -> Engine:
    """The ingest engine of the target LOANOPS_TARGET names, on a fresh connection."""
    conn = warehouse.connect(settings)
    if settings.target == "duckdb":
        from loanops.ingest.duckdb_engine import DuckDBEngine

        return DuckDBEngine(conn)
    if settings.target == "postgres":
        from loanops.ingest.postgres_engine import PostgresEngine

        return PostgresEngine(conn)
    from loanops.ingest.mssql_engine import MssqlEngine

    return MssqlEngine(conn)


def ingest_folder(
    settings: Settings,
    folder: Path | None = None,
    *,
    retry_rejected: bool = False,
    on_result: Callable[[FileResult], None] | None = None,
    progress_for: Callable[[Path], Progress | None] | None = None,
) -> list[FileResult]:
    """Land every *.csv in the folder (default: the configured landing location) into raw tables."""
    return ingest_landing(
        settings,
        LocalLanding(folder) if folder else None,
        retry_rejected=retry_rejected,
        on_result=on_result,
        progress_for=progress_for,
    )


def select_entries(landing: Landing, names: list[str] | None = None) -> list[LandingEntry]:
    """The named entries of the location (each must be there), or all of them when none named."""
    entries = landing.entries()
    if not names:
        return entries
    by_name = {entry.name: entry for entry in entries}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise LandingError(f"not in the landing location {landing.url}: {', '.join(missing)}")
    return [by_name[name] for name in names]


def ingest_landing(
    settings: Settings,
    landing: Landing | None = None,
    names: list[str] | None = None,
    *,
    retry_rejected: bool = False,
    on_result: Callable[[FileResult], None] | None = None,
    progress_for: Callable[[Path], Progress | None] | None = None,
) -> list[FileResult]:
    """Land the location's *.csv files (or only the named ones) into raw tables, in name order.

    The location defaults to the configured one (LOANOPS_LANDING_URL, else the landing folder).
    """
    landing = landing or open_landing(settings)
    entries = select_entries(landing, names)
    engine = open_engine(settings)
    results = []
    try:
        engine.ensure_tables()
        for entry in entries:
            result = ingest_entry(
                engine, landing, entry, retry_rejected=retry_rejected, progress_for=progress_for
            )
            results.append(result)
            if on_result:
                on_result(result)
    finally:
        engine.close()
    return results


def ingest_entry(
    engine: Engine,
    landing: Landing,
    entry: LandingEntry,
    *,
    retry_rejected: bool = False,
    progress_for: Callable[[Path], Progress | None] | None = None,
) -> FileResult:
    """Land one entry of a location; a blob version already in the log is not even downloaded."""
    if entry.etag is not None:
        engine.begin()
        try:
            previous = engine.last_entry_for_blob(entry.name, entry.etag)
        finally:
            engine.rollback()  # a read only: hold no transaction open across the download
        skip = _skip_reason(previous, retry_rejected)
        if skip and previous is not None:
            return FileResult(entry.name, SKIPPED, reason=skip, load_id=previous.load_id)
    with landing.fetch(entry) as fetched:
        progress = progress_for(fetched.path) if progress_for else None
        return ingest_file(
            engine,
            fetched.path,
            retry_rejected=retry_rejected,
            progress=progress,
            name=fetched.name,
            etag=fetched.etag,
        )


def ingest_file(
    engine: Engine,
    path: Path,
    *,
    retry_rejected: bool = False,
    progress: Progress | None = None,
    name: str | None = None,
    etag: str | None = None,
) -> FileResult:
    """Land one file in one transaction (raw rows and its load log row), or reject it whole.

    `name` is what the log records (default: the file's name); `etag` the blob version read.
    """
    name = name or path.name
    checksum = file_checksum(path)
    layout_name = None
    mapping = None
    engine.begin()
    try:
        engine.lock_log()
        previous = engine.last_entry(checksum)
        skip = _skip_reason(previous, retry_rejected)
        if skip:
            engine.rollback()
            return FileResult(name, SKIPPED, reason=skip, load_id=previous.load_id)
        layout = inspect_file(path)
        layout_name = str(layout.layout)
        mapping = layout.mapping_json()
        stamp = Stamp(name, utc_now(), engine.next_load_id())
        try:
            counts = [
                engine.land(path, layout, table, stamp, progress)
                for table in LAYOUT_TABLES[layout.layout]
            ]
        except engine.data_errors as error:
            reason = first_problem(path, len(layout.header)) or _first_line(error)
            raise RejectedFileError(reason) from error
        rows = counts[0]
        if rows == 0:
            raise RejectedFileError("no data rows (only a header)")
        engine.write_log(
            LoadLogEntry(
                stamp.load_id,
                name,
                checksum,
                layout_name,
                rows,
                stamp.loaded_at,
                LOADED,
                None,
                etag,
                mapping,
            )
        )
        engine.commit()
        return FileResult(
            name, LOADED, rows, layout_name, stamp.load_id, header_mapping=layout.header_mapping
        )
    except RejectedFileError as rejection:
        engine.rollback()
        return _reject(engine, name, etag, checksum, layout_name, str(rejection), mapping)
    except BaseException:
        engine.rollback()
        raise


def _skip_reason(previous: LoadLogEntry | None, retry_rejected: bool) -> str | None:
    """Why a file whose checksum is in the log is not loaded again (None: load it)."""
    if previous is None:
        return None
    if previous.status == LOADED:
        return f"already loaded (load {previous.load_id}, as {previous.file_name})"
    if not retry_rejected:
        return f"rejected before (load {previous.load_id}); fix it, or pass --retry-rejected"
    return None


def _reject(
    engine: Engine,
    name: str,
    etag: str | None,
    checksum: str,
    layout: str | None,
    reason: str,
    mapping: str | None = None,
) -> FileResult:
    """Record a rejection in its own transaction: the file's rows are already rolled back."""
    engine.begin()
    try:
        engine.lock_log()
        load_id = engine.next_load_id()
        message = f"{name}: {reason}"
        engine.write_log(
            LoadLogEntry(
                load_id, name, checksum, layout, None, utc_now(), REJECTED, message, etag, mapping
            )
        )
        engine.commit()
    except BaseException:
        engine.rollback()
        raise
    return FileResult(name, REJECTED, 0, layout, load_id, reason)


def _first_line(error: BaseException) -> str:
    """An engine error's first line (the rest is advice meant for SQL users)."""
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
