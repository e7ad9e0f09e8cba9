"""The Dagster code location: assembles assets, checks, jobs, schedules, sensors and resources."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from loanops import settings
from orchestration import checks, jobs, schedules, sensors
from orchestration.assets.dbt_models import DBT_PROJECT, dbt_models
from orchestration.assets.deployment import deployment
from orchestration.assets.ingest import ingest
from orchestration.assets.ml import batch_scores, challenger, champion
from orchestration.assets.monitoring import drift_report, reference_bins
from orchestration.assets.prediction_log import prediction_log
from orchestration.resources import LoanopsResource

ASSETS = [
    ingest,
    dbt_models,
    challenger,
    champion,
    batch_scores,
    deployment,
    prediction_log,
    reference_bins,
    drift_report,
]
RESOURCES = {"dbt": DbtCliResource(project_dir=DBT_PROJECT), "loanops": LoanopsResource()}
# A DuckDB file admits one writing process: steps of a run take turns in one process there
# (dbt runs in its own subprocess, between them). Server warehouses run steps in parallel.
EXECUTOR = (
    dg.in_process_executor if settings.load().target == "duckdb" else dg.multiprocess_executor
)

defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=checks.ALL,
    jobs=jobs.ALL,
    schedules=schedules.ALL,
    sensors=sensors.ALL,
    resources=RESOURCES,
    executor=EXECUTOR,
)
