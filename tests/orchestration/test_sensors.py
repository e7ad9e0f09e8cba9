"""The landing sensor (one run per new file, none for the same file) and the retraining sensor."""

from __future__ import annotations

import json

import dagster as dg

from loanops import warehouse
from orchestration import sensors
from orchestration.assets.ingest import ingest
from orchestration.resources import LoanopsResource
from tests.orchestration.conftest import land_book


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


def _monitored(passed: bool) -> list:
    @dg.asset(key=MONITORED)
    def score_psi() -> None:
        return None

    @dg.asset_check(asset=MONITORED, name="psi_below_alert")
    def psi_below_alert() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=passed)

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


def test_retraining_sensor_waits_for_monitoring_checks():
    result = sensors.build_retraining_sensor([])(dg.build_sensor_context())
    assert not result.run_requests
    assert "no monitoring checks" in result.skip_reason.skip_message
