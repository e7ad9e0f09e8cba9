"""Points and PD bands through the API: every answer and stored record carries the score in
points on the configured scale, and `GET /v1/model` shows the champion's band table."""

from __future__ import annotations

import itertools
import uuid

import pytest

from loanops.points import Scale
from tests.serving.conftest import AUTH
from tests.serving.samples import applications, example


def test_every_answer_and_record_carries_its_points(client, app):
    batch = client.post(
        "/v1/predictions/batch", json={"applications": applications(25, seed=4)}, headers=AUTH
    )
    assert batch.status_code == 200, batch.get_data(as_text=True)
    answers = batch.json["predictions"]
    pds = [a["probability_of_default"] for a in answers]
    assert [a["points"] for a in answers] == Scale().points(pds).tolist()
    assert len({a["points"] for a in answers}) > 1  # different applicants, different scores
    for answer in answers[:5]:
        row = app.extensions["loanops"].store.get(uuid.UUID(answer["prediction_id"]))
        assert row["points"] == answer["points"]
        read = client.get(f"/v1/predictions/{answer['prediction_id']}", headers=AUTH).json
        assert read["points"] == answer["points"]


def test_the_lenders_scale_setting_reaches_every_answer(make_app, monkeypatch):
    monkeypatch.setenv("LOANOPS_POINTS_BASE", "500")
    monkeypatch.setenv("LOANOPS_POINTS_PDO", "20")
    client = make_app().test_client()
    body = client.post("/v1/predictions", json=example(), headers=AUTH).json
    scale = Scale(base_points=500, pdo=20)
    assert body["points"] == int(scale.points(body["probability_of_default"]))
    assert body["points"] != int(Scale().points(body["probability_of_default"]))
    assert client.get("/v1/model", headers=AUTH).json["points_scale"] == scale.as_dict()


def test_the_model_endpoint_shows_the_default_rate_per_pd_band(client):
    model = client.get("/v1/model", headers=AUTH).json
    bands = model["pd_bands"]
    assert [b["band"] for b in bands] == list(range(1, 11))
    assert all(b["pd_min"] <= b["pd_max"] for b in bands)
    assert all(a["pd_max"] <= b["pd_min"] for a, b in itertools.pairwise(bands))
    assert max(b["rows"] for b in bands) - min(b["rows"] for b in bands) <= 1  # equal groups
    # risk ranks: the riskiest band defaults more often than the safest
    assert bands[-1]["default_rate"] > bands[0]["default_rate"]
    scale = Scale(**model["points_scale"])
    assert all(b["points_max"] == int(scale.points(b["pd_min"])) for b in bands)
    assert model["metrics"]["test_gini"] == pytest.approx(2 * model["metrics"]["test_roc_auc"] - 1)
    assert 0 < model["metrics"]["test_ks"] < 1
