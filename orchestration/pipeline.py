"""The whole asset graph in one in-process run, with one progress line per step and asset."""

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dagster as dg

from orchestration import checks
from orchestration.definitions import ASSETS, RESOURCES

Echo = Callable[[str], None]

# In-process: steps run one after another in this process, which is also what a single DuckDB
# file needs (one writer at a time).
PIPELINE_JOB = dg.define_asset_job(
    "pipeline", selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor
)


class ProgressHandler(logging.Handler):
    """Turns Dagster events into short lines; failed checks are shown, passing ones counted."""

    def __init__(self, echo: Echo) -> None:
        super().__init__(logging.DEBUG)
        self.echo = echo

    def emit(self, record: logging.LogRecord) -> None:
        """Print one line for the events an operator follows."""
        event = getattr(record, "dagster_event", None)
        if event is None:
            if record.levelno >= logging.ERROR:
                self.echo(f"  error: {record.getMessage()[:500]}")
            return
        kind = event.event_type_value
        if kind == "ASSET_MATERIALIZATION":
            self.echo(f"  materialised {event.asset_key.to_user_string()}")
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                self.echo(f"  check FAILED {evaluation.asset_check_key.to_user_string()}")
        elif kind == "STEP_START":
            self.echo(f"> {event.step_key}")
        elif kind == "STEP_FAILURE":
            self.echo(f"  step FAILED {event.step_key}: {event.message or ''}"[:2000])
        elif kind == "STEP_SKIPPED":
            self.echo(f"  skipped {event.step_key} (an upstream step or blocking check failed)")


def progress_logger(echo: Echo) -> dg.LoggerDefinition:
    """A Dagster logger writing progress lines through `echo`."""

    @dg.logger(description="Short progress lines for `loanops pipeline`.")
    def progress(_init_context: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger("loanops.pipeline", logging.DEBUG)
        logger.addHandler(ProgressHandler(echo))
        return logger

    return progress


@dataclass
class PipelineRun:
    """What one whole-graph run did."""

    result: dg.ExecuteInProcessResult
    seconds: float

    @property
    def success(self) -> bool:
        """True when every step succeeded."""
        return self.result.success

    def check_results(self) -> list[dg.AssetCheckEvaluation]:
        """Every asset check evaluation of the run."""
        return [
            event.event_specific_data
            for event in self.result.all_events
            if event.event_type_value == "ASSET_CHECK_EVALUATION"
        ]

    def materialised(self) -> list[dg.AssetKey]:
        """The keys of every asset materialised in the run."""
        return [event.asset_key for event in self.result.get_asset_materialization_events()]

    def summary(self) -> str:
        """One line: assets, checks passed/failed, time."""
        evaluations = self.check_results()
        failed = sum(not e.passed for e in evaluations)
        state = "succeeded" if self.success else "FAILED"
        return (
            f"pipeline {state} in {self.seconds:.0f} s: {len(self.materialised())} assets "
            f"materialised, {len(evaluations) - failed} checks passed, {failed} failed"
        )


def run_pipeline(
    instance: dg.DagsterInstance,
    run_config: dict[str, Any] | None = None,
    echo: Echo = lambda line: print(line, file=sys.stdout, flush=True),
) -> PipelineRun:
    """Materialise every asset and run every check in this process."""
    defs = dg.Definitions(
        assets=ASSETS,
        asset_checks=checks.ALL,
        jobs=[PIPELINE_JOB],
        resources=RESOURCES,
        loggers={"progress": progress_logger(echo)},
    )
    job = defs.resolve_job_def(PIPELINE_JOB.name)
    started = time.perf_counter()
    # Naming the logger in the run config replaces Dagster's default (verbose) console logger.
    config = {**(run_config or {}), "loggers": {"progress": {}}}
    result = job.execute_in_process(run_config=config, instance=instance, raise_on_error=False)
    return PipelineRun(result, time.perf_counter() - started)


def training_config(
    budget_seconds: float | None = None,
    max_trials: int | None = None,
    families: list[str] | None = None,
    wait_seconds: float | None = None,
) -> dict[str, Any]:
    """Run config overriding the training budget and the deployment wait (None: defaults)."""
    train = {"budget_seconds": budget_seconds, "max_trials": max_trials, "families": families}
    train = {k: v for k, v in train.items() if v is not None}
    ops: dict[str, Any] = {}
    if train:
        ops["model__challenger"] = {"config": train}
    if wait_seconds is not None:
        ops["serving__deployment"] = {"config": {"wait_seconds": wait_seconds}}
    return {"ops": ops} if ops else {}
