"""Generator throughput: rows per second to write a split-layout book, CSV included.

    .venv/bin/python benchmarks/bench_generator.py                      # 121,856 and 1,000,000
    .venv/bin/python benchmarks/bench_generator.py --rows 50000 --repeat 5

Each size runs `--repeat` times (default 3 for the small size, 1 for sizes above 500,000 to
keep the shared machine free) into a throw-away folder; the median is reported.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

from loanops.generator import write_book

DEFAULT_SIZES = (121_856, 1_000_000)


def _run(rows: int, seed: int) -> float:
    """Seconds to generate and write one book of `rows` rows."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        write_book(Path(folder) / "landing", rows, seed, name="bench")
        return time.perf_counter() - started


def main() -> None:
    """Time the generator at each size and print rows/s with the machine."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=list(DEFAULT_SIZES))
    parser.add_argument("--repeat", type=int, default=None, help="runs per size")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cpus, python {platform.python_version()}")  # fmt: skip
    for rows in args.rows:
        repeat = args.repeat or (1 if rows > 500_000 else 3)
        seconds = [_run(rows, args.seed) for _ in range(repeat)]
        median = statistics.median(seconds)
        runs = ", ".join(f"{s:.2f}" for s in seconds)
        print(
            f"{rows:>10,} rows: median {median:6.2f} s  {rows / median:>10,.0f} rows/s  (runs: {runs})"
        )


if __name__ == "__main__":
    main()
