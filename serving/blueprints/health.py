"""GET /healthz (the process answers), GET /readyz (model loaded and store reachable), /metrics."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from serving import metrics
from serving.state import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, Any], int]:
    """Liveness: the process serves requests."""
    return {"status": "ok", "checks": {}}, 200


@bp.get("/readyz")
def readyz() -> tuple[dict[str, Any], int]:
    """Readiness: 200 only when the champion is loaded and the store answers."""
    rt = runtime()
    champion = rt.loader.current
    checks = {"model_loaded": champion is not None, "store_reachable": rt.store.ping()}
    ready = all(checks.values())
    body = {
        "status": "ready" if ready else "not_ready",
        "model_version": champion.version if champion else None,
        "checks": checks,
    }
    return body, 200 if ready else 503


@bp.get("/metrics")
def prometheus() -> Response:
    """Prometheus exposition of every worker's metrics."""
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)
