"""The prediction store on SQLite and a real PostgreSQL: migrations, rows, and store outages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from loanops.settings import REPO_ROOT
from serving.store import migrate
from tests.serving.conftest import AUTH
from tests.serving.samples import example


def _pg_url(postgres, database: str = "loanops") -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/{database}"


@pytest.fixture
def pg_store(postgres):
    """A fresh database on the shared server for one test."""
    name = f"store_{os.getpid()}_{abs(hash(os.urandom(4))) % 10**6}"
    admin = sa.create_engine(_pg_url(postgres), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"create database {name}"))
    try:
        yield _pg_url(postgres, name)
    finally:
        if not _up(postgres):
            postgres.start()
        admin.dispose()  # pooled connections died with the server
        with admin.connect() as conn:
            conn.execute(sa.text(f"drop database if exists {name} with (force)"))
        admin.dispose()


def _up(postgres) -> bool:
    engine = sa.create_engine(_pg_url(postgres))
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_upgrade_and_downgrade(backend, data_dir, request):
    url = (
        f"sqlite:///{data_dir / 'm.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_store")
    )
    migrate.upgrade(url)
    assert {"predictions", "alembic_version"} <= _tables(url)
    migrate.downgrade(url)
    assert "predictions" not in _tables(url)
    migrate.upgrade(url)
    assert "predictions" in _tables(url)


def test_sql_server_ddl_renders_offline():
    out = subprocess.run(
        [str(Path(sys.executable).parent / "alembic"), "-c", "serving/migrations/alembic.ini",
         "-x", "url=mssql+pyodbc://", "upgrade", "head", "--sql"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    ddl = out.stdout
    assert "CREATE TABLE predictions" in ddl
    assert "UNIQUEIDENTIFIER" in ddl and "NVARCHAR(max)" in ddl and "DATETIMEOFFSET" in ddl
    assert "GO" in ddl


def test_rows_on_postgres_match_responses(make_app, pg_store):
    client = make_app(PREDICTION_STORE_URL=pg_store).test_client()
    batch = {"applications": [example(0), example(1)]}
    response = client.post("/v1/predictions/batch", json=batch, headers=AUTH)
    assert response.status_code == 200
    for p in response.json["predictions"]:
        row = client.get(f"/v1/predictions/{p['prediction_id']}", headers=AUTH).json
        assert row["probability_of_default"] == p["probability_of_default"]
        assert row["reason_codes"] == p["reason_codes"]


def _outage_check(client, store, break_store, restore_store):
    assert client.post("/v1/predictions", json=example(0), headers=AUTH).status_code == 200
    before = store.count()
    break_store()
    try:
        for _ in range(3):
            response = client.post("/v1/predictions", json=example(1), headers=AUTH)
            assert response.status_code == 503
            assert response.json["error"] == "store_unavailable"
        assert client.get("/readyz").status_code == 503
    finally:
        restore_store()
    assert store.count() == before  # nothing was answered 200 while down, nothing was written
    assert client.post("/v1/predictions", json=example(0), headers=AUTH).status_code == 200
    assert store.count() == before + 1


def test_sqlite_store_down_gives_503(make_app, data_dir):
    app = make_app()
    client, store = app.test_client(), app.extensions["loanops"].store
    db = data_dir / "predictions.db"
    moved = [p for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm"))]

    def break_store():
        store.dispose()
        for path in moved:
            if path.exists():
                path.rename(f"{path}.away")
        db.mkdir()  # the path can no longer be opened as a database (root ignores chmod)

    def restore_store():
        db.rmdir()
        for path in moved:
            if Path(f"{path}.away").exists():
                Path(f"{path}.away").rename(path)
        store.dispose()

    _outage_check(client, store, break_store, restore_store)


def test_postgres_down_gives_503(make_app, pg_store, postgres):
    app = make_app(PREDICTION_STORE_URL=pg_store)
    client, store = app.test_client(), app.extensions["loanops"].store
    _outage_check(client, store, postgres.stop, postgres.start)
