"""The store's write path: the column-wise inserts store what SQLAlchemy's executemany stores,
one transaction per batch, SQLite's settings and a WAL that stays bounded, lz4 on PostgreSQL."""

from __future__ import annotations

import contextlib
import copy
import os
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from serving.store import PredictionStore, StoreUnavailableError, migrate, predictions
from serving.store.engine import WAL_LIMIT_BYTES, dumps
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


def test_sqlite_settings_of_every_connection(data_dir):
    store = PredictionStore(_sqlite_url(data_dir, "p.db"))
    try:
        with store.engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in (
                    "page_size", "journal_mode", "synchronous", "wal_autocheckpoint", "cache_size",
                    "journal_size_limit",
                )
            }  # fmt: skip
        assert pragma == {
            "page_size": 16384, "journal_mode": "wal", "synchronous": 1,
            "wal_autocheckpoint": 1000, "cache_size": -16384,
            "journal_size_limit": WAL_LIMIT_BYTES,
        }  # fmt: skip
    finally:
        store.dispose()


def test_wal_stays_bounded_under_many_batches_with_a_reader_between(data_dir):
    """SQLite's own checkpoints copy the WAL back and the next writer starts it over."""
    path = data_dir / "p.db"
    store = PredictionStore(_sqlite_url(data_dir, "p.db"))
    wal = Path(f"{path}-wal")
    sizes = []
    try:
        for batch in range(12):  # about 50 MB of rows in all
            store.insert_many(rows(1000, seed=batch))
            assert store.get(uuid.uuid4()) is None  # a reader between the writes
            sizes.append(wal.stat().st_size)
        assert store.count() == 12_000
    finally:
        store.dispose()
    # 1,000 pages of 16 KiB before a checkpoint, plus the batch that crossed it
    assert max(sizes) < 1000 * 16384 + 8 * 1024 * 1024, sizes
    assert max(sizes) < WAL_LIMIT_BYTES


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
        assert store.get(batch[4]["prediction_id"])["reason_codes"] == batch[4]["reason_codes"]
    finally:
        store.dispose()
