"""The OpenAPI 3.1 document, generated from the pydantic models the endpoints use."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from serving import schemas

REF = "#/components/schemas/{model}"
_REQUESTS: tuple[type[BaseModel], ...] = (schemas.Application, schemas.BatchRequest)
_RESPONSES: tuple[type[BaseModel], ...] = (
    schemas.Prediction, schemas.BatchResponse, schemas.StoredPrediction, schemas.ModelInfo,
    schemas.Health, schemas.Error,
)  # fmt: skip
_WHY = {
    "400": "Malformed JSON", "401": "Missing or wrong API key", "404": "Unknown prediction",
    "413": "Body larger than the limit", "415": "Body is not application/json",
    "422": "Invalid fields (each named, with why)", "503": "Model not loaded or store unavailable",
}  # fmt: skip


def _components() -> dict[str, Any]:
    """Every model's schema, nested definitions lifted into components."""
    out: dict[str, Any] = {}
    for model, mode in [(m, "validation") for m in _REQUESTS] + [
        (m, "serialization") for m in _RESPONSES
    ]:
        schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out


def _json(name: str) -> dict[str, Any]:
    """A JSON content block referring to a component."""
    return {"application/json": {"schema": {"$ref": REF.format(model=name)}}}


def _responses(ok: str, *codes: str, ok_status: str = "200") -> dict[str, Any]:
    """The documented responses of one operation."""
    out: dict[str, Any] = {ok_status: {"description": "OK", "content": _json(ok)}}
    for code in codes:
        out[code] = {"description": _WHY[code], "content": _json("Error")}
    return out


def _post(summary: str, body: str, ok: str) -> dict[str, Any]:
    """A scoring POST operation."""
    return {"post": {
        "summary": summary, "security": [{"bearer": []}],
        "requestBody": {"required": True, "content": _json(body)},
        "responses": _responses(ok, "400", "401", "413", "415", "422", "503"),
    }}  # fmt: skip


def _health(summary: str, *codes: str) -> dict[str, Any]:
    """A health operation (Health schema on every status)."""
    responses = {c: {"description": summary, "content": _json("Health")} for c in ("200", *codes)}
    return {"get": {"summary": summary, "responses": responses}}


def document(max_batch: int) -> dict[str, Any]:
    """The whole OpenAPI document."""
    components = _components()
    components["BatchRequest"]["properties"]["applications"]["maxItems"] = max_batch
    text = {"text/plain": {"schema": {"type": "string"}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "loanops scoring API", "version": "1",
            "description": "Scores loan applications with the champion model and records every "
            "decision before answering.",
        },
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "paths": {
            "/v1/predictions": _post("Score one application", "Application", "Prediction"),
            "/v1/predictions/batch": _post(
                f"Score up to {max_batch} applications", "BatchRequest", "BatchResponse"
            ),
            "/v1/predictions/{prediction_id}": {"get": {
                "summary": "A stored prediction", "security": [{"bearer": []}],
                "parameters": [{
                    "name": "prediction_id", "in": "path", "required": True,
                    "schema": {"type": "string"},
                }],
                "responses": _responses("StoredPrediction", "401", "404", "503"),
            }},
            "/v1/model": {"get": {
                "summary": "The serving champion", "security": [{"bearer": []}],
                "responses": _responses("ModelInfo", "401", "503"),
            }},
            "/healthz": _health("Liveness"),
            "/readyz": _health("Readiness: model loaded and store reachable", "503"),
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {
                "200": {"description": "OK", "content": text}}}},
        },
    }  # fmt: skip
