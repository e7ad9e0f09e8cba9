"""Where the API finds its store: the URL from a mounted secret file, no password in app.config,
and migration at start that can be switched off (a release Job migrates instead)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from serving.app import create_app
from serving.store.engine import configured_url
from tests.serving.conftest import free_port


def _pg_url(postgres, database: str, password: str = "") -> str:
    login = f"postgres:{password}" if password else "postgres"
    return f"postgresql+psycopg://{login}@127.0.0.1:{postgres.port}/{database}"


@pytest.fixture
def fresh_database(postgres) -> Iterator[str]:
    """An empty database on the shared server (its name), dropped afterwards."""
    name = f"urlfile_{os.getpid()}_{int.from_bytes(os.urandom(3), 'big')}"
    admin = sa.create_engine(_pg_url(postgres, "loanops"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"create database {name}"))
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"drop database if exists {name} with (force)"))
        admin.dispose()


@pytest.fixture
def store_env(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> pytest.MonkeyPatch:
    """No store variables of the caller's; an MLflow that is not there (the model never loads)."""
    for name in ("LOANOPS_PREDICTION_STORE_URL", "LOANOPS_PREDICTION_STORE_URL_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    return monkeypatch


@pytest.fixture
def build() -> Iterator:
    """create_app, with every app's threads and connections closed afterwards."""
    apps: list[Flask] = []

    def make(**config: object) -> Flask:
        app = create_app({"ACCESS_LOG": False, **config})
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["loanops"].close()


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_api_reads_its_store_url_from_a_mounted_file(
    store_env, build, fresh_database, postgres, tmp_path: Path
) -> None:
    url = _pg_url(postgres, fresh_database, password="s3cret-from-key-vault")
    secret = tmp_path / "secrets" / "prediction-store-url"
    secret.parent.mkdir()
    secret.write_text(url + "\n")  # mounted secret files often end in a newline
    store_env.setenv("LOANOPS_PREDICTION_STORE_URL_FILE", str(secret))
    app = build()
    assert app.extensions["loanops"].settings.prediction_store_url == url
    assert not any("s3cret-from-key-vault" in str(value) for value in app.config.values())
    assert "predictions" in _tables(_pg_url(postgres, fresh_database))  # migrated through it


def test_both_store_settings_at_once_is_an_error(store_env, tmp_path: Path) -> None:
    secret = tmp_path / "url"
    secret.write_text("sqlite:///x.db")
    env = {
        "LOANOPS_PREDICTION_STORE_URL": "sqlite:///y.db",
        "LOANOPS_PREDICTION_STORE_URL_FILE": str(secret),
    }
    with pytest.raises(ValueError, match=r"both LOANOPS_PREDICTION_STORE_URL and .*_FILE are set"):
        configured_url(env)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot be read: No such file or directory"), ("\n", "is empty: put the URL in it")],
)
def test_an_unusable_url_file_names_itself(tmp_path: Path, content: str | None, message: str):
    secret = tmp_path / "url"
    if content is not None:
        secret.write_text(content)
    with pytest.raises(
        ValueError, match=re.escape(f"LOANOPS_PREDICTION_STORE_URL_FILE='{secret}' {message}")
    ):
        configured_url({"LOANOPS_PREDICTION_STORE_URL_FILE": str(secret)})


def test_other_parts_passwords_stay_out_of_app_config(store_env, build, data_dir: Path) -> None:
    store_env.setenv("LOANOPS_PG_PASSWORD", "warehouse-password")
    store_env.setenv("LOANOPS_MSSQL_PASSWORD", "azure-sql-password")
    store_env.setenv("LOANOPS_LANDING_CLIENT_SECRET", "storage-secret")
    store_env.setenv("LOANOPS_MAX_BATCH", "250")
    app = build()
    values = {str(value) for value in app.config.values()}
    assert not {"warehouse-password", "azure-sql-password", "storage-secret"} & values
    assert not {"PG_PASSWORD", "MSSQL_PASSWORD", "LANDING_CLIENT_SECRET"} & set(app.config)
    assert app.extensions["loanops"].settings.max_batch == 250  # the API's own, from LOANOPS_*


def test_migration_at_start_can_be_turned_off(store_env, build, data_dir: Path) -> None:
    url = f"sqlite:///{data_dir / 'unmigrated.db'}"
    store_env.setenv("LOANOPS_PREDICTION_STORE_URL", url)
    store_env.setenv("LOANOPS_MIGRATE", "false")
    build()
    assert "predictions" not in _tables(url)
    store_env.setenv("LOANOPS_MIGRATE", "true")
    build()
    assert "predictions" in _tables(url)
