"""Approve / refer / decline through the API: the policy packaged with the champion decides,
the answer and the stored record say why, and a model packaged without a policy still works."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mlflow import MlflowClient

from ml import policy
from tests.serving.conftest import AUTH
from tests.serving.samples import applications, example

MISSING = ["Credit_Amount", "Loan_Annuity", "Age_Days", "Employed_Days"]
POOL = applications(40, seed=11, junk_share=0.0)


def _stored(app, prediction_id: str) -> dict:
    row = app.extensions["loanops"].store.get(uuid.UUID(prediction_id))
    assert row is not None
    return row


def test_only_client_income_is_referred_naming_the_missing_fields(client, app):
    response = client.post("/v1/predictions", json={"Client_Income": "6750"}, headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    assert body["decision"] == "refer"
    first = body["referral_reasons"][0]
    assert first["rule"] == policy.MISSING_REQUIRED and first["fields"] == MISSING
    assert first["message"] == "required fields missing: " + ", ".join(MISSING)
    model = client.get("/v1/model", headers=AUTH).json
    assert body["policy_version"] == model["policy"]["version"]
    row = _stored(app, body["prediction_id"])  # the record explains itself, policy included
    assert row["decision"] == "refer"
    assert row["referral_reasons"] == body["referral_reasons"]
    assert row["decision_policy"] == model["policy"]
    read = client.get(f"/v1/predictions/{body['prediction_id']}", headers=AUTH)
    assert read.status_code == 200
    assert read.json["decision"] == "refer"  # as stored, not worked out from the class
    assert read.json["referral_reasons"] == body["referral_reasons"]
    assert read.json["decision_policy"] == model["policy"]


def test_the_model_endpoint_and_the_registry_show_the_packaged_policy(client, champion):
    model = client.get("/v1/model", headers=AUTH).json
    rules = model["policy"]
    assert rules["source"] == policy.TRAINED
    assert rules["threshold"] == model["threshold"]
    assert rules["required_fields"] == list(policy.REQUIRED_FIELDS)
    assert rules["grey_zone"] == policy.GREY_ZONE_WIDTH
    assert len(rules["important_features"]) == policy.IMPORTANT_COUNT
    assert set(rules["important_features"]) <= set(model["features"])
    assert rules["minimum_important_share"] == policy.MINIMUM_IMPORTANT_SHARE
    uri = champion["tracking_uri"]
    tags = MlflowClient(uri, uri).get_model_version("loan-default", model["version"]).tags
    assert tags["decision_policy_version"] == rules["version"]
    assert policy.from_dict(rules).version == rules["version"]


def test_every_decision_follows_the_stored_policy(client, app):
    """Re-deciding each stored record from its own stored policy gives its stored decision."""
    records = applications(300, seed=7, junk_share=0.15)
    response = client.post("/v1/predictions/batch", json={"applications": records}, headers=AUTH)
    assert response.status_code == 200
    answers = response.json["predictions"]
    rows = [_stored(app, p["prediction_id"]) for p in answers]
    rules = policy.from_dict(rows[0]["decision_policy"])
    need = rules.columns_needed()
    again = rules.decide(
        np.array([r["prediction_probability"] for r in rows]),
        policy.record_columns([r["processed_data"] for r in rows], need),
    )
    assert [r["decision"] for r in rows] == [p["decision"] for p in answers] == again.decision
    assert [r["referral_reasons"] for r in rows] == again.referral_reasons
    seen = {p["decision"] for p in answers}
    assert "refer" in seen and seen <= set(policy.DECISIONS)
    for p in answers:
        if p["decision"] == "refer":
            assert p["referral_reasons"], p
        else:
            assert p["referral_reasons"] == []
            expected = "decline" if p["probability_of_default"] >= p["threshold"] else "approve"
            assert p["decision"] == expected
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'loanops_decisions_total{decision="refer"' in metrics


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(POOL),
    st.lists(st.sampled_from(policy.REQUIRED_FIELDS), min_size=1, unique=True),
    st.sampled_from(["absent", None, "", "$", "#NA", "XNA", "  "]),
    st.sets(st.sampled_from(sorted(POOL[0])), max_size=20),
)
def test_an_accepted_application_lacking_a_required_field_is_never_approved(
    client, base, drop, how, others
):
    body = {k: v for k, v in base.items() if k not in others or k in drop}
    for name in drop:
        if how == "absent":
            body.pop(name)
        else:
            body[name] = how
    if not body:
        body = {"ID": "1"}
    response = client.post("/v1/predictions", json=body, headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["decision"] == "refer"
    missing = response.json["referral_reasons"][0]["fields"]
    assert set(drop) <= set(missing)


def test_a_model_packaged_under_an_older_scoring_contract_is_refused(
    make_app, champion, tmp_path: Path
):
    """A version packaged before the contract was versioned: never served, and the log says why."""
    import time

    import mlflow
    import yaml

    uri = champion["tracking_uri"]
    mlflow.set_tracking_uri(uri)
    local = Path(
        mlflow.artifacts.download_artifacts(
            f"models:/loan-default/{champion['version']}", dst_path=str(tmp_path)
        )
    )
    mlmodel = yaml.safe_load((local / "MLmodel").read_text())
    del mlmodel["metadata"]["loanops_scoring_contract"]
    (local / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    legacy = MlflowClient(uri, uri).create_model_version("loan-default", str(local)).version
    app = make_app(ready=False, MODEL_URI=f"models:/loan-default/{legacy}")
    loader = app.extensions["loanops"].loader
    deadline = time.monotonic() + 60
    while loader.last_error is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert loader.current is None
    assert "scoring contract no version" in (loader.last_error or "")
    test_client = app.test_client()
    assert test_client.get("/readyz").status_code == 503
    response = test_client.post("/v1/predictions", json=example(0), headers=AUTH)
    assert response.status_code == 503


def test_the_readme_examples_show_a_full_and_two_referred_applications(client):
    """The README says its first example sends every required field and the batch is referred."""
    import json

    from tests.serving.test_contract import _readme_curls

    bodies = [json.loads(w[w.index("-d") + 1]) for w in _readme_curls() if "-d" in w]
    single, batch = bodies
    answer = client.post("/v1/predictions", json=single, headers=AUTH).json
    assert not any(r["rule"] == policy.MISSING_REQUIRED for r in answer["referral_reasons"])
    answers = client.post("/v1/predictions/batch", json=batch, headers=AUTH).json["predictions"]
    assert [a["decision"] for a in answers] == ["refer", "refer"]
