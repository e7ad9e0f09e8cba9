"""Shadow scoring: the challenger scores every decided batch off the reply's path; its PD and
decision are stored beside the champion's and never returned."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from mlflow import MlflowClient

from loanops.features import columns
from loanops.schema import APPLICATION_COLUMNS
from ml import packaging
from serving.app import create_app
from tests.serving.champion import register
from tests.serving.conftest import API_KEY, AUTH, wait_ready
from tests.serving.samples import applications

SHADOW_KEYS = {"shadow_model_version", "shadow_probability", "shadow_decision"}


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A store with version 1 as champion and version 2 (another seed) as challenger."""
    before = os.environ.get("MLFLOW_TRACKING_URI")
    root = tmp_path_factory.mktemp("shadow-registry")
    uri, first = register(root, seed=0)
    _, second = register(root, seed=1)
    client = MlflowClient(uri, uri)
    client.set_registered_model_alias("loan-default", "champion", first)
    client.set_registered_model_alias("loan-default", "challenger", second)
    assert (first, second) == ("1", "2")
    try:
        yield uri
    finally:
        if before is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = before


def _app(uri: str, data: Path, **config: Any) -> Flask:
    app = create_app({
        "MLFLOW_TRACKING_URI": uri, "PREDICTION_STORE_URL": f"sqlite:///{data / 'p.db'}",
        "API_KEYS": [API_KEY], "ACCESS_LOG": False, **config,
    })  # fmt: skip
    wait_ready(app)
    return app


def _wait_for_challenger(app: Flask, seconds: float = 90) -> None:
    shadow = app.extensions["loanops"].shadow
    deadline = time.monotonic() + seconds
    while shadow.loader.current is None:
        assert time.monotonic() < deadline, shadow.loader.last_error
        time.sleep(0.1)


def test_the_challenger_scores_every_decision_and_the_client_never_sees_it(two_versions, tmp_path):
    app = _app(two_versions, tmp_path)
    try:
        _wait_for_challenger(app)
        sent = applications(40, seed=8)
        response = app.test_client().post(
            "/v1/predictions/batch", json={"applications": sent}, headers=AUTH
        )
        assert response.status_code == 200
        answers = response.json["predictions"]
        assert not SHADOW_KEYS & set(answers[0]) and answers[0]["model_version"] == "1"
        runtime = app.extensions["loanops"]
        runtime.shadow.drain()
        rows = [runtime.store.get(uuid.UUID(a["prediction_id"])) for a in answers]
        assert {r["shadow_model_version"] for r in rows} == {"2"}
        # the challenger's own PDs and decisions for the same applications, as sent
        raw = columns.from_records(sent, APPLICATION_COLUMNS)
        challenger = packaging.load("models:/loan-default/2")
        expected = challenger.predict_columns(columns.gold_from_raw(raw, len(sent)), 0)
        got = [r["shadow_probability"] for r in rows]
        assert max(abs(a - b) for a, b in zip(got, expected.probability, strict=True)) < 1e-12
        assert [r["shadow_decision"] for r in rows] == expected.decision
        assert got != [a["probability_of_default"] for a in answers]  # another model indeed
        read = app.test_client().get(f"/v1/predictions/{answers[0]['prediction_id']}", headers=AUTH)
        assert read.status_code == 200 and not SHADOW_KEYS & set(read.json)
    finally:
        app.extensions["loanops"].close()


def test_no_shadow_when_the_challenger_is_the_champion_or_when_turned_off(two_versions, tmp_path):
    same = _app(two_versions, tmp_path, SHADOW_MODEL_URI="models:/loan-default/1")
    try:
        _wait_for_challenger(same)
        answer = (
            same.test_client()
            .post("/v1/predictions", json=applications(1, seed=9)[0], headers=AUTH)
            .json
        )
        same.extensions["loanops"].shadow.drain()
        row = same.extensions["loanops"].store.get(uuid.UUID(answer["prediction_id"]))
        assert row["shadow_model_version"] is None and row["shadow_probability"] is None
    finally:
        same.extensions["loanops"].close()
    off = _app(two_versions, tmp_path, SHADOW_MODEL_URI="")
    try:
        assert off.extensions["loanops"].shadow is None
        assert (
            off.test_client()
            .post("/v1/predictions", json=applications(1, seed=9)[0], headers=AUTH)
            .status_code
            == 200
        )
    finally:
        off.extensions["loanops"].close()
