"""Migrations run once per release: pods starting together take turns under the database's lock.

Real PostgreSQL, real processes running the one-off step (`python -m serving.store.migrate`);
SQL Server's lock statement is compile-checked only (no server here).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from loanops.settings import REPO_ROOT
from serving.store import migrate
from serving.store.tables import predictions

PODS = 4


def _pg_url(postgres, database: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/{database}"


@pytest.fixture
def fresh_store(postgres) -> Iterator[str]:
    """An empty database on the shared server, dropped afterwards."""
    name = f"migrate_{os.getpid()}_{int.from_bytes(os.urandom(3), 'big')}"
    admin = sa.create_engine(_pg_url(postgres, "loanops"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"create database {name}"))
    try:
        yield _pg_url(postgres, name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"drop database if exists {name} with (force)"))
        admin.dispose()


def _start_pod_migration(url: str, log: Path) -> subprocess.Popen:
    """The release step a pod's init container runs, with the store URL from a mounted file."""
    url_file = log.with_suffix(".url")
    url_file.write_text(url + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOANOPS_PREDICTION_STORE")}
    env["LOANOPS_PREDICTION_STORE_URL_FILE"] = str(url_file)
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "serving.store.migrate"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _waiting_for_lock(conn: sa.Connection) -> int:
    """Sessions queued on the migration lock (a bigint key below 2^32 is objid, classid 0)."""
    return conn.execute(
        sa.text(
            "select count(*) from pg_locks where locktype = 'advisory' and not granted "
            "and classid = 0 and objid = :key and objsubid = 1"
        ),
        {"key": migrate.PG_LOCK_KEY},
    ).scalar_one()


def test_pods_starting_together_migrate_once(fresh_store: str, tmp_path: Path) -> None:
    """Four pods queue on the lock while another holds it, then all succeed: one schema, at head."""
    holder = sa.create_engine(fresh_store)
    try:
        with holder.connect() as conn:
            # Hold the lock as a running migration would, so every pod must queue behind it.
            conn.execute(sa.text("select pg_advisory_lock(:k)"), {"k": migrate.PG_LOCK_KEY})
            conn.commit()
            pods = [
                _start_pod_migration(fresh_store, tmp_path / f"pod{i}.log") for i in range(PODS)
            ]
            queued = 0
            deadline = time.monotonic() + 120  # bounds a hang only; the assertion is the count
            while queued < PODS and time.monotonic() < deadline:
                if any(pod.poll() is not None for pod in pods):
                    break  # a pod that finished without waiting did not take the lock
                queued = _waiting_for_lock(conn)
                conn.commit()
                time.sleep(0.1)
            assert queued == PODS, [p.read_text() for p in sorted(tmp_path.glob("*.log"))]
            # Release: the four race for the lock at the same moment, as pods started together.
            conn.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": migrate.PG_LOCK_KEY})
            conn.commit()
        codes = [pod.wait(timeout=300) for pod in pods]
    finally:
        holder.dispose()
    logs = [p.read_text() for p in sorted(tmp_path.glob("*.log"))]
    assert codes == [0] * PODS, logs

    head = ScriptDirectory.from_config(migrate.config(fresh_store)).get_current_head()
    engine = sa.create_engine(fresh_store)
    try:
        with engine.connect() as conn:
            versions = conn.execute(sa.text("select version_num from alembic_version")).all()
            columns = {c["name"] for c in sa.inspect(conn).get_columns("predictions")}
            held = conn.execute(
                sa.text("select count(*) from pg_locks where locktype = 'advisory'")
            ).scalar_one()
    finally:
        engine.dispose()
    assert versions == [(head,)]
    assert columns == set(predictions.c.keys())
    assert held == 0  # every pod released the lock


def test_sql_server_takes_the_same_lock_on_the_session() -> None:
    """No SQL Server here: the lock and its release compile for mssql+pyodbc, name one resource
    and belong to the session, so Alembic's commits on that connection keep it held."""
    dialect = sa.create_engine(
        "mssql+pyodbc://@server/loanops?driver=ODBC+Driver+18+for+SQL+Server"
    ).dialect  # no connect
    lock = migrate.SQLSERVER_LOCK.bindparams(name=migrate.LOCK_NAME).compile(dialect=dialect)
    unlock = migrate.SQLSERVER_UNLOCK.bindparams(name=migrate.LOCK_NAME).compile(dialect=dialect)
    assert str(lock) == (
        "set nocount on; declare @result int; exec @result = sp_getapplock @Resource = ?, "
        "@LockMode = 'Exclusive', @LockOwner = 'Session', @LockTimeout = -1; "
        "set nocount off; select @result"
    )
    assert str(unlock) == "exec sp_releaseapplock @Resource = ?, @LockOwner = 'Session'"
    assert lock.params == unlock.params == {"name": migrate.LOCK_NAME}


def test_release_step_names_a_wrong_setting(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOANOPS_PREDICTION_STORE")}
    env["LOANOPS_PREDICTION_STORE_URL_FILE"] = str(tmp_path / "missing")
    result = subprocess.run(
        [sys.executable, "-m", "serving.store.migrate"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"error: LOANOPS_PREDICTION_STORE_URL_FILE='{tmp_path / 'missing'}' cannot be read: "
        "No such file or directory\n"
    )
