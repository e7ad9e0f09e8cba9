"""This API (recording every decision) vs `mlflow models serve`, same machine, load generator,
champion and worker count (WEB_CONCURRENCY, default 2).

    .venv/bin/python benchmarks/bench_api.py                 # the registered champion
    .venv/bin/python benchmarks/bench_api.py --make-champion # train a small one first

Prints requests/s and p50/p99 latency at 1, 8 and 32 connections for single applications and
applications/s for batches of 1,000.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KEY = "bench-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(port: int, path: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"port {port} not ready on {path}")


def _client(port: int, path: str, body: bytes, headers: dict, until: float, out: list) -> None:
    """One keep-alive connection sending requests back to back until the deadline."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while time.perf_counter() < until:
        start = time.perf_counter()
        conn.request("POST", path, body, headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
        out.append(time.perf_counter() - start)
    conn.close()


def _process(args: tuple) -> list[float]:
    port, path, body, headers, threads, until = args
    out: list[float] = []
    workers = [threading.Thread(target=_client, args=(port, path, body, headers, until, out))
               for _ in range(threads)]  # fmt: skip
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return out


def load(
    port: int, path: str, body: bytes, headers: dict, connections: int, seconds: float
) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) with `connections` keep-alive clients in 1-4 processes."""
    procs = min(connections, 4)
    per = [connections // procs + (1 if i < connections % procs else 0) for i in range(procs)]
    until = time.perf_counter() + seconds
    with mp.get_context("fork").Pool(procs) as pool:
        parts = pool.map(_process, [(port, path, body, headers, n, until) for n in per])
    lat = np.array([x for p in parts for x in p]) * 1000
    return len(lat) / seconds, float(np.percentile(lat, 50)), float(np.percentile(lat, 99))


def applications(n: int) -> list[dict]:
    from ml.packaging import EXAMPLE_RECORDS

    return [dict(EXAMPLE_RECORDS[i % 2], ID=str(12_100_001 + i)) for i in range(n)]


def make_champion(root: Path) -> str:
    sys.path.insert(0, str(REPO))
    from tests.serving.champion import register

    uri, _ = register(root)
    return uri


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", default="1,8,32")
    parser.add_argument("--make-champion", action="store_true")
    parser.add_argument("--servers", default="loanops,mlflow", help="which servers to measure")
    parser.add_argument("--skip-single", action="store_true", help="batches of 1,000 only")
    args = parser.parse_args()
    workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
    root = Path(tempfile.mkdtemp(prefix="bench-api-"))
    tracking = make_champion(root) if args.make_champion else None
    from loanops import settings

    tracking = tracking or settings.load().mlflow_tracking_uri
    env = os.environ | {
        "MLFLOW_TRACKING_URI": tracking, "LOANOPS_API_KEYS": KEY, "WEB_CONCURRENCY": str(workers),
        "LOANOPS_DATA_DIR": str(root / "data"), "PATH": f"{BIN}:{os.environ['PATH']}",
    }  # fmt: skip
    ours, theirs = free_port(), free_port()
    commands = {
        "loanops": [str(BIN / "loanops"), "serve", "--port", str(ours)],
        "mlflow": [str(BIN / "mlflow"), "models", "serve", "-m", "models:/loan-default@champion",
                   "--env-manager", "local", "-h", "127.0.0.1", "-p", str(theirs),
                   "-w", str(workers)],
    }  # fmt: skip
    commands = {n: c for n, c in commands.items() if n in args.servers.split(",")}
    logs = {name: (root / f"{name}.log").open("wb") for name in commands}
    procs = {n: subprocess.Popen(c, env=env, cwd=REPO, stdout=logs[n], stderr=subprocess.STDOUT)
             for n, c in commands.items()}  # fmt: skip
    try:
        if "loanops" in commands:
            wait_http(ours, "/readyz")
        if "mlflow" in commands:
            wait_http(theirs, "/ping")
        one, batch = applications(1), applications(1000)
        auth = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}
        plain = {"Content-Type": "application/json"}
        targets = {
            "loanops": (ours, "/v1/predictions", json.dumps(one[0]).encode(), auth,
                        "/v1/predictions/batch", json.dumps({"applications": batch}).encode()),
            "mlflow": (theirs, "/invocations", json.dumps({"dataframe_records": one}).encode(),
                       plain, "/invocations", json.dumps({"dataframe_records": batch}).encode()),
        }  # fmt: skip
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if "model name" in line
            ),
            "?",
        )
        print(f"date: {datetime.now(UTC).isoformat(timespec='seconds')}")
        print(f"machine: {platform.node()} {platform.platform()} {os.cpu_count()} cpus ({cpu})")
        print(f"workers: {workers} (WEB_CONCURRENCY); {args.seconds:.0f} s per measurement")
        for name, command in commands.items():
            print(f"{name}: {' '.join(command)}")
        print(f"\n{'server':8} {'test':>14} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'apps/s':>9}")
        for name, (port, path, body, headers, bpath, bbody) in targets.items():
            if name not in commands:
                continue
            load(port, path, body, headers, 2, 2.0)  # warm up every worker
            for conns in [] if args.skip_single else [int(c) for c in args.connections.split(",")]:
                rps, p50, p99 = load(port, path, body, headers, conns, args.seconds)
                print(f"{name:8} {'single x' + str(conns):>14} {rps:9.0f} {p50:8.1f} {p99:8.1f}"
                      f" {rps:9.0f}", flush=True)  # fmt: skip
            rps, p50, p99 = load(port, bpath, bbody, headers, workers, args.seconds)
            print(f"{name:8} {'batch1000 x' + str(workers):>14} {rps:9.1f} {p50:8.1f} {p99:8.1f}"
                  f" {rps * 1000:9.0f}", flush=True)  # fmt: skip
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
