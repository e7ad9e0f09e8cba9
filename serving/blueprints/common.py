"""Helpers the blueprints share: auth, JSON bodies and waiting for the batch thread."""

from __future__ import annotations

import json
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import numpy as np
import orjson
from flask import Response, current_app, g, request

from serving.auth import require_key
from serving.errors import ApiError
from serving.scoring import NotReadyError
from serving.state import runtime
from serving.store import StoreUnavailableError

_INT64 = float(2**63)


def _huge_float(body: Any) -> bool:
    """True if an application value is a float of magnitude 2**63 or more.

    orjson reads integers beyond 64 bits as floats where the standard library keeps the int;
    such bodies are read again with json. Application fields take scalars only, so the values
    of the body (one application) and of the dicts in its lists (a batch) are all that count.
    """
    if not isinstance(body, dict):
        return False
    for value in body.values():
        if type(value) is float and not -_INT64 < value < _INT64:
            return True
        if type(value) is list:
            for item in value:
                if type(item) is dict:
                    for v in item.values():
                        if type(v) is float and not -_INT64 < v < _INT64:
                            return True
    return False


def authenticate() -> None:
    """Require a valid bearer key (blueprint before_request hook); OPTIONS carries no data."""
    if request.method == "OPTIONS":
        return
    require_key(runtime().settings.api_keys)


def json_body() -> Any:
    """The request body as JSON: 415 unless application/json, 400 when malformed."""
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    data = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
    try:  # orjson rejects NaN/Infinity and lone surrogates: json decides those (and 400s)
        body = orjson.loads(data)
        # orjson reads an integer beyond 64 bits as a float; walking the parsed values finds
        # one far more cheaply than scanning the text for long digit runs.
        if not _huge_float(body):
            g.finite_utf8 = True  # no NaN, infinity or lone surrogate anywhere in the body
            return body
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "malformed_json", f"the body is not valid JSON: {exc}") from None


def score(
    records: list[dict[str, Any]], numbers: dict[str, np.ndarray] | None = None
) -> list[dict[str, Any]]:
    """Score and record applications; 503 when the model or the store is not available.

    `numbers`: the records' numeric columns as validation parsed them (reused by scoring).
    """
    if runtime().loader.current is None:
        raise ApiError(503, "not_ready", "the model is not loaded yet; retry shortly")
    clean = g.get("finite_utf8", False)
    job = runtime().scorer.submit(records, g.request_id, g.started, clean=clean, numbers=numbers)
    try:
        return job.future.result(timeout=runtime().settings.request_timeout_seconds)
    except NotReadyError:
        raise ApiError(503, "not_ready", "the model is not loaded yet; retry shortly") from None
    except StoreUnavailableError:
        raise ApiError(
            503, "store_unavailable", "the prediction store is unavailable; nothing was recorded"
        ) from None
    except FutureTimeout:
        raise ApiError(503, "timeout", "scoring took too long; retry") from None


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response encoded with orjson (several times faster than `jsonify`).

    The same document `jsonify` gives (sorted keys, compact, a final newline), in UTF-8 rather
    than ASCII escapes. Only for bodies without NaN or infinities (predictions): orjson would
    write those as null where the standard library writes NaN.
    """
    data = orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
    return current_app.response_class(data, status=status, mimetype="application/json")
