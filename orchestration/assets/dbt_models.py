"""The dbt project as assets: one `dbt build` streams every model and test of the selection."""

# No `from __future__ import annotations` in asset modules: Dagster reads the Config and resource
# annotations at definition time and cannot resolve them from strings.

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from loanops.settings import REPO_ROOT
from orchestration.assets.prediction_log import dbt_vars
from orchestration.assets.translator import TRANSLATOR
from orchestration.resources import LoanopsResource

# Inputs of `dbt parse`: when one is newer than the manifest, the asset graph would be stale.
PARSE_INPUTS = (
    "dbt_project.yml",
    "profiles/profiles.yml",
    "dbt_project/models",
    "dbt_project/macros",
    "dbt_project/tests",
)

# dagster-dbt runs `dbt` from PATH; `.venv/bin/dagster` or `.venv/bin/python` without an
# activated venv would not find it, so put this interpreter's scripts folder first.
_SCRIPTS = str(Path(sys.executable).parent)
if _SCRIPTS not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _SCRIPTS + os.pathsep + os.environ.get("PATH", "")

DBT_PROJECT = DbtProject(project_dir=REPO_ROOT, profiles_dir=REPO_ROOT / "profiles")


def newest_input(root: Path = REPO_ROOT) -> float:
    """The latest modification time among the files `dbt parse` reads."""
    times = [0.0]
    for name in PARSE_INPUTS:
        path = root / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        times += [p.stat().st_mtime for p in files]
    return max(times)


def prepare_if_stale(project: DbtProject) -> None:
    """Parse the project when its manifest is missing or older than the dbt sources.

    `prepare_if_dev` only parses under `dagster dev`; a fresh clone running the tests, `loanops
    pipeline` or `dagster definitions validate` would otherwise load no manifest at all. The
    Dagster image parses at build time, so there the manifest is always current and this is free.
    """
    manifest = project.manifest_path
    if not manifest.exists() or manifest.stat().st_mtime < newest_input(project.project_dir):
        project.preparer.prepare(project)


DBT_PROJECT.prepare_if_dev()
prepare_if_stale(DBT_PROJECT)


class DbtBuildConfig(dg.Config):
    """Options of one dbt build."""

    # Incremental bronze models append only new loads (dbt's is_incremental()); a full refresh
    # rebuilds them from every raw row, for after a model change or a corrected raw table.
    full_refresh: bool = False
    # dbt unit tests check the SQL logic on fixed inputs: `make test` and CI run them on every
    # change, so a scheduled load skips them (dbt's advice); set this to run them here too.
    unit_tests: bool = False


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    name="dbt_models",
)
def dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    config: DbtBuildConfig,
    loanops: LoanopsResource,
) -> Iterator[Any]:
    """Bronze, silver and gold: `dbt build` (models and data tests, in DAG order)."""
    # --no-write-json: Dagster takes each node's result from dbt's event stream, so the per-run
    # manifest.json and run_results.json (about 0.4 s of an incremental build) go unread.
    args = ["build", "--no-write-json", *(["--full-refresh"] if config.full_refresh else [])]
    if not config.unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    # When the prediction store is the warehouse database, monitoring reads its own table.
    if prediction_log := dbt_vars(loanops.settings(), loanops.store_url()):
        args += ["--vars", json.dumps(prediction_log)]
    yield from dbt.cli(args, context=context).stream()
