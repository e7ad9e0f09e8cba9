"""Rewriting a table that dbt's views read: the rows are replaced and the views stay valid."""

from __future__ import annotations

import uuid

import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa

from loanops import settings as settings_module
from loanops import warehouse
from orchestration import tables

COLUMNS = {"run_id": "string", "share": "double"}
CHANGED = {"run_id": "string", "share": "double", "bins": "integer"}


@pytest.fixture(params=["duckdb", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path, monkeypatch) -> settings_module.Settings:
    """Settings for a fresh warehouse on each engine."""
    monkeypatch.setenv("LOANOPS_TARGET", request.param)
    monkeypatch.setenv("LOANOPS_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    if request.param == "postgres":
        server = request.getfixturevalue("postgres")
        database = f"rewrite_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(settings_module.postgres_dsn(server.env), autocommit=True) as con:
            con.execute(f"create database {database}")
        for key, value in {**server.env, "LOANOPS_PG_DATABASE": database}.items():
            monkeypatch.setenv(key, value)
    return settings_module.load()


def _execute(settings: settings_module.Settings, sql: str) -> None:
    with warehouse.begin(settings) as conn:
        conn.execute(sa.text(sql))


def test_a_rewrite_keeps_the_views_over_the_table(settings) -> None:
    first = pd.DataFrame({"run_id": ["a", "b"], "share": [0.5, 0.5]})
    tables.write(settings, "raw.shares", first, COLUMNS, replace=True)
    _execute(settings, "create view raw.share_view as select run_id, share from raw.shares")

    second = pd.DataFrame({"run_id": ["c"], "share": [1.0]})
    assert tables.write(settings, "raw.shares", second, COLUMNS, replace=True) == 1

    seen = warehouse.read_frame(settings, "select run_id, share from raw.share_view")
    assert seen.to_dict("records") == [{"run_id": "c", "share": 1.0}]


def test_a_rewrite_with_other_columns_makes_the_table_again(settings) -> None:
    first = pd.DataFrame({"run_id": ["a"], "share": [0.5]})
    tables.write(settings, "raw.shares", first, COLUMNS, replace=True)
    second = pd.DataFrame({"run_id": ["b"], "share": [0.25], "bins": [10]})
    tables.write(settings, "raw.shares", second, CHANGED, replace=True)
    got = warehouse.read_frame(settings, "select run_id, share, bins from raw.shares")
    assert got.to_dict("records") == [{"run_id": "b", "share": 0.25, "bins": 10}]
