"""Sensors: one ingest run per new landing file or blob; a retraining run when a check fails."""

import json
from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg

from loanops import settings as settings_module
from loanops import warehouse
from loanops.ingest.landing import Landing, open_landing
from orchestration import checks, jobs, monitoring_checks

LANDING_INTERVAL_SECONDS = 30
RETRAINING_INTERVAL_SECONDS = 60


class WarehouseBusyError(RuntimeError):
    """The load log cannot be read right now (e.g. a run holds the DuckDB file's lock)."""


@dataclass(frozen=True)
class LoadedFiles:
    """What raw.load_log records as loaded: file checksums, and blob versions (name, etag)."""

    checksums: frozenset[str] = frozenset()
    blob_versions: frozenset[tuple[str, str]] = frozenset()


def loaded_files(settings: settings_module.Settings) -> LoadedFiles:
    """The loaded checksums and blob versions in raw.load_log (none before the first ingest)."""
    if settings.target == "duckdb" and not settings.duckdb_path.exists():
        return LoadedFiles()
    # `select *`: a log written before blobs had no etag column, and this must still read it.
    sql = "select * from raw.load_log where status = 'loaded'"
    try:
        frame = warehouse.read_frame(settings, sql)
    except Exception as error:
        if "load_log" in str(error):  # the warehouse exists but nothing was ever ingested
            return LoadedFiles()
        raise WarehouseBusyError(str(error).splitlines()[0]) from error
    versions: frozenset[tuple[str, str]] = frozenset()
    if "etag" in frame.columns:
        blobs = frame[frame["etag"].notna()]
        versions = frozenset(zip(blobs["file_name"], blobs["etag"], strict=True))
    return LoadedFiles(frozenset(frame["checksum"]), versions)


def landing_requests(
    landing: Landing, cursor: str | None, loaded: LoadedFiles = LoadedFiles()
) -> tuple[list[dg.RunRequest], str]:
    """Run requests for files new or changed since the cursor and not yet loaded; the cursor.

    The cursor maps each name to its fingerprint: [size, mtime_ns, sha256] for a local file,
    [size, etag] for a blob (a new upload has a new etag). Files already in the load log
    (ingested by `loanops ingest` or `loanops pipeline` outside this sensor) need no run:
    ingest would skip them, and dbt has already built them.
    """
    seen: dict[str, list] = json.loads(cursor) if cursor else {}
    current: dict[str, list] = {}
    requests = []
    for entry in landing.entries():
        state = landing.fingerprint(entry, seen.get(entry.name))
        current[entry.name] = state
        identity = state[-1]  # sha256 of a file, etag of a blob
        if entry.etag is None:
            already = identity in loaded.checksums
        else:
            already = (entry.name, entry.etag) in loaded.blob_versions
        if seen.get(entry.name, [None])[-1] == identity or already:
            continue
        tags = {"loanops/landing_file": entry.name}
        if entry.etag is not None:
            tags["loanops/landing_etag"] = entry.etag
        requests.append(
            dg.RunRequest(
                run_key=f"{entry.name}:{identity}",  # same name and version: one run, ever
                run_config={"ops": {"ingest": {"config": {"files": [entry.name]}}}},
                tags=tags,
            )
        )
    # Files that left the location are forgotten; the load log still refuses their bytes.
    return requests, json.dumps(current, sort_keys=True)


@dg.sensor(
    name="landing_folder",
    job=jobs.ingest_to_gold,
    minimum_interval_seconds=LANDING_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="One ingest-to-gold run per new (or changed) CSV file in the landing location "
    "(the landing folder, or the Blob container LOANOPS_LANDING_URL names).",
)
def landing_folder(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """Request a run for each new landing file or blob, keyed by name and checksum or etag."""
    settings = settings_module.load()
    try:
        loaded = loaded_files(settings)
    except WarehouseBusyError as busy:  # keep the cursor: look again on the next tick
        return dg.SensorResult(skip_reason=dg.SkipReason(f"warehouse busy ({busy}); retrying"))
    landing = open_landing(settings)
    requests, cursor = landing_requests(landing, context.cursor, loaded)
    skip = None if requests else dg.SkipReason(f"no new files in {landing.url}")
    return dg.SensorResult(run_requests=requests, cursor=cursor, skip_reason=skip)


def failed_checks(
    instance: dg.DagsterInstance, keys: Sequence[dg.AssetCheckKey], cursor: str | None
) -> tuple[list[tuple[dg.AssetCheckKey, int]], str]:
    """Checks whose latest evaluation failed since the cursor: (key, record id), and the cursor."""
    seen: dict[str, int] = json.loads(cursor) if cursor else {}
    # DagsterInstance has no public query for check results; its event log storage's interface
    # has one, and the records it returns are read through public types only.
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(keys))
    failures = []
    for key, record in latest.items():
        name = key.to_user_string()
        if record.id <= seen.get(name, 0):
            continue
        # A check still running has a planned event, not an evaluation: decide on it next time.
        if not isinstance(record.evaluation, dg.AssetCheckEvaluation):
            continue
        seen[name] = record.id
        # Only a failed ERROR evaluation counts: a WARN failure (a warning, or no data to judge)
        # is not a reason to retrain.
        if monitoring_checks.requests_retraining(record.evaluation):
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
