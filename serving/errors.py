"""JSON errors for every failure: field-level 422s, HTTP errors, and never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("serving.errors")


class ApiError(Exception):
    """An error answered as JSON with a status, a short code and a message."""

    def __init__(
        self, status: int, error: str, message: str, details: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.details = details or []


def _field_name(loc: tuple[Any, ...]) -> str:
    """A dotted field path from a pydantic error location."""
    return ".".join(str(part) for part in loc) or "body"


def validation_details(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> list[dict[str, str]]:
    """One {field, message} per pydantic error, with the 'Value error, ' noise removed."""
    return [
        {
            "field": _field_name((*prefix, *err["loc"])),
            "message": str(err["msg"]).removeprefix("Value error, "),
        }
        for err in exc.errors(include_url=False, include_input=False)
    ]


def error_response(
    status: int, error: str, message: str, details: list[dict[str, str]] | None = None
) -> Response:
    """The JSON error body every handler answers with."""
    body = {
        "error": error,
        "message": message,
        "request_id": getattr(g, "request_id", ""),
        "details": details or [],
    }
    response = jsonify(body)
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    """Register the JSON error handlers."""

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.error, exc.message, exc.details)

    @app.errorhandler(ValidationError)
    def invalid(exc: ValidationError) -> Response:
        details = validation_details(exc)
        return error_response(422, "invalid_fields", "some fields are invalid", details)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        code = exc.code or 500
        name = (exc.name or "error").lower().replace(" ", "_")
        message = exc.description or name
        if code == 413:
            message = f"request body is larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
        response = error_response(code, name, message)
        allow = exc.get_response().headers.get("Allow")
        if allow:
            response.headers["Allow"] = allow
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        # The trace goes to the log (no applicant data in it), never to the client.
        log.exception("unhandled error", extra={"error_type": type(exc).__name__})
        return error_response(500, "internal_error", "internal error; see the server log")
