"""The prediction-log copy: new rows reach raw.predictions once; a shared database copies none
and names the store's own table (tests/monitoring/test_shared_store.py builds monitoring on it)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from loanops import settings as settings_module
from loanops import warehouse
from orchestration.assets.prediction_log import prediction_log, same_database
from orchestration.resources import LoanopsResource
from serving.store import PredictionStore, migrate

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _row(minute: int) -> dict:
    return {
        "prediction_id": uuid.uuid4(),
        "request_id": f"req-{minute}",
        "run_id": "run",
        "client_id": None,
        "input_raw_data": {"ID": 1, "Client_Income": "$"},
        "processed_data": {"client_income": None},
        "prediction_probability": 0.12,
        "predicted_class": 0,
        "threshold": 0.3,
        "reason_codes": ["score_source_2 low"],
        "model_name": "loan-default",
        "model_version": "1",
        "latency_ms": 4.2,
        "prediction_timestamp": START + timedelta(minutes=minute),
    }


def _copy() -> dg.MaterializeResult:
    result = dg.materialize([prediction_log], resources={"loanops": LoanopsResource()})
    assert result.success
    return result.asset_materializations_for_node("raw__predictions")[0]


def test_new_rows_are_copied_once(orchestration_env):
    first = _copy()  # the API never ran: an empty copy table, so monitoring can read it
    assert first.metadata["copied_rows"].value == 0
    url = f"sqlite:///{orchestration_env / 'predictions.db'}"
    migrate.upgrade(url)
    store = PredictionStore(url)
    store.insert_many([_row(0), _row(1), _row(1)])  # two share the latest timestamp
    assert _copy().metadata["copied_rows"].value == 3
    assert _copy().metadata["copied_rows"].value == 0
    store.insert_many([_row(1), _row(2)])  # same timestamp as the last copied rows, and later
    assert _copy().metadata["copied_rows"].value == 2
    store.dispose()
    copied = warehouse.read_frame(None, "select * from raw.predictions order by request_id")
    assert len(copied) == 5 and copied["prediction_id"].is_unique
    assert copied["input_raw_data"].iloc[0] == '{"Client_Income": "$", "ID": 1}'
    assert str(copied["prediction_timestamp"].min()) == "2026-01-05 09:00:00"


@pytest.mark.parametrize(
    ("target", "url", "same"),
    [
        ("duckdb", "sqlite:///x/predictions.db", False),
        ("postgres", "postgresql+psycopg://postgres@127.0.0.1:5432/loanops", True),
        ("postgres", "postgresql+psycopg://postgres@127.0.0.1:5432/store", False),
        ("postgres", "sqlite:///predictions.db", False),
        (
            "azure_sql",
            "mssql+pyodbc://u:p@loanops.database.windows.net:1433/loanops?driver=ODBC",
            True,
        ),
        (
            "azure_sql",
            "mssql+pyodbc:///?odbc_connect=Server%3Dtcp%3Aloanops.database.windows.net%2C1433"
            "%3BDatabase%3Dloanops",
            True,
        ),
        ("azure_sql", "mssql+pyodbc://u:p@other.database.windows.net/loanops?driver=x", False),
    ],
)
def test_same_database(target, url, same):
    env = {
        "LOANOPS_TARGET": target,
        "LOANOPS_MSSQL_SERVER": "loanops.database.windows.net",
        "LOANOPS_MSSQL_DATABASE": "loanops",
    }
    assert same_database(settings_module.load(env), url, env) is same


def test_a_shared_database_copies_nothing(orchestration_env, monkeypatch, postgres):
    monkeypatch.setenv("LOANOPS_TARGET", "postgres")
    monkeypatch.setenv("LOANOPS_PG_PORT", str(postgres.port))
    url = f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/loanops"
    result = dg.materialize(
        [prediction_log], resources={"loanops": LoanopsResource(prediction_store_url=url)}
    )
    metadata = result.asset_materializations_for_node("raw__predictions")[0].metadata
    assert metadata["mode"].value == "shared database"
    assert metadata["copied_rows"].value == 0
    assert metadata["dagster/relation_identifier"].value == "public.predictions"
