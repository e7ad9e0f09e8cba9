"""Every endpoint and every error code of the API, on a real champion and a SQLite store."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from loanops.features import frame
from loanops.schema import raw_name
from serving.schemas import InvalidRequestError, validate_application
from tests.serving.conftest import API_KEY, AUTH
from tests.serving.samples import applications, example


def _stored(client, prediction_id):
    response = client.get(f"/v1/predictions/{prediction_id}", headers=AUTH)
    assert response.status_code == 200
    return response.json


def test_single_prediction_is_stored_with_the_same_values(client, app):
    response = client.post("/v1/predictions", json=example(0), headers=AUTH)
    assert response.status_code == 200
    body = response.json
    assert response.headers["X-Model-Version"] == body["model_version"]
    assert 0 <= body["probability_of_default"] <= 1
    # refer (with its reasons) or the class's decision; tests/serving/test_decisions.py has more
    assert body["decision"] in ("refer", "decline" if body["predicted_class"] else "approve")
    assert bool(body["referral_reasons"]) == (body["decision"] == "refer")
    assert body["predicted_class"] == int(body["probability_of_default"] >= body["threshold"])
    row = _stored(client, body["prediction_id"])
    for key in (
        "probability_of_default",
        "predicted_class",
        "threshold",
        "reason_codes",
        "model_name",
        "model_version",
        "run_id",
        "request_id",
        "client_id",
    ):
        assert row[key] == body[key], key
    assert row["input_raw_data"]["Client_Income"] == example(0)["Client_Income"]
    assert set(row["processed_data"]) == set(app.extensions["loanops"].loader.current.features)


def test_batch_rows_match_responses_and_the_model(client, app):
    records = applications(200, seed=5)
    response = client.post("/v1/predictions/batch", json={"applications": records}, headers=AUTH)
    assert response.status_code == 200
    body = response.json
    assert body["count"] == 200
    champion = app.extensions["loanops"].loader.current
    gold = frame.build(pd.DataFrame.from_records(records))
    expected = champion.scorer.predict_columns(gold).probability
    got = [p["probability_of_default"] for p in body["predictions"]]
    assert max(abs(a - b) for a, b in zip(got, expected, strict=True)) <= 1e-12
    for p in body["predictions"][:20]:
        assert (
            _stored(client, p["prediction_id"])["probability_of_default"]
            == (p["probability_of_default"])
        )
    store = app.extensions["loanops"].store
    assert store.count() == 200


def test_snake_case_and_junk_tokens_score_like_published_names(client):
    published = example(0)
    snake = {raw_name(k): v for k, v in published.items()}
    junk = published | {"Client_Income": "$", "Loan_Annuity": "#NA", "Car_Owned": "maybe"}
    a = client.post("/v1/predictions", json=published, headers=AUTH).json
    b = client.post("/v1/predictions", json=snake, headers=AUTH).json
    c = client.post("/v1/predictions", json=junk, headers=AUTH)
    assert a["probability_of_default"] == b["probability_of_default"]
    assert c.status_code == 200


def test_request_validation_agrees_with_the_feature_definition():
    """A 422 exactly when silver would reject the row for a range violation."""
    rows = applications(300, seed=9, junk_share=0.02)
    for i, row in enumerate(rows):  # push some values out of range, as text and as numbers
        if i % 3 == 0:
            row["Child_Count"] = "77" if i % 2 else 77
        if i % 5 == 0:
            row["Score_Source_2"] = -0.5
    reasons = frame.rejection_reasons(pd.DataFrame.from_records(rows), require_id=False)
    for row, reason in zip(rows, reasons, strict=True):
        try:
            validate_application(row)
            rejected = False
        except InvalidRequestError:
            rejected = True
        assert rejected == (reason is not None)


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, "malformed_json"),
        (
            {"data": "a=1", "content_type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        ({"json": {"Client_Income": -1}}, 422, "invalid_fields"),
        ({"json": {"Age_Days": "99999"}}, 422, "invalid_fields"),
        ({"json": {"Client_Gender": {"a": 1}}}, 422, "invalid_fields"),
        ({"json": [1, 2]}, 422, "invalid_fields"),
    ],
)
def test_prediction_errors(client, kwargs, status, error):
    response = client.post("/v1/predictions", headers=AUTH, **kwargs)
    assert response.status_code == status
    body = response.json
    assert body["error"] == error
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_422_names_the_field_and_why(client):
    body = client.post("/v1/predictions", json={"Client_Income": "-5"}, headers=AUTH).json
    assert body["details"] == [
        {"field": "Client_Income", "message": "`Client_Income` must be between 0 and 100000000"}
    ]
    batch = {"applications": [example(0), example(1) | {"Credit_Bureau": 101}]}
    body = client.post("/v1/predictions/batch", json=batch, headers=AUTH).json
    assert body["details"][0]["field"] == "applications.1.Credit_Bureau"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {API_KEY}"},
        {"Authorization": "Bearer "},
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/predictions"),
        ("post", "/v1/predictions/batch"),
        ("get", "/v1/model"),
        ("get", "/v1/predictions/00000000-0000-0000-0000-000000000000"),
    ],
)
def test_401_without_a_valid_key(client, headers, method, path):
    response = getattr(client, method)(path, headers=headers, json={})
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"


def test_keys_from_a_secret_file(make_app, tmp_path, monkeypatch):
    secret = tmp_path / "keys"
    secret.write_text("# rotated monthly\nfile-key\n")
    monkeypatch.setenv("LOANOPS_API_KEYS_FILE", str(secret))
    monkeypatch.setenv("LOANOPS_API_KEYS", "env-key")
    client = make_app(API_KEYS=None).test_client()
    for key in ("file-key", "env-key"):
        headers = {"Authorization": f"Bearer {key}"}
        assert client.get("/v1/model", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "path", ["/v1/predictions/not-a-uuid", "/v1/predictions/3f2b1f9e-0000-4000-8000-000000000000"]
)
def test_404_unknown_prediction(client, path):
    response = client.get(path, headers=AUTH)
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_404_unknown_route_is_json(client):
    assert client.get("/nope").json["error"] == "not_found"


def test_413_oversized_body(make_app):
    client = make_app(MAX_CONTENT_LENGTH=2000).test_client()
    big = {"applications": [example(0)] * 10}
    response = client.post("/v1/predictions/batch", json=big, headers=AUTH)
    assert response.status_code == 413
    assert response.json["error"] == "request_entity_too_large"


def test_batch_limit(make_app):
    client = make_app(MAX_BATCH=3).test_client()
    body = {"applications": [example(0)] * 4}
    response = client.post("/v1/predictions/batch", json=body, headers=AUTH)
    assert response.status_code == 422
    assert response.json["details"][0]["field"] == "applications"
    empty = client.post("/v1/predictions/batch", json={"applications": []}, headers=AUTH)
    assert empty.status_code == 422


def test_503_while_the_registry_is_unreachable(make_app, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    app = make_app(ready=False, MLFLOW_TRACKING_URI="http://127.0.0.1:9")
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["model_loaded"] is False
    for method, path in [("post", "/v1/predictions"), ("get", "/v1/model")]:
        response = getattr(client, method)(path, json=example(0), headers=AUTH)
        assert response.status_code == 503
        assert response.json["error"] == "not_ready"


def test_model_endpoint(client, champion):
    body = client.get("/v1/model", headers=AUTH).json
    assert body["name"] == "loan-default"
    assert body["version"] == champion["version"]
    assert body["alias"] == "champion"
    assert 0 < body["threshold"] < 1
    assert "test_roc_auc" in body["metrics"]
    assert "credit_to_income_ratio" in body["features"]


def test_health_metrics_openapi_and_form(client):
    assert client.get("/healthz").json["status"] == "ok"
    assert client.get("/readyz").json["checks"] == {"model_loaded": True, "store_reachable": True}
    client.post("/v1/predictions", json=example(1), headers=AUTH)
    text = client.get("/metrics").get_data(as_text=True)
    line = 'loanops_http_requests_total{endpoint="/v1/predictions",method="POST",status="200"}'
    assert line in text
    assert "loanops_prediction_probability_bucket" in text
    assert "loanops_model_info{" in text
    spec = client.get("/openapi.json").json
    assert set(spec["paths"]) >= {"/v1/predictions", "/v1/predictions/batch", "/v1/model"}
    assert "Client_Income" in spec["components"]["schemas"]["Application"]["properties"]
    prediction = spec["components"]["schemas"]["Prediction"]
    assert "reason_method" in prediction["required"]  # every answer names its method
    assert "reason_method" not in spec["components"]["schemas"]["StoredPrediction"]["properties"]
    page = client.get("/")
    assert page.status_code == 200 and b"Client_Income" in page.data


def test_request_id_is_echoed(client):
    response = client.post(
        "/v1/predictions", json=example(0), headers=AUTH | {"X-Request-ID": "abc-123"}
    )
    assert response.json["request_id"] == "abc-123"
    assert response.headers["X-Request-ID"] == "abc-123"


def test_non_finite_numbers_are_missing_and_storable(client):
    data = json.dumps(example(0) | {"Client_Income": math.inf, "Own_House_Age": math.nan})
    response = client.post(
        "/v1/predictions", data=data, content_type="application/json", headers=AUTH
    )
    assert response.status_code == 200
    row = _stored(client, response.json["prediction_id"])
    assert row["input_raw_data"]["Client_Income"] == "inf"


def test_integers_beyond_64_bits_are_stored_as_sent(client):
    huge = 123456789012345678901234567890
    data = json.dumps({"applications": [example(0) | {"Client_Gender": huge}]})
    response = client.post(
        "/v1/predictions/batch", data=data, content_type="application/json", headers=AUTH
    )
    assert response.status_code == 200
    row = _stored(client, response.json["predictions"][0]["prediction_id"])
    assert row["input_raw_data"]["Client_Gender"] == huge


def test_lone_surrogates_are_stored_replaced(client):
    data = json.dumps(example(0) | {"Client_Occupation": "Sales\ud800"})  # escaped: \\ud800
    response = client.post(
        "/v1/predictions", data=data, content_type="application/json", headers=AUTH
    )
    assert response.status_code == 200
    row = _stored(client, response.json["prediction_id"])
    assert row["input_raw_data"]["Client_Occupation"] == "Sales?"  # encode(..., "replace")


def _sample(text: str, name: str) -> float:
    """The value of an unlabelled sample in a Prometheus exposition (0 when absent)."""
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.split(" ")[0] == name)


def test_batch_sizes_are_exported(client):
    before = client.get("/metrics").get_data(as_text=True)
    body = {"applications": [example(i % 2) for i in range(3)]}
    assert client.post("/v1/predictions/batch", json=body, headers=AUTH).status_code == 200
    after = client.get("/metrics").get_data(as_text=True)
    rows = "loanops_scoring_batch_rows_sum"
    assert _sample(after, rows) - _sample(before, rows) == 3  # one micro-batch held all three
    count = "loanops_scoring_batch_rows_count"
    assert _sample(after, count) - _sample(before, count) == 1
