"""The landing sensor (one run per new file, none for the same file) and the retraining sensor."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import dagster as dg
import pytest
from azure.storage.blob import ContainerClient

from loanops import warehouse
from loanops.generator import write_book
from orchestration import sensors
from orchestration.assets.ingest import ingest
from orchestration.resources import LoanopsResource
from tests.orchestration.conftest import land_book

_containers = itertools.count(1)


def _evaluate(cursor: str | None) -> tuple[list[dg.RunRequest], str | None]:
    context = dg.build_sensor_context(cursor=cursor)
    result = sensors.landing_folder(context)
    return list(result.run_requests or []), result.cursor


def test_a_new_file_triggers_one_run_and_the_same_file_none(orchestration_env):
    requests, cursor = _evaluate(None)
    assert requests == []  # nothing landed yet (and no landing folder at all)

    applications, outcomes = land_book(orchestration_env, 40, 1, "first")
    requests, cursor = _evaluate(cursor)
    assert sorted(r.tags["loanops/landing_file"] for r in requests) == sorted(
        [applications.name, outcomes.name]
    )
    assert len({r.run_key for r in requests}) == 2
    for request in requests:
        name, checksum = request.run_key.split(":")
        assert checksum == json.loads(cursor)[name][2]

    again, cursor = _evaluate(cursor)
    assert again == []  # same files, same bytes: no run

    new_applications, _ = land_book(orchestration_env, 30, 2, "second")
    new_applications.unlink()  # only one new file this time (outcomes of the second batch)
    third, cursor = _evaluate(cursor)
    assert [r.tags["loanops/landing_file"] for r in third] == ["outcomes_second.csv"]
    assert _evaluate(cursor)[0] == []


def test_the_requested_run_lands_exactly_that_file(orchestration_env):
    applications, _outcomes = land_book(orchestration_env, 25, 3, "only")
    requests, _ = _evaluate(None)
    request = next(r for r in requests if r.tags["loanops/landing_file"] == applications.name)
    result = dg.materialize(
        [ingest], run_config=request.run_config, resources={"loanops": LoanopsResource()}
    )
    assert result.success
    landed = warehouse.read_frame(
        None, "select _source_file, count(*) as n from raw.applications group by 1"
    )
    assert landed.to_dict("records") == [{"_source_file": applications.name, "n": 25}]
    outcomes = warehouse.read_frame(None, "select count(*) as n from raw.outcomes")
    assert int(outcomes["n"].iloc[0]) == 0  # the other file waits for its own run


def test_files_already_ingested_outside_the_sensor_trigger_nothing(orchestration_env):
    # `loanops pipeline` (make demo) or `loanops ingest` loaded them: a run would only rebuild.
    land_book(orchestration_env, 20, 4, "preloaded")
    assert dg.materialize([ingest], resources={"loanops": LoanopsResource()}).success
    requests, cursor = _evaluate(None)
    assert requests == []
    fresh, _ = land_book(orchestration_env, 15, 5, "fresh")
    requests, _ = _evaluate(cursor)
    assert "applications_fresh.csv" in [r.tags["loanops/landing_file"] for r in requests]
    assert fresh.name == "applications_fresh.csv"


MONITORED = dg.AssetKey(["monitoring", "score_psi"])


def _monitored(passed: bool, severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR) -> list:
    @dg.asset(key=MONITORED)
    def score_psi() -> None:
        return None

    @dg.asset_check(asset=MONITORED, name="psi_below_alert")
    def psi_below_alert() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=passed, severity=severity)

    return [score_psi, psi_below_alert]


def test_retraining_sensor_requests_training_once_per_failure():
    check = dg.AssetCheckKey(MONITORED, "psi_below_alert")
    sensor = sensors.build_retraining_sensor([check])
    with dg.DagsterInstance.ephemeral() as instance:
        assert dg.materialize(_monitored(passed=True), instance=instance).success
        result = sensor(dg.build_sensor_context(instance=instance))
        assert not result.run_requests
        cursor = result.cursor

        dg.materialize(_monitored(passed=False), instance=instance)
        result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
        assert len(result.run_requests) == 1
        assert result.run_requests[0].tags["loanops/retrain_reason"] == check.to_user_string()
        assert sensor.job_name == "training"

        again = sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor))
        assert not again.run_requests  # the same failed evaluation never asks twice


def test_retraining_sensor_ignores_a_warn_failure():
    # A WARN failure is a warning or "no predictions to judge": retraining cannot help.
    check = dg.AssetCheckKey(MONITORED, "psi_below_alert")
    sensor = sensors.build_retraining_sensor([check])
    with dg.DagsterInstance.ephemeral() as instance:
        warn = dg.AssetCheckSeverity.WARN
        dg.materialize(_monitored(passed=False, severity=warn), instance=instance)
        result = sensor(dg.build_sensor_context(instance=instance))
        assert not result.run_requests

        dg.materialize(_monitored(passed=False), instance=instance)  # then a judged drift
        result = sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor))
        assert len(result.run_requests) == 1


def test_retraining_sensor_decides_on_a_planned_check_once_it_is_evaluated():
    # The asset fails before its check runs: the check is planned, with no result to judge yet.
    check = dg.AssetCheckKey(MONITORED, "psi_below_alert")
    sensor = sensors.build_retraining_sensor([check])

    @dg.asset(key=MONITORED, check_specs=[dg.AssetCheckSpec("psi_below_alert", asset=MONITORED)])
    def broken() -> dg.MaterializeResult:
        raise RuntimeError("the monitoring model could not be built")

    with dg.DagsterInstance.ephemeral() as instance:
        assert not dg.materialize([broken], instance=instance, raise_on_error=False).success
        result = sensor(dg.build_sensor_context(instance=instance))
        assert not result.run_requests
        assert json.loads(result.cursor) == {}  # nothing decided: look again next tick

        dg.materialize(_monitored(passed=False), instance=instance)
        result = sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor))
        assert len(result.run_requests) == 1


def test_retraining_sensor_waits_for_monitoring_checks():
    result = sensors.build_retraining_sensor([])(dg.build_sensor_context())
    assert not result.run_requests
    assert "no monitoring checks" in result.skip_reason.skip_message


@pytest.fixture
def landing_container(orchestration_env, azurite, monkeypatch) -> Iterator[ContainerClient]:
    """A fresh Azurite container that LOANOPS_LANDING_URL names (no local landing folder)."""
    name = f"sensor-{next(_containers)}"
    client = azurite.service().create_container(name)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    monkeypatch.setenv("LOANOPS_LANDING_URL", f"abfs://{name}")
    yield client
    client.delete_container()


def _upload_book(container: ContainerClient, tmp_path, rows: int, seed: int, name: str) -> dict:
    """Generate a book in a scratch folder and upload its files; {blob name: etag}."""
    etags = {}
    for path in write_book(tmp_path / f"scratch-{name}", rows, seed, name=name).files:
        etags[path.name] = _upload(container, path.name, path.read_bytes())
    return etags


def _upload(container: ContainerClient, name: str, data: bytes) -> str:
    """Upload (or overwrite) one blob; its etag as a listing gives it."""
    container.upload_blob(name, data, overwrite=True)
    return container.get_blob_client(name).get_blob_properties().etag.strip('"')


def test_a_new_blob_triggers_one_run_and_the_same_blob_none(landing_container, tmp_path):
    assert _evaluate(None)[0] == []  # an empty container

    etags = _upload_book(landing_container, tmp_path, 40, 1, "first")
    requests, cursor = _evaluate(None)
    assert sorted(
        (r.tags["loanops/landing_file"], r.tags["loanops/landing_etag"]) for r in requests
    ) == sorted(etags.items())
    assert sorted(r.run_key for r in requests) == sorted(f"{n}:{e}" for n, e in etags.items())
    assert all(
        r.run_config["ops"]["ingest"]["config"]["files"] == [r.tags["loanops/landing_file"]]
        for r in requests
    )

    again, cursor = _evaluate(cursor)
    assert again == []  # the same blobs, the same versions: no run

    newer = _upload_book(landing_container, tmp_path, 30, 2, "second")
    third, cursor = _evaluate(cursor)
    assert sorted(r.tags["loanops/landing_file"] for r in third) == sorted(newer)
    assert _evaluate(cursor)[0] == []


def test_the_requested_run_lands_exactly_that_blob(landing_container, orchestration_env, tmp_path):
    etags = _upload_book(landing_container, tmp_path, 25, 3, "only")
    requests, _ = _evaluate(None)
    applications = next(name for name in etags if name.startswith("applications"))
    request = next(r for r in requests if r.tags["loanops/landing_file"] == applications)

    result = dg.materialize(
        [ingest], run_config=request.run_config, resources={"loanops": LoanopsResource()}
    )

    assert result.success
    assert not (orchestration_env / "landing").exists()  # read from the container, not a folder
    landed = warehouse.read_frame(
        None, "select _source_file, count(*) as n from raw.applications group by 1"
    )
    assert landed.to_dict("records") == [{"_source_file": applications, "n": 25}]
    log = warehouse.read_frame(None, "select file_name, etag, status from raw.load_log")
    assert log.values.tolist() == [[applications, etags[applications], "loaded"]]
    outcomes = warehouse.read_frame(None, "select count(*) as n from raw.outcomes")
    assert int(outcomes["n"].iloc[0]) == 0  # the other blob waits for its own run


def test_blobs_already_ingested_outside_the_sensor_trigger_nothing(landing_container, tmp_path):
    _upload_book(landing_container, tmp_path, 20, 4, "preloaded")
    assert dg.materialize([ingest], resources={"loanops": LoanopsResource()}).success
    requests, cursor = _evaluate(None)
    assert requests == []
    fresh = _upload_book(landing_container, tmp_path, 15, 5, "fresh")
    requests, _ = _evaluate(cursor)
    assert sorted(r.tags["loanops/landing_file"] for r in requests) == sorted(fresh)


def test_a_run_for_a_blob_that_is_gone_fails_saying_so(landing_container):
    result = dg.materialize(
        [ingest],
        run_config={"ops": {"ingest": {"config": {"files": ["nowhere.csv"]}}}},
        resources={"loanops": LoanopsResource()},
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "not in the landing location abfs://" in str(failure.event_specific_data.error)
    assert "nowhere.csv" in str(failure.event_specific_data.error)
