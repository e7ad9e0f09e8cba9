"""The gold reader on a real DuckDB file and a real PostgreSQL server."""

import numpy as np
import pytest

from loanops import settings as settings_module
from loanops.features import spec
from ml import dataset
from tests.ml.conftest import book, gold_frame, write_gold


@pytest.fixture(scope="module")
def gold():
    frame = gold_frame(book(300, seed=5).applications)
    frame.loc[frame.index[:10], spec.LABEL_NAME] = None  # outcome not landed yet
    frame.loc[frame.index[:10], "has_outcome"] = 0
    return frame


def _check(loaded: dataset.Dataset, gold) -> None:
    assert loaded.rows == len(gold) - 10  # rows without an outcome are not training rows
    assert loaded.relation == dataset.GOLD_RELATION
    expected = gold[gold["has_outcome"] == 1].sort_values(spec.ID_NAME).reset_index(drop=True)
    for name in spec.NUMERIC_FEATURE_NAMES:
        np.testing.assert_allclose(
            loaded.frame[name], expected[name].astype(float), rtol=1e-9
        )  # numeric(28, 12) rounds
    assert (loaded.frame["occupation"] == expected["occupation"]).all()
    assert set(loaded.frame["split"]) == {"train", "validation", "test"}
    facts = loaded.facts()
    assert facts["data_rows"] == loaded.rows and 0 < facts["data_default_rate"] < 1


def test_reads_labelled_gold_rows_from_duckdb(gold, data_dir):
    write_gold(data_dir / "warehouse.duckdb", gold)
    _check(dataset.load(settings_module.load()), gold)


def test_missing_warehouse_says_what_to_do(data_dir):
    with pytest.raises(FileNotFoundError, match="dbt build"):
        dataset.load(settings_module.load())


def test_reads_labelled_gold_rows_from_postgres(gold, postgres, data_dir, monkeypatch):
    import psycopg

    for key, value in postgres.env.items():
        monkeypatch.setenv(key, value)
    with psycopg.connect(settings_module.postgres_dsn(), autocommit=True) as conn:
        conn.execute("drop database if exists loanops_ml_reader")
        conn.execute("create database loanops_ml_reader")  # apart from dbt's gold schema
    monkeypatch.setenv("LOANOPS_PG_DATABASE", "loanops_ml_reader")
    monkeypatch.setenv("LOANOPS_TARGET", "postgres")
    numbers = [*spec.NUMERIC_FEATURE_NAMES, *spec.FLAG_FEATURES]
    texts = [*spec.CATEGORY_FEATURES, *spec.PROTECTED]
    columns = [
        f"{spec.ID_NAME} bigint",
        *(f"{n} numeric(28, 12)" for n in numbers),  # dbt's decimal casts come back as Decimal
        *(f"{t} varchar(100)" for t in texts),
        f"{spec.LABEL_NAME} integer",
        "has_outcome integer",
    ]
    names = [spec.ID_NAME, *numbers, *texts, spec.LABEL_NAME, "has_outcome"]
    rows = [
        tuple(None if isinstance(v, float) and np.isnan(v) else v for v in row)
        for row in gold[names].astype(object).where(gold[names].notna(), None).itertuples(False)
    ]
    with psycopg.connect(settings_module.postgres_dsn()) as conn:
        conn.execute("create schema gold")
        conn.execute(f"create table {dataset.GOLD_RELATION} ({', '.join(columns)})")
        placeholders = ", ".join(["%s"] * len(names))
        with conn.cursor() as cursor:
            cursor.executemany(
                f"insert into {dataset.GOLD_RELATION} ({', '.join(names)}) values ({placeholders})",
                rows,
            )
    loaded = dataset.load(settings_module.load())
    assert loaded.target == "postgres"
    _check(loaded, gold)
