"""The champion moves: the API swaps it in without failing requests in flight."""

from __future__ import annotations

import threading
import time

from mlflow import MlflowClient

from tests.serving.champion import CHAMPION, MODEL_NAME, register
from tests.serving.conftest import AUTH
from tests.serving.samples import example


def test_alias_move_swaps_the_model_without_failing_requests(make_app, champion):
    app = make_app(MODEL_POLL_SECONDS=0.5)
    client = app.test_client()
    loader = app.extensions["loanops"].loader
    first = loader.current.version
    statuses: list[tuple[int, str]] = []
    stop = threading.Event()

    def hammer() -> None:
        local = app.test_client()
        while not stop.is_set():
            r = local.post("/v1/predictions", json=example(1), headers=AUTH)
            statuses.append((r.status_code, r.json.get("model_version", "")))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        _, new = _new_version(champion)
        assert new != first
        deadline = time.monotonic() + 120
        while loader.current.version != new:
            assert time.monotonic() < deadline, loader.last_error
            time.sleep(0.2)
        time.sleep(1)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
        MlflowClient(champion["tracking_uri"], champion["tracking_uri"]).set_registered_model_alias(
            MODEL_NAME, CHAMPION, first
        )
    assert statuses and all(code == 200 for code, _ in statuses)
    assert {v for _, v in statuses} >= {first, new}
    body = client.post("/v1/predictions", json=example(0), headers=AUTH).json
    assert body["model_version"] == new
    assert client.get("/v1/model", headers=AUTH).json["version"] == new


def _new_version(champion: dict[str, str]) -> tuple[str, str]:
    """Train and promote a second version in the same registry."""
    from pathlib import Path

    return register(Path(champion["root"]), seed=1)
