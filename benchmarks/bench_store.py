"""The prediction store's write path: `PredictionStore.insert_many` of 1,000 realistic rows.

    .venv/bin/python benchmarks/bench_store.py
    .venv/bin/python benchmarks/bench_store.py --postgres-url postgresql+psycopg://u@host:5432/db

Rows are built as serving/scoring.py `_score` builds them (the 40 published fields as sent,
the model's gold features, three reason phrases, uuid4 ids, a tz-aware timestamp). Prints the
machine, the command, and per store the median (and p90) milliseconds per insert_many and rows/s.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from loanops.features import spec  # noqa: E402
from ml.packaging import EXAMPLE_RECORDS  # noqa: E402
from serving.store import PredictionStore, migrate  # noqa: E402


def realistic_rows(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Rows shaped like BatchScorer._score's: raw record, gold features, reasons, audit fields."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    request_id = uuid.uuid4().hex
    rows = []
    for i in range(count):
        record = dict(EXAMPLE_RECORDS[i % len(EXAMPLE_RECORDS)])
        record["ID"] = str(12_100_000 + i)
        processed: dict[str, Any] = {"ID": record["ID"]}
        for name in spec.MODEL_FEATURES:
            if name in spec.CATEGORY_FEATURES:
                processed[name] = rng.choice(["Alone", "Relative", "Commercial", None])
            elif name in spec.FLAG_FEATURES:
                processed[name] = float(rng.random() < 0.5)
            else:
                processed[name] = None if rng.random() < 0.05 else rng.uniform(0, 1e5)
        probability = rng.random()
        rows.append({
            "prediction_id": uuid.uuid4(), "request_id": request_id, "run_id": "a" * 32,
            "client_id": record["ID"], "input_raw_data": record, "processed_data": processed,
            "prediction_probability": probability, "predicted_class": int(probability >= 0.5),
            "threshold": 0.5, "reason_codes": [
                f"Credit amount high ({rng.uniform(1e4, 1e6):.4g})",
                "External score 3 not given", f"Client income low ({rng.uniform(0, 1e4):.4g})",
            ],
            "model_name": "loan-default", "model_version": "3",
            "latency_ms": rng.uniform(1, 50), "prediction_timestamp": now,
        })  # fmt: skip
    return rows


def measure(url: str, batches: int, size: int, warmup: int = 3) -> list[float]:
    """Milliseconds per insert_many of `size` fresh rows, after `warmup` unmeasured batches."""
    migrate.upgrade(url)
    store = PredictionStore(url)
    pool = [realistic_rows(size, seed) for seed in range(4)]
    timings = []
    try:
        for i in range(warmup + batches):
            rows = pool[i % len(pool)]
            for row in rows:  # fresh primary keys each batch
                row["prediction_id"] = uuid.uuid4()
            start = time.perf_counter()
            store.insert_many(rows)
            elapsed = (time.perf_counter() - start) * 1000
            if i >= warmup:
                timings.append(elapsed)
    finally:
        store.dispose()
    return timings


def report(name: str, timings: list[float], size: int) -> None:
    median = statistics.median(timings)
    p90 = statistics.quantiles(timings, n=10)[-1]
    print(
        f"{name:<10} median {median:7.2f} ms  p90 {p90:7.2f} ms  per insert_many of {size:,} rows"
        f"  -> {size / median * 1000:>9,.0f} rows/s  ({len(timings)} batches)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--postgres-url", help="also measure this PostgreSQL database")
    parser.add_argument("--sqlite-dir", help="folder for the SQLite file (default: a temp dir)")
    args = parser.parse_args()

    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, "
          f"Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}")  # fmt: skip
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    with tempfile.TemporaryDirectory(dir=args.sqlite_dir) as folder:
        url = f"sqlite:///{Path(folder) / 'predictions.db'}"
        report("sqlite", measure(url, args.batches, args.size), args.size)
    if args.postgres_url:
        report("postgresql", measure(args.postgres_url, args.batches, args.size), args.size)
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
