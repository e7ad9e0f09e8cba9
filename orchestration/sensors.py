"""Sensors: one ingest run per new landing file; a retraining run when a monitoring check fails."""

import json
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

# Not re-exported at the top level of dagster; the instance API returns these statuses.
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from loanops import settings as settings_module
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


def landing_requests(folder: Path, cursor: str | None) -> tuple[list[dg.RunRequest], str]:
    """Run requests for files that are new or changed since the cursor, and the new cursor."""
    seen: dict[str, list] = json.loads(cursor) if cursor else {}
    current: dict[str, list] = {}
    requests = []
    for path in landing_files(folder) if folder.is_dir() else []:
        state = file_state(path, seen.get(path.name))
        current[path.name] = state
        if seen.get(path.name, [None, None, None])[2] != state[2]:
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
    folder = settings_module.load().landing_dir
    requests, cursor = landing_requests(folder, context.cursor)
    skip = None if requests else dg.SkipReason(f"no new files in {folder}")
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
