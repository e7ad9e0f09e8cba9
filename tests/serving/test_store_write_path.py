"""The store's fast write path: the same stored values as SQLAlchemy's executemany, one
transaction per batch, and the background WAL checkpoint that keeps SQLite's WAL bounded."""

from __future__ import annotations

import contextlib
import copy
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from serving.store import PredictionStore, StoreUnavailableError, migrate, predictions
from serving.store.checkpoint import WAL_LIMIT_BYTES, WalCheckpointer
from serving.store.engine import dumps
from tests.serving.samples import applications


def _pg_url(postgres, database: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/{database}"


@pytest.fixture
def pg_databases(postgres) -> Iterator[Any]:
    """Make fresh databases on the shared server; dropped after the test."""
    admin = sa.create_engine(_pg_url(postgres, "loanops"), isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"write_{os.getpid()}_{len(made)}_{uuid.uuid4().hex[:6]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f"create database {name}"))
        made.append(name)
        url = _pg_url(postgres, name)
        migrate.upgrade(url)
        return url

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.execute(sa.text(f"drop database if exists {name} with (force)"))
    admin.dispose()


def _sqlite_url(folder: Path, name: str) -> str:
    url = f"sqlite:///{folder / name}"
    migrate.upgrade(url)
    return url


def rows(count: int, seed: int = 3) -> list[dict[str, Any]]:
    """Rows as the batch scorer builds them, with the awkward values it can produce."""
    now = datetime.now(UTC)
    out = []
    for i, record in enumerate(applications(count, seed=seed)):
        out.append({
            "prediction_id": uuid.uuid4(), "request_id": f"req-{i // 7}", "run_id": None,
            "client_id": None if i % 5 == 0 else str(record["ID"]), "input_raw_data": record,
            "processed_data": {"ratio": i / 3, "missing": None, "flag": 1.0, "name": "Alone"},
            "prediction_probability": 1 / (i + 3), "predicted_class": i % 2, "threshold": 0.5,
            "reason_codes": [] if i % 4 == 0 else [f"Credit amount high ({i:.4g})", "ü ✓"],
            "model_name": "loan-default", "model_version": "7", "latency_ms": 1.25 * i,
            "prediction_timestamp": now, "decision": ("approve", "refer", "decline")[i % 3],
            "referral_reasons": [{"code": "missing_required", "field": "Age_Days"}]
            if i % 3 == 1 else [],
            "decision_policy": {"version": 1, "threshold": 0.5, "grey_zone": 0.01},
        })  # fmt: skip
    out[1]["input_raw_data"] = {"ID": None, "big": 2**70, "text": 'quote " and \\ \u2028'}
    return out


def _stored_text(url: str) -> list[tuple[Any, ...]]:
    """Every column as the database holds it, as text."""
    cast = "::text" if url.startswith("postgresql") else ""
    columns = ", ".join(f"{c.name}{cast}" for c in predictions.c)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            query = f"select {columns} from predictions order by prediction_id"
            return [tuple(r) for r in conn.exec_driver_sql(query)]
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_fast_insert_stores_what_sqlalchemy_stores(backend, data_dir, request):
    if backend == "sqlite":
        reference, fast = _sqlite_url(data_dir, "ref.db"), _sqlite_url(data_dir, "fast.db")
    else:
        make = request.getfixturevalue("pg_databases")
        reference, fast = make(), make()
    batch = rows(40)

    engine = sa.create_engine(reference, json_serializer=dumps)
    with engine.begin() as conn:  # SQLAlchemy's generic executemany, as before the fast path
        conn.execute(predictions.insert(), copy.deepcopy(batch))
    engine.dispose()
    store = PredictionStore(fast)
    store.insert_many(copy.deepcopy(batch))

    assert _stored_text(fast) == _stored_text(reference)
    old = PredictionStore(reference)
    try:
        for row in batch:
            got = store.get(row["prediction_id"])
            assert got == old.get(row["prediction_id"])
            assert got["input_raw_data"] == row["input_raw_data"]
            assert got["reason_codes"] == row["reason_codes"]
            assert got["prediction_id"] == row["prediction_id"]
            stamp = got["prediction_timestamp"]  # SQLite gives it back naive, in UTC
            assert (stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp) == row[
                "prediction_timestamp"
            ]
    finally:
        old.dispose()
        store.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_failed_batch_writes_nothing(backend, data_dir, request):
    if backend == "sqlite":
        url = _sqlite_url(data_dir, "p.db")
    else:
        url = request.getfixturevalue("pg_databases")()
    store = PredictionStore(url)
    try:
        store.insert_many(rows(3))
        batch = rows(20)
        batch[-1]["prediction_id"] = batch[0]["prediction_id"]  # primary key clash at the end
        with pytest.raises(StoreUnavailableError, match="write failed"):
            store.insert_many(batch)
        batch = rows(5)
        batch[2]["model_name"] = None  # NOT NULL
        with pytest.raises(StoreUnavailableError, match="write failed"):
            store.insert_many(batch)
        if backend == "postgres":  # SQLite stores any text in an INTEGER column
            batch = rows(5)
            batch[2]["predicted_class"] = "not a number"
            with pytest.raises(StoreUnavailableError, match="write failed"):
                store.insert_many(batch)
        assert store.count() == 3
    finally:
        store.dispose()


def _wait_for_run(checkpointer: WalCheckpointer, after: int) -> None:
    """Until the background thread has finished more than `after` checkpoints."""
    deadline = time.monotonic() + 60
    while checkpointer.runs <= after:
        assert time.monotonic() < deadline, "the checkpoint thread did not run"
        time.sleep(0.01)


def test_background_checkpoint_keeps_wal_bounded_and_rows_readable(data_dir):
    store = PredictionStore(_sqlite_url(data_dir, "p.db"))
    checkpointer = store.checkpointer
    sizes = []
    try:
        for _ in range(12):
            runs, wakes = checkpointer.runs, checkpointer.wakes
            store.insert_many(rows(300))  # ~1.3 MB of WAL: every 4th commit wakes the thread
            sizes.append(checkpointer.wal_bytes())
            if checkpointer.wakes > wakes:
                _wait_for_run(checkpointer, runs)
        assert checkpointer.wakes == 3
        with contextlib.closing(sqlite3.connect(data_dir / "p.db")) as other:  # another reader
            assert other.execute("select count(*) from predictions").fetchone()[0] == 12 * 300
    finally:
        store.dispose()
    # Each checkpoint lets the next writer start the WAL over, so it holds about four batches
    # (five if a run began just before a commit). Without the thread SQLite would only
    # checkpoint at 128 MiB and the WAL would hold all 12 batches.
    assert max(sizes) < 6.5 * sizes[0], sizes
    assert not checkpointer._thread


def test_wal_starts_over_while_writers_keep_committing(data_dir):
    # A checkpoint beside busy writers never finds the whole WAL copied, so SQLite would not
    # start it over: it would grow to the limit and a TRUNCATE would hold the writers. The
    # checkpointer's second pass, writers held, copies the rest, and the next commit restarts.
    store = PredictionStore(_sqlite_url(data_dir, "p.db"))
    checkpointer = store.checkpointer
    batch = rows(2)
    sizes, commits = [], 0
    written = 0
    try:
        deadline = time.monotonic() + 120
        while written < 1.5 * WAL_LIMIT_BYTES and time.monotonic() < deadline:
            for row in batch:  # small commits, one after another, while the thread works
                row["prediction_id"] = uuid.uuid4()
            store.insert_many(batch)
            commits += 1
            written = commits * 64 * 1024  # each small commit rewrites ~4 pages of 16 KiB
            if commits % 50 == 0:
                sizes.append(checkpointer.wal_bytes())
        assert written >= 1.5 * WAL_LIMIT_BYTES, "too slow to write past the limit"
        assert checkpointer.runs >= 10
        assert store.count() == 2 * commits
    finally:
        store.dispose()
    # the file never came near the limit: it was started over at about restart_bytes
    assert max(sizes) < WAL_LIMIT_BYTES / 2, sizes
    assert max(sizes) < 2 * checkpointer.restart_bytes, sizes


def test_checkpointer_gets_the_writer_lock_ahead_of_a_committing_loop(data_dir):
    # threading.Lock lets a writer that commits in a loop take it back before a waiting thread
    # wakes, so the checkpointer could wait behind 100+ commits while the WAL grows. New writers
    # queue behind it, so at most the commit already past the gate goes first.
    store = PredictionStore(_sqlite_url(data_dir, "p.db"))
    store.checkpointer.checkpoint_bytes = 1 << 62  # no background pass: this test takes the lock
    commits, stop = [0], threading.Event()
    batch = rows(2)

    def write_loop() -> None:
        while not stop.is_set():
            for row in batch:
                row["prediction_id"] = uuid.uuid4()
            store.insert_many(batch)
            commits[0] += 1

    writer = threading.Thread(target=write_loop)
    writer.start()
    waited, progressed = [], 0
    try:
        for _ in range(30):
            after = commits[0]
            time.sleep(0.01)
            before = commits[0]
            progressed += before > after  # the loop committed while the lock was free
            with store.checkpointer.write_lock():
                waited.append(commits[0] - before)
                time.sleep(0.002)  # the writer queues meanwhile
    finally:
        stop.set()
        writer.join()
        store.dispose()
    assert progressed >= 15, progressed  # the loop really was committing throughout
    # the commit in flight, and (when the counter lagged its commit) the one after it
    assert max(waited) <= 2, waited


def test_small_commits_do_not_wake_the_checkpointer_each_time(data_dir):
    store = PredictionStore(_sqlite_url(data_dir, "p.db"))
    try:
        for _ in range(20):
            store.insert_many(rows(2)[:1])
        assert store.checkpointer.wakes == 0  # ~1.4 MB: SQLite would not checkpoint either
        store.insert_many(rows(1000))
        assert store.checkpointer.wakes == 1
    finally:
        store.dispose()


def test_wal_past_limit_is_truncated_once_readers_let_go(data_dir):
    url = _sqlite_url(data_dir, "p.db")
    store = PredictionStore(url)
    store.checkpointer = None  # only this test's checkpointer runs
    tiny = WalCheckpointer(
        str(data_dir / "p.db"), contextlib.nullcontext, limit_bytes=1, retry_seconds=0
    )
    try:
        store.insert_many(rows(50))
        with contextlib.closing(sqlite3.connect(data_dir / "p.db")) as reader:
            reader.execute("begin")
            assert reader.execute("select count(*) from predictions").fetchone()[0] == 50
            store.insert_many(rows(50))  # past the reader's snapshot: cannot be copied yet
            busy, _, _ = tiny.checkpoint()
            assert busy == 1 and tiny.wal_bytes() > 0
            reader.execute("commit")
        tiny.checkpoint()
        assert tiny.wal_bytes() == 0
        assert store.count() == 100
    finally:
        store.dispose()


def test_checkpoint_never_creates_a_database(data_dir):
    missing = data_dir / "absent.db"
    with pytest.raises(sqlite3.OperationalError):
        WalCheckpointer(str(missing), contextlib.nullcontext).checkpoint()
    assert not missing.exists()


def test_dispose_stops_the_thread_and_a_write_restarts_it(data_dir):
    store = PredictionStore(_sqlite_url(data_dir, "p.db"))
    try:
        store.insert_many(rows(2))
        first = store.checkpointer._thread
        assert first is not None and first.is_alive()
        store.dispose()
        assert not first.is_alive()
        store.insert_many(rows(2))
        assert store.checkpointer._thread.is_alive()
        assert store.count() == 4
    finally:
        store.dispose()


def test_sqlite_writer_connections_leave_checkpoints_to_the_thread(data_dir):
    store = PredictionStore(_sqlite_url(data_dir, "p.db"))
    try:
        with store.engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in (
                    "page_size", "journal_mode", "synchronous", "wal_autocheckpoint", "cache_size"
                )
            }  # fmt: skip
        assert pragma == {
            "page_size": 16384, "journal_mode": "wal", "synchronous": 1,
            "wal_autocheckpoint": 8192, "cache_size": -16384,  # 128 MiB of 16 KiB pages
        }  # fmt: skip
    finally:
        store.dispose()


def test_postgres_json_compressed_with_lz4_where_the_server_has_it(pg_databases):
    url = pg_databases()
    store = PredictionStore(url)
    batch = rows(3)
    for row in batch:  # past PostgreSQL's ~2 KB row threshold, so TOAST compresses the JSON
        row["processed_data"] = {f"feature_{i}": i / 7 for i in range(300)}
    try:
        store.insert_many(copy.deepcopy(batch))
        with store.engine.connect() as conn:
            offers_lz4 = conn.exec_driver_sql(
                "select 'lz4' = any(enumvals) from pg_settings "
                "where name = 'default_toast_compression'"
            ).scalar()
            methods = (
                conn.exec_driver_sql(
                    "select distinct pg_column_compression(processed_data) from predictions"
                )
                .scalars()
                .all()
            )
        assert methods == (["lz4"] if offers_lz4 else ["pglz"])
        for row in batch:
            assert store.get(row["prediction_id"])["processed_data"] == row["processed_data"]
    finally:
        store.dispose()


def test_existing_database_keeps_its_page_size(data_dir):
    path = data_dir / "old.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:  # a store made before 16 KiB pages
        conn.execute("PRAGMA page_size=4096")
        conn.execute("PRAGMA journal_mode=WAL")
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    store = PredictionStore(url)
    try:
        batch = rows(5)
        store.insert_many(batch)
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 4096
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 32768
        assert store.get(batch[4]["prediction_id"])["reason_codes"] == batch[4]["reason_codes"]
    finally:
        store.dispose()
