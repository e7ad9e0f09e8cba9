"""The OpenAPI 3.1 document: requests from the published schema, responses from pydantic models.

The request schemas say exactly what `serving.schemas` accepts (schemathesis proves it in both
directions): the field names and their aliases, each field's JSON types, the range of a number
sent as a number, and which texts of a numeric field are in range (other text is junk, which
counts as missing).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from loanops.features import spec
from loanops.schema import APPLICATION_COLUMNS, BY_NAME, Kind
from serving import schemas

REF = "#/components/schemas/{model}"
_RESPONSES: tuple[type[BaseModel], ...] = (
    schemas.Prediction, schemas.BatchResponse, schemas.StoredPrediction, schemas.ModelInfo,
    schemas.Health, schemas.Error,
)  # fmt: skip
_WHY = {
    "400": "Malformed JSON", "401": "Missing or wrong API key", "404": "Unknown prediction",
    "413": "Body larger than the limit", "415": "Body is not application/json",
    "422": "Not an application (or not a batch of them): each problem named, with why",
    "503": "Model not loaded or store unavailable",
}  # fmt: skip
_JSON_TYPES = {int: "number", float: "number", str: "string", bool: "boolean", type(None): "null"}
_DIGITS = 15  # the most integer digits spec.NUMBER_PATTERN reads as a number


def _same_length(low: str, high: str) -> str:
    """A regex for the digit strings of one length from `low` to `high` (low <= high)."""
    if not low:
        return ""
    if low[0] == high[0]:
        return low[0] + _same_length(low[1:], high[1:])
    rest = len(low) - 1
    if not rest:
        return f"[{low[0]}-{high[0]}]"
    parts = [low[0] + f"(?:{_same_length(low[1:], '9' * rest)})"]
    if int(high[0]) - int(low[0]) > 1:
        parts.append(f"[{int(low[0]) + 1}-{int(high[0]) - 1}][0-9]{{{rest}}}")
    parts.append(high[0] + f"(?:{_same_length('0' * rest, high[1:])})")
    return "(?:" + "|".join(parts) + ")"


def _whole(low: int, high: int) -> str:
    """A regex for the whole numbers in [low, high], leading zeros allowed up to 15 digits."""
    parts = [f"0{{1,{_DIGITS}}}"] if low == 0 else []
    for digits in range(1, len(str(high)) + 1):
        start, stop = max(low, 10 ** (digits - 1), 1), min(high, 10**digits - 1)
        if start <= stop:
            zeros = f"0{{0,{_DIGITS - digits}}}"
            parts.append(zeros + f"(?:{_same_length(str(start), str(stop))})")
    return "(?:" + "|".join(parts) + ")"


def in_range_text(low: float, high: float) -> str:
    """A regex for the texts that spec.NUMBER_PATTERN reads as a number in [low, high].

    The published ranges have whole bounds and a low of 0 or 1, which is all this handles.
    """
    lo, hi = int(low), int(high)
    if lo != low or hi != high or lo not in (0, 1) or hi <= lo:
        raise ValueError(f"no text pattern for the range [{low}, {high}]")
    below = f"{_whole(lo, hi - 1)}(?:[.][0-9]*)?"  # any decimals below the top
    top = f"0{{0,{_DIGITS - len(str(hi))}}}{hi}(?:[.]0*)?"
    plus = [below, top] + ([f"[.][0-9]{{1,{_DIGITS}}}"] if lo == 0 else [])
    minus = [f"-(?:0{{1,{_DIGITS}}}(?:[.]0*)?|[.]0{{1,{_DIGITS}}})"] if lo == 0 else []
    return "^ *(?:[+]?(?:" + "|".join(plus) + ")" + "".join(f"|{m}" for m in minus) + ") *$"


def _field_schema(name: str) -> dict[str, Any]:
    """The JSON schema of one published field's value."""
    column = BY_NAME[name]
    types = sorted({_JSON_TYPES[t] for t in schemas.TYPES[column.kind]})
    if column.kind != Kind.NUMBER:
        return {"description": column.description, "type": types}
    rule = schemas.RULES[name]
    return {
        "description": f"{column.description} A number in [{rule.low:g}, {rule.high:g}], or "
        "text: a number in that range, or any other text (junk such as '$' or '#NA'), which "
        "counts as missing, as does null.",
        "anyOf": [
            {"type": "number", "minimum": rule.low, "maximum": rule.high},
            {"type": "string", "pattern": in_range_text(rule.low, rule.high)},
            {"type": "string", "not": {"pattern": f"^ *(?:{spec.NUMBER_PATTERN}) *$"}},
            {"type": "null"},
        ],
    }


def application_schema() -> dict[str, Any]:
    """The JSON schema of one application, exactly as `serving.schemas` validates it."""
    properties, names_of = {}, {}
    for key, name in schemas.FIELD_NAMES.items():
        names_of.setdefault(name, []).append(key)
        schema = _field_schema(name)
        if key != name:
            schema["description"] = f"The same field as `{name}`."
        properties[key] = schema
    # Each field at most once: no two of its names together. (A top-level `not` rather than
    # `dependentSchemas`, which schemathesis cannot generate data for.)
    twice = [
        {"required": [first, second]}
        for names in names_of.values()
        for i, first in enumerate(names) for second in names[i + 1:]
    ]  # fmt: skip
    return {
        "title": "Application",
        "description": "One loan application: a JSON object of at least one field, each "
        "under its published name, its snake_case name or a declared alias, and each at most "
        "once; any other key is rejected. Missing fields count as missing.",
        "type": "object",
        "properties": {name: properties[name] for name in APPLICATION_COLUMNS} | properties,
        "additionalProperties": False,
        "minProperties": 1,
        "not": {"anyOf": twice},
    }


def batch_schema(max_batch: int) -> dict[str, Any]:
    """The JSON schema of a batch body."""
    return {
        "title": "BatchRequest",
        "description": "Many applications scored and recorded together (all or none).",
        "type": "object",
        "properties": {"applications": {
            "type": "array", "minItems": 1, "maxItems": max_batch,
            "items": {"$ref": REF.format(model="Application")},
        }},
        "required": ["applications"],
        "additionalProperties": False,
    }  # fmt: skip


def _components(max_batch: int) -> dict[str, Any]:
    """Every schema, nested definitions lifted into components."""
    out: dict[str, Any] = {
        "Application": application_schema(), "BatchRequest": batch_schema(max_batch),
    }  # fmt: skip
    for model in _RESPONSES:
        schema = model.model_json_schema(ref_template=REF, mode="serialization")
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
    components = _components(max_batch)
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
                    "schema": {"type": "string", "format": "uuid"},
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
