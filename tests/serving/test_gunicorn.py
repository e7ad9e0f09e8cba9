"""The API under gunicorn: schemathesis against /openapi.json, SIGKILL of a worker, JSON logs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
import sqlalchemy as sa

from tests.serving.conftest import API_KEY, AUTH
from tests.serving.samples import example


def _requests_served(url: str) -> int:
    text = requests.get(f"{url}/metrics", timeout=10).text
    return int(
        sum(
            float(m)
            for m in re.findall(
                r"^loanops_http_requests_total\{[^}]*\} ([0-9.e+]+)$", text, re.MULTILINE
            )
        )
    )


def test_schemathesis_finds_nothing_with_every_check_in_both_modes(gunicorn, data_dir):
    """Valid bodies are answered 200 and invalid ones 4xx, as the OpenAPI document says.

    Every check: no 5xx, statuses, content types, response schemas and headers as documented,
    schema-valid bodies accepted, schema-invalid ones rejected, no undocumented method in an
    `Allow` header, 405 for undocumented methods, no success without a key.
    """
    server = gunicorn(workers=2, LOANOPS_MAX_BATCH="50")  # /openapi.json says maxItems 50
    before = _requests_served(server.url)
    # One schemathesis worker: with two, hypothesis compiles strategies in threads and CPython
    # 3.11 sometimes dies inside that ("AST constructor recursion depth mismatch"), a crash of
    # the tool that says nothing about the API. The server still gets concurrent load from its
    # 2 gunicorn workers. The stateful phase is left out: schemathesis 4.32 fails to canonicalise
    # the schemas it composes from earlier responses ("result is not supported in canonical
    # form", a schema error of the tool after ~1,400 passing cases), and its links reach only
    # GET /v1/predictions/<id>, which tests/serving/test_contract.py covers. No example
    # database: each run is the seed's alone, not a replay of cases an earlier run kept.
    out = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", f"{server.url}/openapi.json",
         "--checks", "all", "--mode", "all", "--max-examples", "120", "--seed", "7",
         "--phases", "examples,coverage,fuzzing", "--generation-database", "none",
         "--workers", "1", "--request-timeout", "60", "-H", f"Authorization: Bearer {API_KEY}",
         "--generation-allow-x00", "false"],
        capture_output=True, text=True, timeout=720, check=False,
        env=os.environ | {"NO_COLOR": "1"},
    )  # fmt: skip
    (data_dir / "schemathesis.txt").write_text(out.stdout + out.stderr)
    assert out.returncode == 0, out.stdout[-6000:]
    served = _requests_served(server.url) - before
    assert served >= 1000, f"only {served} requests were generated"
    # Both modes ran: schemathesis sent schema-invalid bodies too, and the API rejected them.
    statuses = _statuses(server.url)
    assert statuses.get(("/v1/predictions", "422"), 0) >= 50, statuses
    assert statuses.get(("/v1/predictions/batch", "422"), 0) >= 50, statuses
    assert statuses.get(("/v1/predictions", "200"), 0) >= 50, statuses
    assert statuses.get(("/v1/predictions/batch", "200"), 0) >= 50, statuses


def _statuses(url: str) -> dict[tuple[str, str], float]:
    """Requests served per (endpoint, status), summed over methods and workers."""
    text = requests.get(f"{url}/metrics", timeout=10).text
    out: dict[tuple[str, str], float] = {}
    for labels, value in re.findall(
        r"^loanops_http_requests_total\{([^}]*)\} (\S+)$", text, re.MULTILINE
    ):
        label = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        key = (label["endpoint"], label["status"])
        out[key] = out.get(key, 0) + float(value)
    return out


def test_sigkill_of_a_worker_under_load_loses_nothing(gunicorn, data_dir):
    server = gunicorn(workers=2)
    answered: list[str] = []
    stop = threading.Event()

    def load() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                try:
                    r = session.post(
                        f"{server.url}/v1/predictions", json=example(0), headers=AUTH, timeout=30
                    )
                except requests.RequestException:
                    continue  # the killed worker's connections drop: those got no 200
                if r.status_code == 200:
                    answered.append(r.json()["prediction_id"])

    threads = [threading.Thread(target=load) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(3)
    victims = server.worker_pids()
    os.kill(victims[0], signal.SIGKILL)
    time.sleep(4)  # gunicorn forks a replacement; load continues on the survivor
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert len(answered) > 20
    engine = sa.create_engine(f"sqlite:///{data_dir / 'predictions.db'}")
    with engine.connect() as conn:
        stored = {str(r[0]) for r in conn.execute(sa.text("select prediction_id from predictions"))}
    engine.dispose()
    normalised = {s.replace("-", "") for s in stored}
    missing = [p for p in answered if p.replace("-", "") not in normalised]
    assert not missing, f"{len(missing)} answered predictions are not in the store"
    assert victims[0] not in server.worker_pids()

    log_lines = [
        json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")
    ]
    access = [line for line in log_lines if line.get("message") == "request"]
    assert access and all(len(line["request_id"]) > 0 for line in access)
    text = server.log.read_text()
    assert "61190.55" not in text and "Self-employed" not in text  # no applicant data
