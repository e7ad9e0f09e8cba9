"""POST /v1/predictions, POST /v1/predictions/batch and GET /v1/predictions/<id>."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response

from serving.blueprints.common import authenticate, json_body, json_response, score
from serving.errors import ApiError
from serving.schemas import InvalidRequestError, batch_items, validate_application, validate_batch
from serving.state import runtime

bp = Blueprint("predictions", __name__, url_prefix="/v1/predictions")
bp.before_request(authenticate)


def _invalid(exc: InvalidRequestError) -> ApiError:
    """The 422 naming each problem of the body."""
    return ApiError(422, "invalid_fields", exc.message, exc.details)


@bp.post("")
def predict() -> Response:
    """Score, record and return one application."""
    try:
        record = validate_application(json_body())
    except InvalidRequestError as exc:
        raise _invalid(exc) from None
    return json_response(score([record])[0])


@bp.post("/batch")
def predict_batch() -> Response:
    """Score, record and return many applications (all or none)."""
    try:  # one call for the list: every problem of every application, in order
        items = batch_items(json_body())
        limit = runtime().settings.max_batch
        if len(items) > limit:
            message = f"at most {limit} applications in one batch; got {len(items)}"
            raise InvalidRequestError("too many applications", [
                {"field": "applications", "message": message}
            ])  # fmt: skip
        valid = validate_batch(items)
    except InvalidRequestError as exc:
        raise _invalid(exc) from None
    answers = score(valid.records, valid.numbers)
    first = answers[0]
    return json_response({
        "model_name": first["model_name"], "model_version": first["model_version"],
        "count": len(answers), "predictions": answers,
    })  # fmt: skip


# A UUID converter, so that /batch is not also read as an id (OPTIONS would advertise GET there).
@bp.get("/<uuid:prediction_id>")
def get_prediction(prediction_id: uuid.UUID) -> tuple[dict[str, Any], int]:
    """The stored record of one prediction."""
    from serving.store import StoreUnavailableError

    try:
        row = runtime().store.get(prediction_id)
    except StoreUnavailableError:
        raise ApiError(503, "store_unavailable", "the prediction store is unavailable") from None
    if row is None:
        raise ApiError(404, "not_found", "no prediction with this id")
    return {
        "prediction_id": str(row["prediction_id"]), "request_id": row["request_id"],
        "client_id": row["client_id"],
        "probability_of_default": float(row["prediction_probability"]),
        "points": row["points"],  # null for decisions recorded before points existed
        # the decisions migration gave rows stored before decisions theirs, from the class
        "predicted_class": int(row["predicted_class"]), "decision": row["decision"],
        "referral_reasons": row["referral_reasons"] or [],
        "decision_policy": row["decision_policy"],
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
