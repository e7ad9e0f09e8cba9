"""The application factory: settings, the champion loader, the store and the blueprints."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request

from serving import config as service_config
from serving import errors, logs, metrics
from serving.blueprints import health, model, openapi_bp, predictions, web
from serving.model_loader import Champion, ModelLoader
from serving.scoring import BatchScorer
from serving.shadow import ShadowScorer
from serving.state import Runtime, runtime
from serving.store import PredictionStore, migrate

log = logging.getLogger("serving.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def _on_swap(previous: Champion | None, champion: Champion) -> None:
    """Publish the serving version in /metrics."""
    old = (previous.name, previous.version, previous.run_id or "") if previous else None
    metrics.set_model((champion.name, champion.version, champion.run_id or ""), old)


def _before() -> None:
    """Give each request an id (the client's X-Request-ID if sane) and a start time."""
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    g.started = time.perf_counter()


def _after(response: Response) -> Response:
    """Headers, metrics and one access log line (no body, no applicant data)."""
    elapsed = time.perf_counter() - getattr(g, "started", time.perf_counter())
    response.headers["X-Request-ID"] = getattr(g, "request_id", "")
    champion = runtime().loader.current
    if champion is not None:
        response.headers["X-Model-Version"] = champion.version
    endpoint = request.url_rule.rule if request.url_rule else "unmatched"
    status = str(response.status_code)
    metrics.REQUESTS.labels(endpoint, request.method, status).inc()
    metrics.LATENCY.labels(endpoint, request.method, status).observe(elapsed)
    if runtime().settings.access_log:
        log.info("request", extra={
            "method": request.method, "endpoint": endpoint, "status": response.status_code,
            "latency_ms": round(elapsed * 1000, 3),
        })  # fmt: skip
    return response


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the scoring API; the champion loads in the background (503 until it has)."""
    app = Flask(__name__)
    settings = service_config.load(config)
    app.config.from_mapping(settings.flask_config())
    logs.configure(settings.log_level)
    if settings.migrate:
        migrate.upgrade(settings.prediction_store_url)
    store = PredictionStore(settings.prediction_store_url)
    loader = ModelLoader(
        settings.model_uri, settings.mlflow_tracking_uri, settings.model_poll_seconds,
        on_swap=_on_swap,
    )  # fmt: skip
    shadow = None
    if settings.shadow_model_uri:

        def serving(version: str) -> bool:
            return loader.current is not None and loader.current.version == version

        shadow_loader = ModelLoader(
            settings.shadow_model_uri, settings.mlflow_tracking_uri, settings.model_poll_seconds,
            role="challenger", skip=serving,
        )  # fmt: skip
        shadow = ShadowScorer(shadow_loader, store)
        shadow_loader.start()
    scorer = BatchScorer(
        loader, store, max_rows=max(2000, settings.max_batch), scale=settings.points,
        shadow=shadow,
    )  # fmt: skip
    Runtime(loader, store, scorer, settings, shadow).init_app(app)
    errors.init_app(app)
    app.before_request(_before)
    app.after_request(_after)

    for blueprint in (predictions.bp, model.bp, health.bp, openapi_bp.bp, web.bp):
        app.register_blueprint(blueprint)
    loader.start()
    return app
