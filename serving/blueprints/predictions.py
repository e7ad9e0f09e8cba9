"""POST /v1/predictions, POST /v1/predictions/batch and GET /v1/predictions/<id>."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, current_app
from pydantic import ValidationError

from serving.app import runtime
from serving.blueprints.common import authenticate, json_body, json_response, score
from serving.errors import ApiError, validation_details
from serving.schemas import validate_application, validate_batch

bp = Blueprint("predictions", __name__, url_prefix="/v1/predictions")
bp.before_request(authenticate)


def _invalid(details: list[dict[str, str]]) -> ApiError:
    """The 422 for invalid fields."""
    return ApiError(422, "invalid_fields", "some fields are invalid", details)


def _application(body: Any, prefix: tuple[Any, ...] = ()) -> dict[str, Any]:
    """One validated application as a raw record (published names, values as sent)."""
    try:
        return validate_application(body)
    except ValidationError as exc:
        raise _invalid(validation_details(exc, prefix)) from None


@bp.post("")
def predict() -> Response:
    """Score, record and return one application."""
    return json_response(score([_application(json_body())])[0])


@bp.post("/batch")
def predict_batch() -> Response:
    """Score, record and return many applications (all or none)."""
    body = json_body()
    items = body.get("applications") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise _invalid([{"field": "applications", "message": "a non-empty list is required"}])
    limit = current_app.config["MAX_BATCH"]
    if len(items) > limit:
        raise _invalid([{"field": "applications", "message": f"at most {limit} applications"}])
    try:  # one call for the list: every invalid field of every application, in order
        valid = validate_batch(items)
    except ValidationError as exc:
        raise _invalid(validation_details(exc, ("applications",))) from None
    answers = score(valid.records, valid.numbers)
    first = answers[0]
    return json_response({
        "model_name": first["model_name"], "model_version": first["model_version"],
        "count": len(answers), "predictions": answers,
    })  # fmt: skip


@bp.get("/<prediction_id>")
def get_prediction(prediction_id: str) -> tuple[dict[str, Any], int]:
    """The stored record of one prediction."""
    try:
        key = uuid.UUID(prediction_id)
    except ValueError:
        raise ApiError(404, "not_found", "no prediction with this id") from None
    from serving.store import StoreUnavailableError

    try:
        row = runtime().store.get(key)
    except StoreUnavailableError:
        raise ApiError(503, "store_unavailable", "the prediction store is unavailable") from None
    if row is None:
        raise ApiError(404, "not_found", "no prediction with this id")
    cls = int(row["predicted_class"])
    return {
        "prediction_id": str(row["prediction_id"]), "request_id": row["request_id"],
        "client_id": row["client_id"],
        "probability_of_default": float(row["prediction_probability"]),
        "predicted_class": cls, "decision": "decline" if cls else "approve",
        "threshold": float(row["threshold"]), "reason_codes": row["reason_codes"],
        "model_name": row["model_name"], "model_version": row["model_version"],
        "run_id": row["run_id"], "prediction_timestamp": _iso(row["prediction_timestamp"]),
        "input_raw_data": row["input_raw_data"], "processed_data": row["processed_data"],
        "latency_ms": float(row["latency_ms"]),
    }, 200  # fmt: skip


def _iso(value: Any) -> str:
    """An ISO timestamp in UTC (SQLite returns naive datetimes stored as UTC)."""
    from datetime import UTC

    if getattr(value, "tzinfo", None) is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()
