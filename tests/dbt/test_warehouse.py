"""dbt build on DuckDB and on a real PostgreSQL: two batches through ingest, then the checks.

Each target gets one warehouse for the module: batch 1 is ingested and built, batch 2 (new
applications plus corrected resends of batch-1 applications) is ingested and built
incrementally. The tests then read the warehouse: build results, reconciliation, incremental
bronze, documentation coverage and parity with the Python feature rules.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from loanops import raw_tables as rt
from loanops import settings as settings_module
from loanops.features import frame, spec
from loanops.ingest import ingest_folder
from loanops.schema import BY_NAME, FIRST_ID
from tests.dbt.conftest import DbtProject, DbtRun, make_project
from tests.dbt.raw_book import RawBook, generate, write_csvs

BATCH_1_ROWS = 2_000
BATCH_2_ROWS = 400
RESENDS = 60
TO_PUBLISHED = {column.raw: name for name, column in BY_NAME.items()}


@dataclass
class Warehouse:
    """A built warehouse and how to query it."""

    target: str
    project: DbtProject
    builds: list[DbtRun]
    seconds: list[float]
    raw_counts: list[int]  # raw.applications rows after batch 1 and after batch 2

    def query(self, sql: str) -> pd.DataFrame:
        """Rows of one query as a DataFrame."""
        if self.target == "duckdb":
            import duckdb

            path = self.project.env["LOANOPS_DUCKDB_PATH"]
            with duckdb.connect(path, read_only=True) as con:
                return con.execute(sql).df()
        import psycopg

        with psycopg.connect(settings_module.postgres_dsn(self.project.env)) as con:
            cursor = con.execute(sql)
            return pd.DataFrame(cursor.fetchall(), columns=[d.name for d in cursor.description])

    def count(self, relation: str, where: str = "1 = 1") -> int:
        """count(*) of a relation."""
        return int(self.query(f"select count(*) as n from {relation} where {where}")["n"][0])


def _second_batch(first: RawBook) -> RawBook:
    """New applications, plus resends of some batch-1 applications with a corrected income."""
    book = generate(BATCH_2_ROWS, seed=2, first_id=FIRST_ID + BATCH_1_ROWS)
    resends = first.applications.iloc[:RESENDS].copy()
    resends["Client_Income"] = "4321.5"
    applications = pd.concat([book.applications, resends], ignore_index=True)
    return RawBook(applications, book.outcomes)


def _ingest(env: dict[str, str], folder: Path) -> None:
    """The real ingest (loanops.ingest) of one landing folder into the target's raw tables."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            if key.startswith("LOANOPS_"):
                patch.setenv(key, value)
        results = ingest_folder(settings_module.load(env), folder)
    assert all(r.status == "loaded" for r in results), results


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def warehouse(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Warehouse]:
    target = request.param
    tmp = tmp_path_factory.mktemp(f"dbt-{target}")
    env = {"LOANOPS_TARGET": target, "LOANOPS_DUCKDB_PATH": str(tmp / "warehouse.duckdb")}
    if target == "postgres":
        server = request.getfixturevalue("postgres")
        database = f"dbt_{tmp.name.replace('-', '_').lower()}"
        import psycopg

        with psycopg.connect(settings_module.postgres_dsn(server.env), autocommit=True) as con:
            con.execute(f"create database {database}")
        env |= {**server.env, "LOANOPS_PG_DATABASE": database}
    project = make_project(tmp, env)
    first = generate(BATCH_1_ROWS, seed=1)
    builds, seconds, raw_counts = [], [], []
    for name, book in (("batch1", first), ("batch2", _second_batch(first))):
        write_csvs(book, tmp / name, name)
        _ingest(project.env, tmp / name)
        started = time.perf_counter()
        builds.append(project.run("build"))
        seconds.append(time.perf_counter() - started)
        built = Warehouse(target, project, builds, seconds, raw_counts)
        raw_counts.append(built.count(f"{rt.RAW_SCHEMA}.{rt.APPLICATIONS_TABLE}"))
    print(f"\n{target}: dbt build {seconds[0]:.1f} s (batch 1), {seconds[1]:.1f} s (batch 2)")
    yield built


def test_build_passes_with_only_orphan_outcome_warnings(warehouse: Warehouse) -> None:
    for build in warehouse.builds:
        statuses = {r["unique_id"]: r["status"] for r in build.results}
        failing = {
            k: v for k, v in statuses.items() if v not in ("success", "pass", "warn", "no-op")
        }
        assert not failing
        warned = [k for k, v in statuses.items() if v == "warn"]
        assert all("relationships_silver_outcomes" in k for k in warned), warned
        assert sum(1 for k in statuses if k.startswith("unit_test.")) >= 9


def test_bronze_is_incremental(warehouse: Warehouse) -> None:
    first, second = warehouse.raw_counts
    assert warehouse.count("bronze.bronze_applications") == second
    # Every raw row exactly once: had batch 2's build re-read batch 1, rows would repeat.
    distinct = warehouse.query(
        "select count(*) as n from (select distinct load_id, source_row "
        "from bronze.bronze_applications) as landed"
    )["n"][0]
    assert distinct == second
    incremental = warehouse.builds[1].result("model.loanops.bronze_applications")
    assert incremental["status"] == "success"
    rows_affected = incremental["adapter_response"].get("rows_affected")
    if rows_affected is not None and rows_affected >= 0:
        assert rows_affected == second - first


@pytest.mark.parametrize("table", ["applications", "outcomes"])
def test_reconciliation(warehouse: Warehouse, table: str) -> None:
    bronze = warehouse.count(f"bronze.bronze_{table}")
    silver = warehouse.count(f"silver.silver_{table}")
    rejected = warehouse.count("silver.silver_rejected_rows", f"source_table = '{table}'")
    assert bronze == silver + rejected
    assert silver > 0
    assert rejected > 0


def test_latest_load_wins_across_batches(warehouse: Warehouse) -> None:
    resent = warehouse.query(
        "select count(*) as n from silver.silver_applications where client_income = 4321.5"
    )["n"][0]
    superseded = warehouse.count(
        "silver.silver_rejected_rows",
        "source_table = 'applications' and rejection_reason like 'superseded by a later load%'",
    )
    assert resent > RESENDS * 0.7  # resends of rows that were valid in batch 1 and still are
    assert superseded >= resent


def test_gold_has_one_row_per_silver_application(warehouse: Warehouse) -> None:
    silver = warehouse.count("silver.silver_applications")
    assert warehouse.count("gold.gold_application_features") == silver
    assert warehouse.count("gold.gold_scoring_features") == silver
    labelled = warehouse.count("gold.gold_application_features", "has_outcome = 1")
    assert labelled == warehouse.count("gold.gold_application_features", "is_default is not null")
    assert 0 < labelled < silver


def test_every_model_column_is_documented(warehouse: Warehouse) -> None:
    import json

    manifest = json.loads((warehouse.project.target_path / "manifest.json").read_text())
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        built = warehouse.query(
            "select column_name from information_schema.columns "
            f"where table_schema = '{node['schema']}' and table_name = '{node['name']}'"
        )["column_name"].tolist()
        assert built, node["name"]
        documented = {name for name, c in node["columns"].items() if c["description"]}
        assert set(built) == documented, node["name"]
        assert node["description"]


# ---- parity with the Python side of the one feature definition --------------------------


def _raw_applications(warehouse: Warehouse) -> pd.DataFrame:
    """raw.applications with published column names (what the API would receive)."""
    raw = warehouse.query(f"select * from {rt.RAW_SCHEMA}.{rt.APPLICATIONS_TABLE}")
    raw = raw.astype(object).where(raw.notna(), None)
    return raw.rename(columns=TO_PUBLISHED)


def _expected_fates(raw: pd.DataFrame, reasons: list[str | None], ids: list[int | None]) -> list:
    """Rejection reason per row, including 'superseded' for earlier valid loads of an id."""
    frame_ = pd.DataFrame(
        {"id": ids, "reason": reasons, "load": raw[rt.LOAD_ID], "row": raw[rt.SOURCE_ROW]}
    )
    valid = frame_[frame_["reason"].isna()].sort_values(["load", "row"], ascending=False)
    superseded = valid.index[valid.duplicated("id")]
    fates = list(reasons)
    for i in superseded:
        fates[i] = f"superseded by a later load of application {ids[i]}"
    return fates


def _same(left: Any, right: Any) -> bool:
    """Equal values, with missing equal to missing and floats to 1e-12 relative."""
    left_missing = left is None or left is pd.NA or (isinstance(left, float) and math.isnan(left))
    right_missing = (
        right is None or right is pd.NA or (isinstance(right, float) and math.isnan(right))
    )
    if left_missing or right_missing:
        return left_missing and right_missing
    if isinstance(left, str) or isinstance(right, str):
        return left == right
    return math.isclose(float(left), float(right), rel_tol=1e-12, abs_tol=0.0)


def _assert_frames_equal(built: pd.DataFrame, expected: pd.DataFrame, what: str) -> None:
    assert list(built.index) == list(expected.index), what
    for column in expected.columns:
        pairs = zip(built[column].tolist(), expected[column].tolist(), strict=True)
        bad = [(i, b, e) for i, (b, e) in zip(built.index, pairs, strict=False) if not _same(b, e)]
        assert not bad, f"{what}.{column}: {len(bad)} differ, first {bad[:3]}"


def test_silver_matches_python_rules(warehouse: Warehouse) -> None:
    raw = _raw_applications(warehouse)
    expected = frame.clean(raw)
    ids = [frame.parse_id(v) for v in raw["ID"]]
    expected.insert(0, "application_id", ids)
    expected["rejection_reason"] = _expected_fates(raw, frame.rejection_reasons(raw), ids)
    key = [rt.LOAD_ID, rt.SOURCE_ROW]
    expected.index = pd.MultiIndex.from_frame(raw[key].astype("int64"), names=["load", "row"])
    expected = expected.sort_index()
    built = warehouse.query("select * from silver.silver_application_loads")
    built.index = pd.MultiIndex.from_frame(
        built[["load_id", "source_row"]].astype("int64"), names=["load", "row"]
    )
    built = built.sort_index()
    _assert_frames_equal(built, expected, "silver_application_loads")
    used = expected[expected["rejection_reason"].isna()]
    assert len(used) == warehouse.count("silver.silver_applications")


def test_outcomes_match_python_rules(warehouse: Warehouse) -> None:
    raw = warehouse.query(f"select * from {rt.RAW_SCHEMA}.{rt.OUTCOMES_TABLE}")
    raw = raw.astype(object).where(raw.notna(), None).rename(columns=TO_PUBLISHED)
    ids = [frame.parse_id(v) for v in raw["ID"]]
    expected = pd.DataFrame(
        {
            "application_id": ids,
            "is_default": [frame.parse_label(v) for v in raw["Default"]],
            "rejection_reason": _expected_fates(raw, frame.outcome_rejection_reasons(raw), ids),
        }
    )
    expected.index = pd.MultiIndex.from_frame(raw[[rt.LOAD_ID, rt.SOURCE_ROW]].astype("int64"))
    built = warehouse.query("select * from silver.silver_outcome_loads")
    built.index = pd.MultiIndex.from_frame(built[["load_id", "source_row"]].astype("int64"))
    expected.index.names = built.index.names = ["load", "row"]
    _assert_frames_equal(built.sort_index(), expected.sort_index(), "silver_outcome_loads")


def test_gold_matches_python_features(warehouse: Warehouse) -> None:
    silver = warehouse.query("select * from silver.silver_applications")
    silver = silver.set_index("application_id").sort_index()
    for name in spec.SILVER_COLUMNS:  # nullable integers and decimals as the API sees them
        if name not in {r.name for r in spec.CATEGORIES}:
            silver[name] = pd.to_numeric(silver[name]).astype("float64")
    expected = frame.features(silver)
    gold = warehouse.query("select * from gold.gold_application_features")
    gold = gold.set_index("application_id").sort_index()
    assert list(gold.columns) == [*expected.columns, "is_default", "has_outcome"]
    _assert_frames_equal(gold, expected, "gold_application_features")
    scoring = warehouse.query("select * from gold.gold_scoring_features")
    scoring = scoring.set_index("application_id").sort_index()
    assert list(scoring.columns) == list(expected.columns)
    _assert_frames_equal(scoring, expected, "gold_scoring_features")


def test_silver_from_raw_equals_python_end_to_end(warehouse: Warehouse) -> None:
    """Raw text -> gold through dbt equals raw text -> features through frame.build."""
    raw = _raw_applications(warehouse)
    ids = [frame.parse_id(v) for v in raw["ID"]]
    fates = _expected_fates(raw, frame.rejection_reasons(raw), ids)
    kept = raw[[fate is None for fate in fates]].copy()
    expected = frame.build(kept)
    expected.index = pd.Index([frame.parse_id(v) for v in kept["ID"]], name="application_id")
    gold = warehouse.query("select * from gold.gold_scoring_features")
    gold = gold.set_index("application_id")
    _assert_frames_equal(gold.sort_index(), expected.sort_index(), "raw -> gold")


def test_docs_generate(warehouse: Warehouse) -> None:
    import json

    warehouse.project.run("docs", "generate")
    catalog = json.loads((warehouse.project.target_path / "catalog.json").read_text())
    assert "model.loanops.gold_application_features" in catalog["nodes"]
    assert "source.loanops.raw.applications" in catalog["sources"]
