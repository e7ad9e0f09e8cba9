"""Full and incremental `dbt build` times on the embedded DuckDB warehouse.

Run: .venv/bin/python benchmarks/bench_dbt.py [--rows 121856 1000000] [--increment 0.01]

For each size: generate a book, ingest it, time a full `dbt build`; then land a 1 % batch of
new applications, ingest it and time the incremental `dbt build`. Each build is timed twice
over the same data: as a scheduled production run does it (`--exclude-resource-type
unit_test`: unit tests check SQL logic on fixed inputs, so dbt recommends running them in CI,
not on every load) and with the unit tests as well (what `make test` runs). Every build runs
with `--no-write-json` and JSON log lines, as the Dagster asset does; full and incremental are
the same command (the full one adds `--full-refresh`). Targets (issue 2): full build of
1,000,000 applications <= 60 s; incremental <= 20 % of the full build.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FIRST_ID = 12_100_001


def run(args: list[str], env: dict[str, str]) -> float:
    """Run a command from the repo root; return its wall time in seconds."""
    start = time.perf_counter()
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed


def measure(rows: int, increment: float, workdir: Path) -> dict[str, float]:
    """Time generate, ingest, full build and incremental build for one book size."""
    data = workdir / f"rows-{rows}"
    # DBT_LOG_FORMAT=json as DbtCliResource sets it for every build the Dagster asset runs (it
    # reads node results from that stream); anonymous usage tracking, which DbtCliResource also
    # turns off, is off for every build in dbt_project.yml's `flags:`.
    env = {
        **os.environ,
        "LOANOPS_DATA_DIR": str(data),
        "LOANOPS_TARGET": "duckdb",
        "DBT_LOG_FORMAT": "json",
    }
    loanops, dbt = str(BIN / "loanops"), str(BIN / "dbt")
    # --no-write-json as in the Dagster asset (orchestration/assets/dbt_models.py), which runs
    # production builds and reads node results from dbt's event stream, not run_results.json.
    project = ["--project-dir", ".", "--profiles-dir", "profiles"]
    dbt_build = [dbt, "build", "--no-write-json", *project]
    production = [*dbt_build, "--exclude-resource-type", "unit_test"]
    generate = [loanops, "generate", "--rows", str(rows), "--seed", "1", "--name", "base"]
    figures = {"generate_s": run(generate, env), "ingest_s": run([loanops, "ingest"], env)}
    run(production, env)  # the first build parses the project; neither timed build pays for it
    figures["full_build_s"] = run([*production, "--full-refresh"], env)
    figures["full_build_unit_s"] = run([*dbt_build, "--full-refresh"], env)
    batch = max(1, int(rows * increment))
    for name, key, command in (
        ("batch2", "incremental_build_s", production),
        ("batch3", "incremental_build_unit_s", dbt_build),
    ):
        first_id = FIRST_ID + rows + (batch if name == "batch3" else 0)
        generate = [loanops, "generate", "--rows", str(batch), "--seed", "2", "--name", name]
        run([*generate, "--first-id", str(first_id)], env)
        run([loanops, "ingest"], env)
        figures[key] = run(command, env)
    figures["incremental_rows"] = batch
    return figures


def main() -> None:
    """Print the figures as a markdown table with the machine and the command."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[121_856, 1_000_000])
    parser.add_argument("--increment", type=float, default=0.01)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="loanops-bench-dbt-", dir=REPO / "data"))
    print(f"# dbt build benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}\n")
    print(
        "| applications | generate s | ingest s | full build s | +1 % batch s | incremental / full"
        " | full build with unit tests s | +1 % batch with unit tests s | ratio with unit tests |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    try:
        for rows in args.rows:
            f = measure(rows, args.increment, workdir)
            ratio = f["incremental_build_s"] / f["full_build_s"]
            ratio_unit = f["incremental_build_unit_s"] / f["full_build_unit_s"]
            print(
                f"| {rows:,} | {f['generate_s']:.1f} | {f['ingest_s']:.1f} | {f['full_build_s']:.1f}"
                f" | {f['incremental_build_s']:.1f} | {ratio:.0%} | {f['full_build_unit_s']:.1f}"
                f" | {f['incremental_build_unit_s']:.1f} | {ratio_unit:.0%} |",
                flush=True,
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\ntargets: full build of 1,000,000 <= 60 s; incremental <= 20 % of full")


if __name__ == "__main__":
    (REPO / "data").mkdir(exist_ok=True)
    main()
