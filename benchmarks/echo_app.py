"""An empty Flask handler for bench_api.py: the floor of Flask under the API's own gunicorn.

It reads the same JSON body and answers a small JSON document, doing none of the API's work
(no validation, model, store, logs or metrics), served with serving/gunicorn_conf.py (same
worker class, workers and threads). Its latency at each connection count is what the
framework and server cost on this machine, so it shows how much of the API's p99 is ours.
"""

from __future__ import annotations

import orjson
from flask import Flask, Response, request

app = Flask(__name__)


@app.get("/healthz")
def healthz() -> Response:
    """Liveness, for the benchmark's start-up wait."""
    return app.response_class(b'{"status":"ok"}', mimetype="application/json")


@app.post("/v1/predictions")
def echo() -> Response:
    """Parse the body and answer how many fields it had."""
    body = orjson.loads(request.get_data())
    return app.response_class(orjson.dumps({"fields": len(body)}), mimetype="application/json")
