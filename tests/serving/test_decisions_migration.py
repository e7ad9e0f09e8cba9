"""The decisions revision upgrades a store that already holds predictions, in or out of a schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from loanops.settings import REPO_ROOT
from serving.store import migrate

_MIGRATE = (
    "from serving.store import migrate; import sys; migrate.upgrade(sys.argv[1], sys.argv[2])"
)


def _old_row(cls: int) -> dict:
    """A row as the store recorded it before decisions (the 0001 columns only)."""
    return {
        "prediction_id": uuid.uuid4().hex, "request_id": "r", "run_id": None, "client_id": "1",
        "input_raw_data": "{}", "processed_data": "{}", "prediction_probability": 0.3 * cls,
        "predicted_class": cls, "threshold": 0.1, "reason_codes": "[]",
        "model_name": "loan-default", "model_version": "1", "latency_ms": 1.0,
        "prediction_timestamp": datetime.now(UTC),
    }  # fmt: skip


def _upgrade(url: str, revision: str, schema: str | None) -> None:
    """Migrate in a fresh process: the store's schema setting is read once per process."""
    env = {k: v for k, v in os.environ.items() if k != "LOANOPS_STORE_SCHEMA"}
    if schema:
        env["LOANOPS_STORE_SCHEMA"] = schema
    subprocess.run(
        [sys.executable, "-c", _MIGRATE, url, revision],
        cwd=REPO_ROOT, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def _check(url: str, schema: str | None) -> None:
    """0001 with rows, then head: old rows keep their answer as a decision, the rest null."""
    _upgrade(url, "0001", schema)
    engine = sa.create_engine(url)
    table = sa.Table("predictions", sa.MetaData(), autoload_with=engine, schema=schema)
    assert "decision" not in table.c
    with engine.begin() as conn:
        conn.execute(table.insert(), [_old_row(0), _old_row(1), _old_row(0)])
    _upgrade(url, "head", schema)
    table = sa.Table("predictions", sa.MetaData(), autoload_with=engine, schema=schema)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(table.c.predicted_class, table.c.decision, table.c.referral_reasons,
                      table.c.decision_policy).order_by(table.c.predicted_class)
        ).all()  # fmt: skip
    engine.dispose()
    assert [(r[0], r[1]) for r in rows] == [(0, "approve"), (0, "approve"), (1, "decline")]
    assert all(r[2] is None and r[3] is None for r in rows)


def test_sqlite_store_with_rows_upgrades(tmp_path: Path):
    _check(f"sqlite:///{tmp_path / 'store.db'}", None)


@pytest.mark.parametrize("schema", [None, "loan_store"])
def test_postgres_store_with_rows_upgrades(postgres, schema):
    name = f"decisions_{uuid.uuid4().hex[:8]}"
    base = f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}"
    admin = sa.create_engine(f"{base}/loanops", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"create database {name}"))
    try:
        _check(f"{base}/{name}", schema)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"drop database if exists {name} with (force)"))
        admin.dispose()


def test_downgrade_keeps_the_rows(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    table = sa.Table("predictions", sa.MetaData(), autoload_with=engine)
    row = _old_row(1) | {
        "decision": "refer", "referral_reasons": json.dumps([{"rule": "grey_zone"}]),
        "decision_policy": json.dumps({"version": "x"}),
    }  # fmt: skip
    with engine.begin() as conn:
        conn.execute(table.insert(), [row])
    engine.dispose()
    migrate.downgrade(url, "0001")
    engine = sa.create_engine(url)
    table = sa.Table("predictions", sa.MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 1
    assert "decision" not in table.c
    engine.dispose()
