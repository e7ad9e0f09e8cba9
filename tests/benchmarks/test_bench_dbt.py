"""bench_dbt.py's output reaches the report per warehouse, and its server URL reaches dbt."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from loanops.settings import REPO_ROOT

NEW_OUTPUT = """# dbt build benchmark, 2026-12-07 13:10 UTC
machine: Linux, 2 cores, Python 3.11.7
command: python benchmarks/bench_dbt.py --rows 1000000 --targets duckdb,postgres
postgres: a throw-away local server; fsync=on, work_mem=4MB
repeats: 3 (medians)

| warehouse | applications | generate s | ingest s | full build s | +1 % batch s | incremental / full | full build with unit tests s | +1 % batch with unit tests s | ratio with unit tests |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
| duckdb | 1,000,000 | 7.5 | 6.8 | 12.3 | 5.5 | 45% | 15.1 | 7.6 | 50% |
| postgres | 1,000,000 | 7.5 | 13.0 | 58.0 | 9.0 | 16% | 66.0 | 12.0 | 18% |
"""  # noqa: E501
OLD_ROW = "| 121,856 | 1.6 | 2.0 | 7.6 | 5.7 | 76% | 10.0 | 8.2 | 82% |"


def _load(name: str) -> ModuleType:
    """A benchmarks/ script as a module (the folder is not a package)."""
    path = Path(REPO_ROOT) / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def report() -> ModuleType:
    return _load("report")


def test_rows_are_parsed_per_warehouse(report: ModuleType) -> None:
    parsed = report.parse_dbt(NEW_OUTPUT)
    assert set(parsed["warehouses"]) == {"duckdb", "postgres"}
    postgres = parsed["warehouses"]["postgres"][1_000_000]
    assert postgres["full_s"] == 58.0
    assert postgres["incremental_s"] == 9.0
    assert postgres["ratio"] == pytest.approx(0.16)
    assert parsed["repeats"] == 3
    assert parsed["postgres_server"].startswith("a throw-away local server")


def test_rows_without_a_warehouse_are_duckdb(report: ModuleType) -> None:
    parsed = report.parse_dbt(OLD_ROW)
    assert list(parsed["warehouses"]) == ["duckdb"]
    assert parsed["warehouses"]["duckdb"][121_856]["full_s"] == 7.6


def test_report_shows_postgres_beside_duckdb(report: ModuleType) -> None:
    result = report.Result(
        "dbt", "bench_dbt.py", 0, 1.0, "2026-12-07T13:10:00+00:00", [1.0, 1.0, 1.0],
        [1.0, 1.0, 1.0], NEW_OUTPUT, "",
    )  # fmt: skip
    result.parsed = report.parse_dbt(NEW_OUTPUT)
    table = report.parsed_table("dbt", result)
    assert "| PostgreSQL | 1,000,000 | 58.0 | 9.0 | 16% |" in table
    assert "| DuckDB | 1,000,000 | 12.3 | 5.5 | 45% |" in table
    summary = {row[0]: row for row in report.summary_rows({"dbt": result})}
    full = summary[
        "full `dbt build` on PostgreSQL, 1,000,000 applications (production: unit tests excluded)"
    ]
    assert full[2].startswith("58.0 s") and full[4] == "**yes**"


def test_pg_url_becomes_the_profile_variables() -> None:
    bench = _load("bench_dbt")
    url = "postgresql://builder:p%40ss@db.example:6543/warehouse"  # pragma: allowlist secret
    env = bench.pg_env_from_url(url)
    assert env == {
        "LOANOPS_PG_HOST": "db.example",
        "LOANOPS_PG_PORT": "6543",
        "LOANOPS_PG_USER": "builder",
        "LOANOPS_PG_DATABASE": "warehouse",
        "LOANOPS_PG_PASSWORD": "p@ss",  # pragma: allowlist secret
    }
    with pytest.raises(SystemExit, match="expected postgresql://"):
        bench.pg_env_from_url("mysql://db.example/warehouse")
