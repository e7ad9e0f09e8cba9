"""Ingest throughput, side by side with DuckDB's bare CSV reader on the same file.

    .venv/bin/python benchmarks/bench_ingest.py                 # 1,000,000 generated rows
    .venv/bin/python benchmarks/bench_ingest.py --file book.csv --repeat 5

Measures in one run: bare DuckDB `create table t as select * from read_csv(file,
all_varchar=true)`, our DuckDB ingest and our PostgreSQL ingest (a throw-away server, or the
one LOANOPS_PG_* points at), and prints medians and the ratio ours/bare against the 60 % target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import platform
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # for tests.postgres_server

from loanops.schema import COLUMNS, FIRST_ID, Kind  # noqa: E402

TARGET_RATIO = 0.60
_JUNK = np.array(["$", "#", "@", "&", "x", "#NA"])


def _text_column(values: np.ndarray, rng: np.random.Generator, missing: float) -> pa.Array:
    """Numbers as text, with a share of empty fields and a sprinkle of junk tokens."""
    text = pc.cast(pa.array(values), pa.string())
    rows = len(values)
    junk = rng.random(rows) < 0.01
    text = pc.if_else(pa.array(junk), pa.array(_JUNK[rng.integers(0, len(_JUNK), rows)]), text)
    return pc.if_else(pa.array(rng.random(rows) < missing), pa.nulls(rows, pa.string()), text)


def write_synthetic_book(path: Path, rows: int, seed: int = 7) -> Path:
    """Write a published-layout CSV (all 40 columns) quickly with numpy and pyarrow."""
    rng = np.random.default_rng(seed)
    arrays: dict[str, pa.Array] = {}
    for column in COLUMNS:
        if column.kind == Kind.ID:
            arrays[column.name] = pc.cast(
                pa.array(np.arange(FIRST_ID, FIRST_ID + rows)), pa.string()
            )
        elif column.kind == Kind.LABEL:
            arrays[column.name] = pc.cast(
                pa.array(rng.random(rows) < 0.0808).cast(pa.int8()), pa.string()
            )
        elif column.kind == Kind.FLAG:
            arrays[column.name] = _text_column(rng.integers(0, 2, rows), rng, 0.03)
        elif column.kind == Kind.CATEGORY:
            levels = np.array([f"{column.name[:6]}_{i}" for i in range(8)])
            arrays[column.name] = _text_column(levels[rng.integers(0, 8, rows)], rng, 0.03)
        else:
            low, high = column.low or 0.0, min(column.high or 1e5, 1e6)
            values = np.round(rng.uniform(low, high, rows), 2)
            arrays[column.name] = _text_column(values, rng, 0.05)
    table = pa.table(arrays)
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none"))
    return path


def _applications_only(published: Path, folder: Path) -> Path:
    """The same rows without the label column (the applications layout)."""
    import duckdb

    from loanops.schema import APPLICATION_COLUMNS

    path = folder / "applications.csv"
    select = ", ".join(f'"{c}"' for c in APPLICATION_COLUMNS)
    duckdb.execute(
        f"copy (select {select} from read_csv('{published}', all_varchar = true)) "
        f"to '{path}' (header, quote '')"
    )
    return path


def _timed(run: Callable[[], object]) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def bare_duckdb(book: Path, scratch: Path) -> float:
    """The reference: DuckDB's CSV reader straight into a table, no checks, no metadata."""
    import duckdb

    database = scratch / "bare.duckdb"
    database.unlink(missing_ok=True)
    con = duckdb.connect(str(database))
    try:
        return _timed(
            lambda: con.execute(
                f"create table t as select * from read_csv('{book}', all_varchar = true)"
            )
        )
    finally:
        con.close()
        database.unlink(missing_ok=True)


def ours(book: Path, scratch: Path, target: str) -> float:
    """`ingest_folder` on a landing folder holding only the book, into an empty warehouse."""
    from loanops import settings as settings_module
    from loanops.ingest import ingest_folder

    landing = scratch / "landing"
    landing.mkdir(exist_ok=True)
    (landing / book.name).unlink(missing_ok=True)
    (landing / book.name).symlink_to(book)
    database = scratch / "ours.duckdb"
    database.unlink(missing_ok=True)
    settings = settings_module.load(
        {
            "LOANOPS_DATA_DIR": str(scratch),
            "LOANOPS_TARGET": target,
            "LOANOPS_DUCKDB_PATH": str(database),
            "LOANOPS_LANDING_DIR": str(landing),
        }
    )
    results: list = []
    seconds = _timed(lambda: results.extend(ingest_folder(settings)))
    assert [r.status for r in results] == ["loaded"], results
    database.unlink(missing_ok=True)
    return seconds


def _fresh_postgres_database(number: int) -> None:
    """Point LOANOPS_PG_DATABASE at a new, empty database on the server."""
    import psycopg

    from loanops.settings import postgres_dsn

    name = f"bench_ingest_{os.getpid()}_{number}"
    with psycopg.connect(postgres_dsn(), autocommit=True) as conn:
        conn.execute(f"drop database if exists {name}")
        conn.execute(f"create database {name}")
    os.environ["LOANOPS_PG_DATABASE"] = name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="a published-layout CSV (default: generate)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to generate")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement")
    parser.add_argument("--layout", choices=["published", "applications"], default="published")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL run")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    book = args.file.resolve() if args.file else None
    if book is None and importlib.util.find_spec("loanops.generator") is not None:
        from loanops.generator import write_book

        source = "loanops.generator.write_book, seed 7"
        written = write_book(
            scratch / "generated", args.rows, 7, layout="published", name="bench",
            truth_dir=scratch / "truth",
        )  # fmt: skip
        book = written.files[0]
    elif book is None:
        source = "numpy/pyarrow synthetic book (no loanops.generator)"
        book = write_synthetic_book(scratch / "published.csv", args.rows)
    else:
        source = "given file"
    if args.layout == "applications":
        book = _applications_only(book, scratch)
    import duckdb

    rows = duckdb.execute(
        f"select count(*) from read_csv('{book}', all_varchar = true)"
    ).fetchone()[0]
    size_mb = book.stat().st_size / 1e6

    server = None
    if not args.no_postgres and "LOANOPS_PG_HOST" not in os.environ:
        from tests.postgres_server import start_postgres

        server = start_postgres()
        os.environ.update(server.env)

    times: dict[str, list[float]] = {"bare": [], "duckdb": [], "postgres": []}
    try:
        for number in range(args.repeat):
            # Side by side in each round, so machine load affects both alike.
            times["bare"].append(bare_duckdb(book, scratch))
            times["duckdb"].append(ours(book, scratch, "duckdb"))
            if not args.no_postgres:
                _fresh_postgres_database(number)
                times["postgres"].append(ours(book, scratch, "postgres"))
    finally:
        if server is not None:
            server.stop()
            shutil.rmtree(server.datadir.parent, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)

    rate = {k: rows / statistics.median(v) for k, v in times.items() if v}
    print(
        f"machine : {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cpus, Python {platform.python_version()}, duckdb {duckdb.__version__}"
    )
    print(f"command : {shlex.join([sys.executable, *sys.argv])}")
    print(f"date    : {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"file    : {book.name}, {rows:,} rows, {size_mb:.0f} MB ({args.layout} layout; {source})"
    )
    print(
        f"repeats : {args.repeat} (medians below; all runs: "
        + ", ".join(f"{k} {[round(t, 2) for t in v]}" for k, v in times.items() if v)
        + " s)"
    )
    print(f"bare DuckDB read_csv -> table : {rate['bare']:>10,.0f} rows/s")
    print(f"ours, DuckDB                  : {rate['duckdb']:>10,.0f} rows/s")
    if "postgres" in rate:
        print(f"ours, PostgreSQL (COPY)       : {rate['postgres']:>10,.0f} rows/s")
    ratio = rate["duckdb"] / rate["bare"]
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(f"ratio ours/bare (DuckDB)      : {ratio:.0%} ({verdict} the {TARGET_RATIO:.0%} target)")


if __name__ == "__main__":
    main()
