"""gunicorn settings: bind 0.0.0.0:$PORT, WEB_CONCURRENCY workers, gthread, preload off.

Threads per worker let concurrent requests share one micro-batch (one model call, one commit).
The master migrates the store and prepares the Prometheus multiprocess folder before forking.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from loanops import settings

_data = settings.load().data_dir
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_data / "prometheus"))

bind = f"0.0.0.0:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("LOANOPS_THREADS", "32"))
preload_app = False
keepalive = 30
timeout = 60
graceful_timeout = 20
max_requests = 0
accesslog = None  # the app writes one JSON line per request itself
wsgi_app = "serving.wsgi:app"


def on_starting(server: Any) -> None:
    """Empty the metrics folder and bring the store schema up to date (unless told not to)."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    from serving import config
    from serving.store import migrate

    service = config.load()
    # LOANOPS_MIGRATE=false: a release step (the pod's init container) has migrated already.
    if service.migrate:
        migrate.upgrade(service.prediction_store_url)
    os.environ["LOANOPS_MIGRATE"] = "0"  # workers inherit it: no concurrent migrations


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges from /metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
