"""GET /openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from serving.openapi import document
from serving.state import runtime

bp = Blueprint("openapi", __name__)
_CACHE: dict[int, dict[str, Any]] = {}


@bp.get("/openapi.json")
def openapi_json() -> tuple[dict[str, Any], int]:
    """The OpenAPI document (built once per batch limit)."""
    limit = runtime().settings.max_batch
    if limit not in _CACHE:
        _CACHE[limit] = document(limit)
    return _CACHE[limit], 200
