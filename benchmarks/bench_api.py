"""This API (recording every decision) vs `mlflow models serve`, same machine, load generator,
champion and worker count (WEB_CONCURRENCY, default 2); the load generator is wrk.

    .venv/bin/python benchmarks/bench_api.py                 # the registered champion
    .venv/bin/python benchmarks/bench_api.py --make-champion # train a small one first
    .venv/bin/python benchmarks/bench_api.py --store-url postgresql+psycopg://u@host:5432/db

`loanops` records every decision in the embedded SQLite store; `loanops_pg` is the same API
recording into PostgreSQL, the production shape's store (the server at --store-url, else a
throw-away local one this script starts and stops).

Prints requests/s and p50/p99 latency at 1, 8 and 32 connections for single applications and
applications/s for batches of 1,000: the medians of --repeats runs (3 of 5 s by default), taken
in rounds that visit every test on each server in turn, then every run's figures. A third
server, `flaskecho` (benchmarks/echo_app.py: an empty Flask handler under the API's own
gunicorn settings), takes the single-application tests: the latency floor of the stack.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

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


_WRK_SCRIPT = """
wrk.method = "POST"
local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("BENCH_KEY")
if key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    e.status, e.connect + e.read + e.write + e.timeout, latency:percentile(50),
    latency:percentile(99)))
end
"""


def load(
    port: int, path: str, body: bytes, headers: dict, connections: int, seconds: float
) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) from wrk with `connections` keep-alive connections.

    wrk (C, epoll) is the load generator for both servers: it costs far less CPU than a Python
    client, which matters when it shares the 2 cores with the servers it measures.
    """
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is missing: run `make install` (scripts/install-system-deps.sh installs it)")
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script, data = Path(tmp) / "post.lua", Path(tmp) / "body.json"
        script.write_text(_WRK_SCRIPT)
        data.write_bytes(body)
        key = headers.get("Authorization", "").removeprefix("Bearer ")
        env = os.environ | {"BENCH_BODY": str(data), "BENCH_KEY": key}
        command = [wrk, "-t", str(min(connections, 2)), "-c", str(connections),
                   "-d", f"{seconds:g}s", "--timeout", "60s", "-s", str(script),
                   f"http://127.0.0.1:{port}{path}"]  # fmt: skip
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
    requests, micros, bad_status, socket_errors, p50, p99 = (int(x) for x in line.split()[1:])
    if bad_status or socket_errors:
        raise RuntimeError(f"{bad_status} non-2xx answers and {socket_errors} socket errors")
    return requests / (micros / 1e6), p50 / 1000, p99 / 1000


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
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per test (medians shown)")
    parser.add_argument("--connections", default="1,8,32")
    parser.add_argument("--make-champion", action="store_true")
    parser.add_argument(
        "--servers", default="loanops,loanops_pg,mlflow,flaskecho", help="which servers to measure"
    )
    parser.add_argument(
        "--store-url", help="loanops_pg's store (SQLAlchemy URL); default: a throw-away PostgreSQL"
    )
    parser.add_argument("--skip-single", action="store_true", help="batches of 1,000 only")
    parser.add_argument("--skip-batch", action="store_true", help="single applications only")
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
    ours, ours_pg, theirs, floor = free_port(), free_port(), free_port(), free_port()
    wanted = args.servers.split(",")
    postgres = None
    store_url = args.store_url
    if "loanops_pg" in wanted and store_url is None:
        sys.path.insert(0, str(REPO))
        from tests.postgres_server import start_postgres

        postgres = start_postgres()
        store_url = f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/loanops"
    commands = {
        "loanops": [str(BIN / "loanops"), "serve", "--port", str(ours)],
        "loanops_pg": [str(BIN / "loanops"), "serve", "--port", str(ours_pg)],
        "mlflow": [str(BIN / "mlflow"), "models", "serve", "-m", "models:/loan-default@champion",
                   "--env-manager", "local", "-h", "127.0.0.1", "-p", str(theirs),
                   "-w", str(workers)],
        "flaskecho": [str(BIN / "python"), "-m", "gunicorn", "-c",
                      str(REPO / "serving" / "gunicorn_conf.py"), "--pythonpath",
                      str(REPO / "benchmarks"), "echo_app:app"],
    }  # fmt: skip
    commands = {n: c for n, c in commands.items() if n in wanted}
    logs = {name: (root / f"{name}.log").open("wb") for name in commands}
    # its own data folder: gunicorn_conf.py's master empties the metrics folder and migrates a store
    echo_env = env | {"PORT": str(floor), "LOANOPS_DATA_DIR": str(root / "echo-data")}
    # its own data folder too (metrics files), and the server store instead of the SQLite file
    pg_env = env | {"LOANOPS_PREDICTION_STORE_URL": store_url or "",
                    "LOANOPS_DATA_DIR": str(root / "pg-data")}  # fmt: skip
    envs = {n: {"flaskecho": echo_env, "loanops_pg": pg_env}.get(n, env) for n in commands}
    procs = {n: subprocess.Popen(c, env=envs[n], cwd=REPO, stdout=logs[n],
                                 stderr=subprocess.STDOUT)
             for n, c in commands.items()}  # fmt: skip
    try:
        if "loanops" in commands:
            wait_http(ours, "/readyz")
        if "loanops_pg" in commands:
            wait_http(ours_pg, "/readyz")
        if "mlflow" in commands:
            wait_http(theirs, "/ping")
        if "flaskecho" in commands:
            wait_http(floor, "/healthz")
        one, batch = applications(1), applications(1000)
        auth = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}
        plain = {"Content-Type": "application/json"}
        targets = {
            "loanops": (ours, "/v1/predictions", json.dumps(one[0]).encode(), auth,
                        "/v1/predictions/batch", json.dumps({"applications": batch}).encode()),
            "loanops_pg": (ours_pg, "/v1/predictions", json.dumps(one[0]).encode(), auth,
                           "/v1/predictions/batch", json.dumps({"applications": batch}).encode()),
            "mlflow": (theirs, "/invocations", json.dumps({"dataframe_records": one}).encode(),
                       plain, "/invocations", json.dumps({"dataframe_records": batch}).encode()),
            "flaskecho": (floor, "/v1/predictions", json.dumps(one[0]).encode(), auth, None, None),
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
        print(f"workers: {workers} (WEB_CONCURRENCY); {args.seconds:g} s per run")
        for name, command in commands.items():
            print(f"{name}: {' '.join(command)}")
        if "loanops_pg" in commands:
            shown = store_url.split("@")[-1]
            print(
                f"loanops_pg store: PostgreSQL at {shown}" + (" (throw-away)" if postgres else "")
            )
        print(f"repeats: {args.repeats} rounds; in each, every test on each server in turn "
              "(medians below, every run after them)")  # fmt: skip
        tests: list[tuple[str, int, bool]] = []
        if not args.skip_single:
            tests += [(f"single x{c}", int(c), False) for c in args.connections.split(",")]
        if not args.skip_batch:
            # 4 connections per worker: gunicorn's workers compete for each new connection, so
            # with one connection per worker both often land on the same worker and the other
            # idles (measured: ~8 batches/s with both on one worker, 12-17 with one each). With
            # four per worker every worker is almost surely busy, for either server.
            tests.append((f"batch1000 x{4 * workers}", 4 * workers, True))
        for name, (port, path, body, headers, _, _) in targets.items():
            if name in commands:
                load(port, path, body, headers, 2, 2.0)  # warm up every worker
        # Rounds interleave the servers, so a noisy minute on a shared machine hits both alike.
        runs: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
        for _ in range(args.repeats):
            for name, (port, path, body, headers, bpath, bbody) in targets.items():
                if name not in commands:
                    continue
                for test, conns, batch in tests:
                    if batch and bpath is None:  # the floor server takes single requests only
                        continue
                    where, data = (bpath, bbody) if batch else (path, body)
                    figures = load(port, where, data, headers, conns, args.seconds)
                    runs.setdefault((name, test), []).append(figures)
        print(
            f"\n{'server':10} {'test':>14} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'apps/s':>9}"
        )
        for (name, test), measured in runs.items():
            rps, p50, p99 = (statistics.median(column) for column in zip(*measured, strict=True))
            apps = rps * 1000 if test.startswith("batch") else rps
            shown = f"{rps:9.1f}" if test.startswith("batch") else f"{rps:9.0f}"
            print(f"{name:10} {test:>14} {shown} {p50:8.1f} {p99:8.1f} {apps:9.0f}")
        print("\nevery run (req/s, p50 ms, p99 ms):")
        for (name, test), measured in runs.items():
            listed = "; ".join(f"{r:.1f}, {a:.1f}, {b:.1f}" for r, a, b in measured)
            print(f"  {name} {test}: {listed}")
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            proc.wait(timeout=30)
        if postgres is not None:
            postgres.stop()
            shutil.rmtree(postgres.datadir.parent, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
