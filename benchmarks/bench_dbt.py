"""Full and incremental `dbt build` times on DuckDB and PostgreSQL, side by side.

Run: .venv/bin/python benchmarks/bench_dbt.py [--rows 121856 1000000] [--increment 0.01]
         [--targets duckdb,postgres] [--pg-url postgresql://USER@HOST:5432/DB]
         [--repeat 1]

For each size: generate a book once and ingest it into every warehouse, then time a full
`dbt build` on each; then land a 1 % batch of new applications, ingest it into every warehouse
and time the incremental `dbt build` on each. The warehouses take turns on the same files, so
machine load falls on both alike. Each build is timed twice: as a scheduled production run
does it (`--exclude-resource-type unit_test`: unit tests check SQL logic on fixed inputs, so
dbt recommends running them in CI, not on every load) and with the unit tests as well (what
`make test` runs). Every build runs with `--no-write-json` and JSON log lines, as the Dagster
asset does; full and incremental are the same command (the full one adds `--full-refresh`).
With `--repeat N` every full build is repeated N times over the same data and N batches are
landed for each incremental figure; the table gives medians and the lines under it each run.

PostgreSQL: `--pg-url` (or LOANOPS_PG_* in the environment) names a server, on which each size
gets a new database, dropped afterwards; otherwise a throw-away PostgreSQL 15 server runs on
loopback with PostgreSQL's default settings (fsync and synchronous commit on, 128 MB shared
buffers, 4 MB work_mem), which any production server meets or exceeds. The settings in force
are printed. Targets: full build of 1,000,000 applications <= 60 s; incremental <= 20 % of the
full build.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FIRST_ID = 12_100_001
TARGETS = ("duckdb", "postgres")
PG_SETTINGS_SHOWN = (
    "server_version", "fsync", "synchronous_commit", "full_page_writes", "shared_buffers",
    "work_mem", "maintenance_work_mem", "max_wal_size", "jit",
)  # fmt: skip


def run(args: list[str], env: dict[str, str]) -> float:
    """Run a command from the repo root; return its wall time in seconds."""
    start = time.perf_counter()
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed


def pg_env_from_url(url: str) -> dict[str, str]:
    """LOANOPS_PG_* variables (what the dbt profile and ingest read) from a postgresql:// URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
        raise SystemExit(f"--pg-url {url!r}: expected postgresql://USER[:PASSWORD]@HOST:PORT/DB")
    env = {
        "LOANOPS_PG_HOST": parts.hostname,
        "LOANOPS_PG_PORT": str(parts.port or 5432),
        "LOANOPS_PG_USER": unquote(parts.username or "postgres"),
        "LOANOPS_PG_DATABASE": parts.path.lstrip("/") or "loanops",
    }
    if parts.password:
        env["LOANOPS_PG_PASSWORD"] = unquote(parts.password)
    return env


def _as_postgres(*args: str) -> list[str]:
    """Run a server binary as the `postgres` user when we are root (PostgreSQL refuses root)."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


@contextmanager
def throwaway_postgres() -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL 15 cluster on loopback with default (durable) settings; its env."""
    sys.path.insert(0, str(REPO))  # for tests.postgres_server
    from tests.postgres_server import PG_BIN, start_postgres

    server = start_postgres()
    # The test server turns fsync, synchronous commit and full-page writes off; a benchmark
    # must pay for durability as a production server does, so restart it on the defaults.
    server.stop()
    subprocess.run(
        _as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(server.datadir), "-l",
            str(server.datadir.parent / "server.log"), "-w", "-o",
            f"-p {server.port} -k {server.datadir.parent} -c listen_addresses=127.0.0.1",
            "start",
        ),
        check=True,
        capture_output=True,
    )  # fmt: skip
    try:
        yield server.env
    finally:
        server.stop()
        shutil.rmtree(server.datadir.parent, ignore_errors=True)


def pg_settings(env: dict[str, str]) -> str:
    """The server's version and the settings that bear on build time, as one line."""
    import psycopg

    from loanops.settings import postgres_dsn

    with psycopg.connect(postgres_dsn(env)) as conn:
        rows = conn.execute(
            "select name, setting, unit from pg_settings where name = any(%s) order by name",
            [list(PG_SETTINGS_SHOWN)],
        ).fetchall()
    shown = []
    for name, setting, unit in rows:
        if unit == "8kB":
            setting, unit = f"{int(setting) * 8 // 1024}", "MB"
        elif unit == "kB":
            setting, unit = f"{int(setting) // 1024}", "MB"
        shown.append(f"{name}={setting}{unit or ''}")
    return ", ".join(shown)


@contextmanager
def fresh_database(env: dict[str, str], name: str) -> Iterator[dict[str, str]]:
    """A new, empty database on the server `env` points at (dropped afterwards); its env."""
    import psycopg

    from loanops.settings import postgres_dsn

    with psycopg.connect(postgres_dsn(env), autocommit=True) as conn:
        conn.execute(f"drop database if exists {name}")
        conn.execute(f"create database {name}")
    try:
        yield {**env, "LOANOPS_PG_DATABASE": name}
    finally:
        with psycopg.connect(postgres_dsn(env), autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")


def median(values: list[float]) -> float:
    """The median of the runs."""
    return statistics.median(values)


def measure(
    rows: int,
    increment: float,
    repeat: int,
    workdir: Path,
    warehouses: dict[str, dict[str, str]],
) -> dict[str, dict[str, object]]:
    """Time ingest, full and incremental builds of one book size on every warehouse."""
    data = workdir / f"rows-{rows}"
    # DBT_LOG_FORMAT=json as DbtCliResource sets it for every build the Dagster asset runs (it
    # reads node results from that stream); anonymous usage tracking, which DbtCliResource also
    # turns off, is off for every build in dbt_project.yml's `flags:`. Each warehouse keeps its
    # own target folder, as a deployment does, so partial parsing survives the turns taken.
    base = {**os.environ, "LOANOPS_DATA_DIR": str(data), "DBT_LOG_FORMAT": "json"}
    envs = {
        name: {
            **base,
            **extra,
            "LOANOPS_TARGET": name,
            "DBT_TARGET_PATH": str(workdir / f"target-{name}"),
        }
        for name, extra in warehouses.items()
    }
    loanops, dbt = str(BIN / "loanops"), str(BIN / "dbt")
    # --no-write-json as in the Dagster asset (orchestration/assets/dbt_models.py), which runs
    # production builds and reads node results from dbt's event stream, not run_results.json.
    project = ["--project-dir", ".", "--profiles-dir", "profiles"]
    dbt_build = [dbt, "build", "--no-write-json", *project]
    production = [*dbt_build, "--exclude-resource-type", "unit_test"]
    generate = [loanops, "generate", "--rows", str(rows), "--seed", "1", "--name", "base"]
    generate_s = run(generate, base)
    runs: dict[str, dict[str, list[float]]] = {name: {} for name in envs}
    for name, env in envs.items():
        runs[name]["ingest_s"] = [run([loanops, "ingest"], env)]
        run(production, env)  # the first build parses the project; no timed build pays for it
        runs[name]["full_build_s"] = [
            run([*production, "--full-refresh"], env) for _ in range(repeat)
        ]
        runs[name]["full_build_unit_s"] = [
            run([*dbt_build, "--full-refresh"], env) for _ in range(repeat)
        ]
    batch = max(1, int(rows * increment))
    first_id = FIRST_ID + rows
    for number in range(repeat):
        for key, command in (
            ("incremental_build_s", production),
            ("incremental_build_unit_s", dbt_build),
        ):
            name = f"batch{number}{'u' if key.endswith('unit_s') else 'p'}"
            generate = [loanops, "generate", "--rows", str(batch), "--seed", str(2 + number)]
            run([*generate, "--name", name, "--first-id", str(first_id)], base)
            first_id += batch
            for warehouse, env in envs.items():
                run([loanops, "ingest"], env)
                runs[warehouse].setdefault(key, []).append(run(command, env))
    return {
        name: {"generate_s": [generate_s], "incremental_rows": batch, **times}
        for name, times in runs.items()
    }


def _row(warehouse: str, rows: int, f: dict[str, object]) -> str:
    """One markdown row of medians."""
    m = {k: median(v) for k, v in f.items() if isinstance(v, list)}
    ratio = m["incremental_build_s"] / m["full_build_s"]
    ratio_unit = m["incremental_build_unit_s"] / m["full_build_unit_s"]
    return (
        f"| {warehouse} | {rows:,} | {m['generate_s']:.1f} | {m['ingest_s']:.1f}"
        f" | {m['full_build_s']:.1f} | {m['incremental_build_s']:.1f} | {ratio:.0%}"
        f" | {m['full_build_unit_s']:.1f} | {m['incremental_build_unit_s']:.1f}"
        f" | {ratio_unit:.0%} |"
    )


def main() -> None:
    """Print the figures as a markdown table with the machine, the command and the settings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[121_856, 1_000_000])
    parser.add_argument("--increment", type=float, default=0.01)
    parser.add_argument(
        "--targets", default=",".join(TARGETS), help="comma-separated: duckdb, postgres"
    )
    parser.add_argument(
        "--pg-url", help="postgresql://USER[:PASSWORD]@HOST:PORT/DB (default: LOANOPS_PG_* if "
        "set, else a throw-away server); each size builds in a new database on that server",
    )  # fmt: skip
    parser.add_argument("--repeat", type=int, default=1, help="runs of each build (medians)")
    args = parser.parse_args()
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = sorted(set(targets) - set(TARGETS))
    if unknown or not targets:
        parser.error(
            f"--targets: unknown {', '.join(unknown) or '(none)'}; use {', '.join(TARGETS)}"
        )
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    workdir = Path(tempfile.mkdtemp(prefix="loanops-bench-dbt-", dir=REPO / "data"))
    print(f"# dbt build benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    with ExitStack() as stack:
        pg: dict[str, str] = {}
        if "postgres" in targets:
            if args.pg_url:
                pg, where = pg_env_from_url(args.pg_url), "the server --pg-url names"
            elif "LOANOPS_PG_HOST" in os.environ:
                pg = {k: v for k, v in os.environ.items() if k.startswith("LOANOPS_PG_")}
                where = "the server LOANOPS_PG_* names"
            else:
                pg, where = stack.enter_context(throwaway_postgres()), "a throw-away local server"
            print(f"postgres: {where}; {pg_settings(pg)}")
        print(f"repeats: {args.repeat} (medians)\n")
        print(
            "| warehouse | applications | generate s | ingest s | full build s | +1 % batch s"
            " | incremental / full | full build with unit tests s | +1 % batch with unit tests s"
            " | ratio with unit tests |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        details = []
        try:
            for rows in args.rows:
                with ExitStack() as databases:
                    warehouses: dict[str, dict[str, str]] = {}
                    for target in targets:
                        if target == "postgres":
                            name = f"loanops_bench_dbt_{os.getpid()}_{rows}"
                            warehouses[target] = databases.enter_context(fresh_database(pg, name))
                        else:
                            warehouses[target] = {}
                    figures = measure(rows, args.increment, args.repeat, workdir, warehouses)
                for warehouse, f in figures.items():
                    print(_row(warehouse, rows, f), flush=True)
                    details += [
                        f"{warehouse} {rows:,} {key}: " + ", ".join(f"{v:.1f}" for v in values)  # type: ignore[union-attr]
                        for key, values in f.items()
                        if key.endswith("build_s") or key.endswith("unit_s")
                    ]
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    print("\nruns (s):")
    print("\n".join(details))
    print("\ntargets: full build of 1,000,000 <= 60 s; incremental <= 20 % of full")


if __name__ == "__main__":
    (REPO / "data").mkdir(exist_ok=True)
    # report.py stops a script that overruns with SIGTERM: exit through the `finally` blocks so
    # the throw-away server, its databases and the work folder go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    main()
