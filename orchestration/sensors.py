"""Sensors: one ingest run per new landing file; a retraining run when a monitoring check fails."""

import json
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

# Not re-exported at the top level of dagster; the instance API returns these statuses.
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from loanops import settings as settings_module
from loanops import warehouse
from loanops.ingest.layout import landing_files
from loanops.ingest.loadlog import file_checksum
from orchestration import checks, jobs

LANDING_INTERVAL_SECONDS = 30
RETRAINING_INTERVAL_SECONDS = 60


def file_state(path: Path, known: dict[str, list] | None) -> list:
    """[size, mtime_ns, sha256] of a file; the hash is reused while size and mtime hold."""
    stat = path.stat()
    if known and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
        return known
    return [stat.st_size, stat.st_mtime_ns, file_checksum(path)]


class WarehouseBusyError(RuntimeError):
    """The load log cannot be read right now (e.g. a run holds the DuckDB file's lock)."""


def loaded_checksums(settings: settings_module.Settings) -> set[str]:
    """Checksums that raw.load_log records as loaded (empty before the first ingest)."""
    if settings.target == "duckdb" and not settings.duckdb_path.exists():
        return set()
    sql = "select checksum from raw.load_log where status = 'loaded'"
    try:
        return set(warehouse.read_frame(settings, sql)["checksum"])
    except Exception as error:
        if "load_log" in str(error):  # the warehouse exists but nothing was ever ingested
            return set()
        raise WarehouseBusyError(str(error).splitlines()[0]) from error


def landing_requests(
    folder: Path, cursor: str | None, loaded: set[str] | frozenset[str] = frozenset()
) -> tuple[list[dg.RunRequest], str]:
    """Run requests for files new or changed since the cursor and not yet loaded; the cursor.

    Files already in the load log (ingested by `loanops ingest` or `loanops pipeline` outside
    this sensor) need no run: ingest would skip them, and dbt has already built them.
    """
    seen: dict[str, list] = json.loads(cursor) if cursor else {}
    current: dict[str, list] = {}
    requests = []
    for path in landing_files(folder) if folder.is_dir() else []:
        state = file_state(path, seen.get(path.name))
        current[path.name] = state
        if seen.get(path.name, [None, None, None])[2] != state[2] and state[2] not in loaded:
            requests.append(
                dg.RunRequest(
                    run_key=f"{path.name}:{state[2]}",  # same name and bytes: one run, ever
                    run_config={"ops": {"ingest": {"config": {"files": [path.name]}}}},
                    tags={"loanops/landing_file": path.name},
                )
            )
    # Files that left the folder are forgotten; the load log still refuses their bytes.
    return requests, json.dumps(current, sort_keys=True)


@dg.sensor(
    name="landing_folder",
    job=jobs.ingest_to_gold,
    minimum_interval_seconds=LANDING_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="One ingest-to-gold run per new (or changed) CSV file in the landing folder.",
)
def landing_folder(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """Request a run for each new landing file, keyed by file name and checksum."""
    settings = settings_module.load()
    try:
        loaded = loaded_checksums(settings)
    except WarehouseBusyError as busy:  # keep the cursor: look again on the next tick
        return dg.SensorResult(skip_reason=dg.SkipReason(f"warehouse busy ({busy}); retrying"))
    requests, cursor = landing_requests(settings.landing_dir, context.cursor, loaded)
    skip = None if requests else dg.SkipReason(f"no new files in {settings.landing_dir}")
    return dg.SensorResult(run_requests=requests, cursor=cursor, skip_reason=skip)


def failed_checks(
    instance: dg.DagsterInstance, keys: Sequence[dg.AssetCheckKey], cursor: str | None
) -> tuple[list[tuple[dg.AssetCheckKey, int]], str]:
    """Checks whose latest evaluation failed since the cursor: (key, record id), and the cursor."""
    seen: dict[str, int] = json.loads(cursor) if cursor else {}
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(keys))
    failures = []
    for key, record in latest.items():
        name = key.to_user_string()
        if record.id <= seen.get(name, 0):
            continue
        if record.status == AssetCheckExecutionRecordStatus.PLANNED:
            continue  # still running: decide on its result next time
        seen[name] = record.id
        if record.status == AssetCheckExecutionRecordStatus.FAILED:
            failures.append((key, record.id))
    return failures, json.dumps(seen, sort_keys=True)


def build_retraining_sensor(check_keys: Sequence[dg.AssetCheckKey]) -> dg.SensorDefinition:
    """A sensor that requests the training job when any of the named checks fails."""

    @dg.sensor(
        name="retrain_on_monitoring_failure",
        job=jobs.training,
        minimum_interval_seconds=RETRAINING_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Requests retraining when a monitoring check (checks.RETRAIN_ON_FAILURE) "
        "fails.",
    )
    def retrain_on_monitoring_failure(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        """One training run per failed evaluation of a watched check."""
        if not check_keys:
            return dg.SensorResult(skip_reason=dg.SkipReason("no monitoring checks wired yet"))
        failures, cursor = failed_checks(context.instance, check_keys, context.cursor)
        requests = [
            dg.RunRequest(
                run_key=f"{key.to_user_string()}:{record_id}",
                tags={"loanops/retrain_reason": key.to_user_string()},
            )
            for key, record_id in failures
        ]
        skip = None if requests else dg.SkipReason("no watched check has failed since last time")
        return dg.SensorResult(run_requests=requests, cursor=cursor, skip_reason=skip)

    return retrain_on_monitoring_failure


retraining = build_retraining_sensor(checks.RETRAIN_ON_FAILURE)

ALL = [landing_folder, retraining]
