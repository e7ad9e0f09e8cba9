"""Run every benchmark script and write docs/benchmarks.md (and the scaling figures of
docs/operations.md) from what they print.

    .venv/bin/python benchmarks/report.py                  # everything, at the target sizes
    .venv/bin/python benchmarks/report.py --only api       # re-run one section, keep the others
    .venv/bin/python benchmarks/report.py --quick          # small sizes, a smoke check

Each script runs as a subprocess of the virtual environment's python; its standard output is
kept verbatim in the report and parsed for the summary. Nothing is typed in by hand: a figure
that a script did not print shows as "not measured", and a script that fails is reported with
the tail of its error output. The only constants below are the project's targets and the
old system's published figures, both quoted as such.

`--only` re-runs the named sections and keeps the others from the previous report (each
section's raw output is stored in the markdown as a JSON comment, and re-parsed).
`--quick` writes to data/benchmarks-quick.md unless `--out` says otherwise, and never touches
docs/operations.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
REPORT = REPO / "docs" / "benchmarks.md"
OPERATIONS = REPO / "docs" / "operations.md"
SCALING_START = "<!-- benchmarks/report.py: scaling figures start (generated, do not edit) -->"
SCALING_END = "<!-- benchmarks/report.py: scaling figures end -->"
RESULT_TAG = "benchmarks/report.py result"
NOTES_START = "<!-- benchmarks/report.py: hand-written notes below, kept on every rewrite -->"

# The project's targets.
TARGET_GENERATOR_1M_S = 60.0  # 1,000,000 rows in under a minute
TARGET_INGEST_RATIO = 0.60  # ours >= 60 % of DuckDB's bare read_csv on the same file
TARGET_FULL_BUILD_1M_S = 60.0  # full dbt build of 1,000,000 applications
TARGET_INCREMENTAL_RATIO = 0.20  # incremental build after a 1 % batch <= 20 % of the full
TARGET_TRAINING_S = 300.0  # whole training on 121,856 applications
TARGET_AUC_RATIO = 0.97  # champion test AUC >= 0.97 x the true probabilities' AUC
TARGET_ECE = 0.02  # champion expected calibration error
TARGET_API_RATIO = 2.0  # >= 2x mlflow models serve's throughput at 8 and 32 connections
TARGET_P99_MS = 25.0  # ... with p99 <= 25 ms
TARGET_BATCH_APPS = 20_000.0  # applications/s in batches of 1,000
# The old system's published figures: 1,001 rows into Azure SQL in 92.5 s, row-by-row over ODBC;
# logistic regression test ROC-AUC 0.7322 on the real (not generated) data.
OLD_INGEST_ROWS, OLD_INGEST_SECONDS = 1_001, 92.5
OLD_AUC_REAL_DATA = 0.7322
# Capacity planning (docs/operations.md): the HPA keeps CPU at 70 % of the request, plus one pod
# so that losing a pod keeps p99 in bounds.
HPA_UTILISATION = 0.70
SPARE_PODS = 1
PEAK_REQUESTS = 1_000


@dataclass
class Section:
    """One benchmark script and its arguments at the target sizes and at quick sizes."""

    name: str
    title: str
    script: str
    full: list[str]
    quick: list[str]
    timeout_s: float


SECTIONS = [
    Section("generator", "Loan book generator", "bench_generator.py",
            ["--rows", "121856", "1000000"], ["--rows", "20000", "--repeat", "1"], 1200),
    Section("ingest", "Ingest: landing folder -> raw tables", "bench_ingest.py",
            ["--rows", "1000000", "--repeat", "3"], ["--rows", "30000", "--repeat", "1"], 2400),
    Section("dbt", "dbt build: full and incremental (DuckDB and PostgreSQL)", "bench_dbt.py",
            ["--rows", "121856", "1000000", "--targets", "duckdb,postgres", "--repeat", "3"],
            ["--rows", "20000", "--targets", "duckdb,postgres"], 5400),
    Section("training", "Training, evaluation and the promotion gate", "bench_training.py",
            ["--rows", "121856"], ["--rows", "6000", "--budget-seconds", "12", "--max-trials", "2"],
            2400),
    Section("api", "Scoring API vs `mlflow models serve`", "bench_api.py",
            ["--seconds", "5", "--repeats", "3", "--connections", "1,8,32"],
            ["--seconds", "2", "--repeats", "1", "--connections", "1,8,32"], 1800),
]  # fmt: skip
BY_NAME = {s.name: s for s in SECTIONS}


@dataclass
class Result:
    """What one run of a script left: its command, output, exit code, time and machine load."""

    name: str
    command: str
    returncode: int | None
    seconds: float
    started: str
    load_before: list[float]
    load_after: list[float]
    stdout: str
    stderr_tail: str
    note: str = ""
    commit: str = ""
    parsed: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------- machine


def machine() -> dict[str, str]:
    """Platform, CPU model, cores and memory of this machine."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "python": platform.python_version(),
        "commit": commit or "unknown",
    }


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


# -------------------------------------------------------------------------------- running


def run_section(
    section: Section, args: list[str], env: dict[str, str], echo: Callable[[str], None]
) -> Result:
    """Run one script with the venv's python, streaming its output and keeping all of it."""
    argv = [str(PYTHON), str(REPO / "benchmarks" / section.script), *args]
    shown = shlex.join([".venv/bin/python", f"benchmarks/{section.script}", *args])
    extra = {k: v for k, v in env.items() if os.environ.get(k) != v}
    if extra:
        shown = " ".join(f"{k}={shlex.quote(v)}" for k, v in extra.items()) + " " + shown
    echo(f"== {section.name}: {shown}  (load average {load_average()})")
    started = datetime.now(UTC).isoformat(timespec="seconds")
    before, clock = load_average(), time.perf_counter()
    stderr_path = REPO / "data" / f"benchmarks-{section.name}.stderr"
    stderr_path.parent.mkdir(exist_ok=True)
    lines: list[str] = []
    note = ""
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True, bufsize=1
        )
        deadline = time.monotonic() + section.timeout_s
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            echo(f"   {section.name}| {line.rstrip()}")
            if time.monotonic() > deadline:
                break
        try:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            note = f"stopped after the {section.timeout_s:.0f} s time limit"
    seconds = time.perf_counter() - clock
    tail = "\n".join(stderr_path.read_text(errors="replace").splitlines()[-25:])
    result = Result(
        section.name, shown, proc.returncode, round(seconds, 1), started, before,
        load_average(), "\n".join(lines), tail, note,
    )  # fmt: skip
    echo(f"== {section.name}: exit {proc.returncode} after {seconds:.0f} s {note}")
    return result


def champion_exists(tracking_uri: str, env: dict[str, str]) -> bool:
    """Whether `loan-default@champion` is registered in that store (asked in a subprocess)."""
    code = (
        "import sys\nfrom mlflow import MlflowClient\n"
        "try:\n    MlflowClient(sys.argv[1], sys.argv[1]).get_model_version_by_alias("
        "'loan-default', 'champion')\nexcept Exception:\n    sys.exit(1)\n"
    )
    done = subprocess.run(
        [str(PYTHON), "-c", code, tracking_uri], env=env, cwd=REPO, capture_output=True
    )
    return done.returncode == 0


# -------------------------------------------------------------------------------- parsing


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def parse_generator(out: str) -> dict[str, Any]:
    """Rows, median seconds and rows/s per size."""
    sizes = {}
    pattern = r"^\s*([\d,]+) rows: median\s+([\d.]+) s\s+([\d,]+) rows/s\s*\(runs: ([^)]*)\)"
    for m in re.finditer(pattern, out, re.MULTILINE):
        sizes[int(_num(m[1]))] = {"seconds": _num(m[2]), "rows_s": _num(m[3]), "runs": m[4]}
    return {"sizes": sizes}


def parse_ingest(out: str) -> dict[str, Any]:
    """Rows/s: bare DuckDB read_csv, ours on DuckDB and on PostgreSQL."""
    parsed: dict[str, Any] = {}
    for key, label in (
        ("bare", r"bare DuckDB read_csv -> table"),
        ("duckdb", r"ours, DuckDB"),
        ("postgres", r"ours, PostgreSQL \(COPY\)"),
    ):
        m = re.search(rf"^{label}\s*:\s*([\d,]+) rows/s", out, re.MULTILINE)
        if m:
            parsed[key] = _num(m[1])
    m = re.search(r"^file\s*:\s*(.*?), ([\d,]+) rows, ([\d.]+) MB", out, re.MULTILINE)
    if m:
        parsed["rows"] = int(_num(m[2]))
        parsed["size_mb"] = _num(m[3])
    m = re.search(r"^repeats\s*:\s*(\d+)", out, re.MULTILINE)
    if m:
        parsed["repeats"] = int(m[1])
    return parsed


DBT_KEYS = ("generate_s", "ingest_s", "full_s", "incremental_s", "ratio", "full_unit_s",
            "incremental_unit_s", "ratio_unit")  # fmt: skip
DBT_WAREHOUSES = {"duckdb": "DuckDB", "postgres": "PostgreSQL"}


def parse_dbt(out: str) -> dict[str, Any]:
    """Per warehouse and book size: generate, ingest, full and incremental build times.

    Rows start with the warehouse; a row that starts with the size (bench_dbt.py's output
    before it measured PostgreSQL too) is DuckDB's.
    """
    warehouses: dict[str, dict[int, dict[str, float]]] = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        warehouse = "duckdb"
        if len(cells) == 2 + len(DBT_KEYS) and cells[0] in DBT_WAREHOUSES:
            warehouse, cells = cells[0], cells[1:]
        if len(cells) != 1 + len(DBT_KEYS) or not re.fullmatch(r"[\d,]+", cells[0]):
            continue
        try:
            values = [_num(c.rstrip("%")) / (100 if c.endswith("%") else 1) for c in cells[1:]]
        except ValueError:
            continue
        sizes = warehouses.setdefault(warehouse, {})
        sizes[int(_num(cells[0]))] = dict(zip(DBT_KEYS, values, strict=True))
    parsed: dict[str, Any] = {"warehouses": warehouses}
    m = re.search(r"^postgres: (.*)$", out, re.MULTILINE)
    if m:
        parsed["postgres_server"] = m[1].strip()
    m = re.search(r"^repeats: (\d+)", out, re.MULTILINE)
    if m:
        parsed["repeats"] = int(m[1])
    return parsed


def parse_training(out: str) -> dict[str, Any]:
    """Training time, AUCs (champion, true probabilities, logistic, best tree), ECE, store."""
    patterns = {
        "training_s": r"^TRAINING \(.*?\):\s*([\d.]+) s",
        "gate_s": r"^promotion gate:\s*([\d.]+) s",
        "true_auc": r"^true-probability test AUC:\s*([\d.]+)",
        "champion_auc": r"^champion \(\w+\) test AUC ([\d.]+)",
        "auc_ratio": r"^champion \(\w+\) test AUC [\d.]+ = ([\d.]+) x true",
        "ece": r"^champion ECE ([\d.]+)",
        "best_tree_auc": r"^best tree ([\d.]+) vs logistic",
        "logistic_auc": r"^best tree [\d.]+ vs logistic ([\d.]+)",
        "rows": r"^rows: (\d+)",
        "test_rows": r"^rows: \d+ \(test (\d+)\)",
        "default_rate": r"default rate ([\d.]+)",
        "constrained": r"^directions of risk constrained: (.*)$",
        "unconstrained": r"^directions of risk unconstrained: (.*)$",
        "direction_cost": r"^directions of risk cost ([+-][\d.]+) test AUC",
    }
    parsed: dict[str, Any] = {}
    rules = re.search(r"^gate rules for the champion:\n((?:\|.*\n?)+)", out, re.MULTILINE)
    if rules:
        parsed["gate_rules"] = rules[1].strip()
    text = {"constrained", "unconstrained"}
    for key, pattern in patterns.items():
        m = re.search(pattern, out, re.MULTILINE)
        if m:
            parsed[key] = m[1].strip() if key in text else _num(m[1])
    for key, pattern in (
        ("winner", r"^champion \((\w+)\) test AUC"),
        ("gate", r"^promotion gate: [\d.]+ s -> (.*)$"),
        ("tracking_uri", r"^MLflow store: (\S+)"),
    ):
        m = re.search(pattern, out, re.MULTILINE)
        if m:
            parsed[key] = m[1].strip()
    return parsed


def parse_api(out: str) -> dict[str, Any]:
    """Per server and test: requests/s, p50 and p99 ms, applications/s."""
    rows: dict[str, dict[str, dict[str, float]]] = {}
    pattern = r"^(\w+)\s+((?:single|batch\d+) x\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$"
    for m in re.finditer(pattern, out, re.MULTILINE):
        rows.setdefault(m[1], {})[m[2]] = {
            "rps": _num(m[3]), "p50": _num(m[4]), "p99": _num(m[5]), "apps": _num(m[6]),
        }  # fmt: skip
    parsed: dict[str, Any] = {"rows": rows}
    m = re.search(r"^workers: (\d+)", out, re.MULTILINE)
    if m:
        parsed["workers"] = int(m[1])
    return parsed


PARSERS: dict[str, Callable[[str], dict[str, Any]]] = {
    "generator": parse_generator, "ingest": parse_ingest, "dbt": parse_dbt,
    "training": parse_training, "api": parse_api,
}  # fmt: skip


def has_figures(result: Result) -> bool:
    """Whether the parse found anything to report."""
    p = result.parsed
    return any(p.get(key) for key in ("sizes", "warehouses", "rows", "bare", "training_s"))


# ------------------------------------------------------------------------------ rendering


def fmt(value: float | None, digits: int = 0, suffix: str = "") -> str:
    """A number with thousands separators, or 'not measured'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not measured"
    return f"{value:,.{digits}f}{suffix}"


def verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("**yes**" if ok else "**NO**")


def load_text(result: Result | None) -> str:
    if result is None:
        return "n/a"
    return f"{result.load_before[0]:.2f} → {result.load_after[0]:.2f}"


def _get(d: dict, *keys: Any) -> Any:
    for key in keys:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or b in (None, 0) else a / b


def summary_rows(results: dict[str, Result]) -> list[tuple[str, str, str, str, str, str]]:
    """(figure, target, measured, peer or limit, met?, load average) for every target."""
    rows = []
    gen = results.get("generator")
    g = (gen.parsed if gen else {}).get("sizes", {})
    for size in sorted(g) or [1_000_000]:
        v = g.get(size, {})
        seconds = v.get("seconds")
        at_target = size == 1_000_000
        rows.append((
            f"generator: {fmt(size)} rows (CSV written)",
            f"1,000,000 rows < {TARGET_GENERATOR_1M_S:.0f} s" if at_target else "— (set at 1,000,000)",
            f"{fmt(seconds, 1)} s ({fmt(v.get('rows_s'))} rows/s)", "—",
            verdict(None if seconds is None else seconds < TARGET_GENERATOR_1M_S)
            if at_target else "—",
            load_text(gen),
        ))  # fmt: skip

    ing = results.get("ingest")
    i = ing.parsed if ing else {}
    ratio = _div(i.get("duckdb"), i.get("bare"))
    old_rate = OLD_INGEST_ROWS / OLD_INGEST_SECONDS
    rows.append((
        f"ingest into DuckDB, {fmt(i.get('rows'))} rows", f"≥ {TARGET_INGEST_RATIO:.0%} of bare `read_csv`",
        f"{fmt(i.get('duckdb'))} rows/s = {fmt(ratio and ratio * 100, 0, ' %')} of bare",
        f"bare DuckDB `read_csv` → table, same file, same run: {fmt(i.get('bare'))} rows/s; "
        f"old system {old_rate:.0f} rows/s",
        verdict(None if ratio is None else ratio >= TARGET_INGEST_RATIO), load_text(ing),
    ))  # fmt: skip
    pg = i.get("postgres")
    rows.append((
        f"ingest into PostgreSQL (COPY), {fmt(i.get('rows'))} rows", "none set (faster than the old system)",
        f"{fmt(pg)} rows/s", f"old system: {OLD_INGEST_ROWS:,} rows into Azure SQL in "
        f"{OLD_INGEST_SECONDS} s = {old_rate:.0f} rows/s ({fmt(_div(pg, old_rate), 0, '×')} faster)",
        verdict(None if pg is None else pg > old_rate), load_text(ing),
    ))  # fmt: skip

    dbt = results.get("dbt")
    measured = (dbt.parsed if dbt else {}).get("warehouses") or {"duckdb": {}}
    for warehouse, d in measured.items():
        label = DBT_WAREHOUSES.get(warehouse, warehouse)
        for size in sorted(d) or [1_000_000]:
            f = d.get(size, {})
            at_target = size == 1_000_000
            rows.append((
                f"full `dbt build` on {label}, {fmt(size)} applications (production: unit tests "
                "excluded)",
                f"≤ {TARGET_FULL_BUILD_1M_S:.0f} s" if at_target else "— (set at 1,000,000)",
                f"{fmt(f.get('full_s'), 1)} s ({fmt(f.get('full_unit_s'), 1)} s with unit tests)",
                "—",
                verdict(None if f.get("full_s") is None else f["full_s"] <= TARGET_FULL_BUILD_1M_S)
                if at_target else "—",
                load_text(dbt),
            ))  # fmt: skip
            r = f.get("ratio")
            rows.append((
                f"incremental `dbt build` on {label} after a 1 % batch, {fmt(size)} applications",
                f"≤ {TARGET_INCREMENTAL_RATIO:.0%} of the full build",
                f"{fmt(f.get('incremental_s'), 1)} s = {fmt(r and r * 100, 0, ' %')} "
                f"({fmt(f.get('ratio_unit') and f['ratio_unit'] * 100, 0, ' %')} with unit tests)",
                "—", verdict(None if r is None else r <= TARGET_INCREMENTAL_RATIO), load_text(dbt),
            ))  # fmt: skip

    tr = results.get("training")
    t = tr.parsed if tr else {}
    rows.append((
        f"whole training (3 families + search), {fmt(t.get('rows'))} applications",
        f"≤ {TARGET_TRAINING_S:.0f} s", f"{fmt(t.get('training_s'), 1)} s", "—",
        verdict(None if "training_s" not in t else t["training_s"] <= TARGET_TRAINING_S), load_text(tr),
    ))  # fmt: skip
    rows.append((
        f"champion ({t.get('winner', '?')}) test ROC-AUC, generated data",
        f"≥ {TARGET_AUC_RATIO} × true-probability AUC",
        f"{fmt(t.get('champion_auc'), 4)} = {fmt(t.get('auc_ratio'), 3)} × true",
        f"limit: generator's true probabilities {fmt(t.get('true_auc'), 4)} on the same test rows; "
        f"old system {OLD_AUC_REAL_DATA} on the *real* data (not comparable)",
        verdict(None if "auc_ratio" not in t else t["auc_ratio"] >= TARGET_AUC_RATIO), load_text(tr),
    ))  # fmt: skip
    rows.append((
        "champion expected calibration error", f"≤ {TARGET_ECE}", fmt(t.get("ece"), 4), "—",
        verdict(None if "ece" not in t else t["ece"] <= TARGET_ECE), load_text(tr),
    ))  # fmt: skip
    tree, logistic = t.get("best_tree_auc"), t.get("logistic_auc")
    rows.append((
        "best tree model vs logistic regression (test AUC)", "tree > logistic",
        f"{fmt(tree, 4)} vs {fmt(logistic, 4)}", "—",
        verdict(None if tree is None or logistic is None else tree > logistic), load_text(tr),
    ))  # fmt: skip

    api = results.get("api")
    a = (api.parsed if api else {}).get("rows", {})
    ours, theirs, floor = a.get("loanops", {}), a.get("mlflow", {}), a.get("flaskecho", {})
    for conns in (8, 32):
        o, m = ours.get(f"single x{conns}", {}), theirs.get(f"single x{conns}", {})
        e = floor.get(f"single x{conns}", {})
        ratio = _div(o.get("rps"), m.get("rps"))
        rows.append((
            f"API single applications, {conns} connections (every decision recorded)",
            f"≥ {TARGET_API_RATIO:.0f}× mlflow's req/s", f"{fmt(o.get('rps'))} req/s = "
            f"{fmt(ratio, 1, '×')} mlflow", f"`mlflow models serve`: {fmt(m.get('rps'))} req/s, "
            f"p99 {fmt(m.get('p99'), 1)} ms",
            verdict(None if ratio is None else ratio >= TARGET_API_RATIO), load_text(api),
        ))  # fmt: skip
        rows.append((
            f"API p99 latency, {conns} connections", f"≤ {TARGET_P99_MS:.0f} ms",
            f"{fmt(o.get('p99'), 1)} ms (p50 {fmt(o.get('p50'), 1)} ms)",
            f"`mlflow models serve`: p99 {fmt(m.get('p99'), 1)} ms; limit: an empty Flask "
            f"handler under the same gunicorn, p99 {fmt(e.get('p99'), 1)} ms "
            f"({fmt(e.get('rps'))} req/s)",
            verdict(None if "p99" not in o else o["p99"] <= TARGET_P99_MS), load_text(api),
        ))  # fmt: skip
    pg = a.get("loanops_pg", {})
    for conns in (8, 32):
        o, m = pg.get(f"single x{conns}", {}), theirs.get(f"single x{conns}", {})
        ratio = _div(o.get("rps"), m.get("rps"))
        rows.append((
            f"API single applications, {conns} connections, PostgreSQL store",
            f"≥ {TARGET_API_RATIO:.0f}× mlflow's req/s", f"{fmt(o.get('rps'))} req/s = "
            f"{fmt(ratio, 1, '×')} mlflow, p99 {fmt(o.get('p99'), 1)} ms",
            f"SQLite store: {fmt(ours.get(f'single x{conns}', {}).get('rps'))} req/s",
            verdict(None if ratio is None else ratio >= TARGET_API_RATIO), load_text(api),
        ))  # fmt: skip
    ob = next((v for k, v in ours.items() if k.startswith("batch")), {})
    mb = next((v for k, v in theirs.items() if k.startswith("batch")), {})
    rows.append((
        "API applications/s in batches of 1,000", f"≥ {TARGET_BATCH_APPS:,.0f}",
        fmt(ob.get("apps")), f"`mlflow models serve` (records nothing): {fmt(mb.get('apps'))}",
        verdict(None if "apps" not in ob else ob["apps"] >= TARGET_BATCH_APPS), load_text(api),
    ))  # fmt: skip
    return rows


def markdown_table(header: list[str], rows: list[tuple | list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def capacity(results: dict[str, Result]) -> dict[str, Any] | None:
    """Per-pod rates from the API benchmark and the pods a peak of 1,000 req/s needs."""
    api = results.get("api")
    ours = (api.parsed if api else {}).get("rows", {}).get("loanops", {})
    singles = {k: v for k, v in ours.items() if k.startswith("single")}
    if not singles:
        return None
    best_name, best = max(singles.items(), key=lambda kv: kv[1]["rps"])
    within = {k: v for k, v in singles.items() if v["p99"] <= TARGET_P99_MS}
    bounded = max(within.items(), key=lambda kv: kv[1]["rps"]) if within else None
    batch = next((v for k, v in ours.items() if k.startswith("batch")), None)

    def pods(rate: float | None) -> int | None:
        if not rate:
            return None
        return math.ceil(PEAK_REQUESTS / (HPA_UTILISATION * rate)) + SPARE_PODS

    return {
        "workers": api.parsed.get("workers") if api else None,
        "best": (best_name, best),
        "bounded": bounded,
        "batch": batch,
        "pods_best": pods(best["rps"]),
        "pods_bounded": pods(bounded[1]["rps"]) if bounded else None,
        "pods_batch": pods(batch["apps"]) if batch else None,
        "load": load_text(api),
        "date": api.started if api else "",
    }


def scaling_markdown(cap: dict[str, Any] | None) -> str:
    """The figures block of docs/operations.md's Scaling section."""
    if cap is None:
        return "No API benchmark figures yet: run `.venv/bin/python benchmarks/report.py`."
    best_name, best = cap["best"]
    bounded = cap["bounded"]
    batch = cap["batch"] or {}
    bounded_text = (
        f"{bounded[1]['rps']:,.0f} req/s ({bounded[0]}, p99 {bounded[1]['p99']:.1f} ms)"
        if bounded
        else f"none: no connection count kept p99 ≤ {TARGET_P99_MS:.0f} ms on the bench machine"
    )
    rows = [
        ("single applications per second, one pod "
         f"({cap['workers']} workers), best measured", f"{best['rps']:,.0f} req/s ({best_name}, "
         f"p50 {best['p50']:.1f} ms, p99 {best['p99']:.1f} ms)"),
        (f"single applications per second, one pod, p99 ≤ {TARGET_P99_MS:.0f} ms", bounded_text),
        ("applications per second in batches of 1,000, one pod",
         fmt(batch.get("apps")) + f" (p99 {fmt(batch.get('p99'), 0)} ms a batch)"),
        (f"pods for a peak of {PEAK_REQUESTS:,} single req/s at the best rate",
         str(cap["pods_best"])),
        (f"pods for {PEAK_REQUESTS:,} single req/s with p99 ≤ {TARGET_P99_MS:.0f} ms",
         str(cap["pods_bounded"]) if cap["pods_bounded"] else "not reachable at the measured rates"),
        (f"pods for {PEAK_REQUESTS:,} applications/s sent in batches of 1,000",
         str(cap["pods_batch"] or "not measured")),
        ("prediction inserts per second the store takes, per Azure SQL tier",
         "not measured (no Azure SQL here; the benchmark's store is SQLite on local disk, "
         "inside the figures above)"),
    ]  # fmt: skip
    return "\n".join([
        f"From `benchmarks/report.py` ({cap['date']}; see docs/benchmarks.md for the machine "
        f"and command; load average {cap['load']} during the API run):",
        "",
        markdown_table(["figure", "value"], rows),
        "",
        f"Pods = `ceil({PEAK_REQUESTS:,} / ({HPA_UTILISATION} × per-pod rate)) + {SPARE_PODS}`: "
        f"the HPA's {HPA_UTILISATION:.0%} CPU target is the headroom, the `+ {SPARE_PODS}` covers "
        "a lost pod. The per-pod rate was measured with the load generator on the same 2 shared "
        "cores as the 2 workers, and every request wrote its row to the store before replying; a "
        "pod limited to 1 CPU on an AKS node is a different machine, so re-run "
        "`benchmarks/bench_api.py` on the node type before trusting these counts.",
    ])  # fmt: skip


def section_markdown(section: Section, result: Result | None) -> str:
    """Command, load, status, the parsed table and the script's output verbatim."""
    parts = [f"## {section.title}", ""]
    if result is None:
        return "\n".join([*parts, "Not run.", ""])
    parts += [
        "```bash",
        result.command,
        "```",
        "",
        f"Started {result.started}, {result.seconds:.0f} s wall, exit code {result.returncode}; "
        f"load average (1/5/15 min) {result.load_before} before, {result.load_after} after.",
        "",
    ]
    if result.note:
        parts += [f"**Note:** {result.note}.", ""]
    if section.name == "api":
        parts += [
            "Champion served by both servers: "
            + (
                "a small LightGBM that `bench_api.py --make-champion` trains on 3,000 generated "
                "applications (the training section did not run or promoted none)."
                if "--make-champion" in result.command
                else "the one the training section above trained on 121,856 applications and "
                "promoted (its temporary MLflow store, removed after this run)."
            ),
            "",
        ]
    if result.returncode != 0 and not has_figures(result):
        parts += [
            "**The script failed** and printed no figures. Tail of its error output:",
            "",
            "```text",
            result.stderr_tail or "(nothing on stderr)",
            "```",
            "",
        ]
    elif result.returncode != 0:
        parts += [
            f"The script exited with code {result.returncode} (bench_training.py exits 1 when a "
            "target is missed); its figures are below. Tail of its error output:",
            "",
            "```text",
            "\n".join(result.stderr_tail.splitlines()[-8:]) or "(nothing on stderr)",
            "```",
            "",
        ]
    table = parsed_table(section.name, result)
    if table:
        parts += [table, ""]
    parts += ["Printed by the script:", "", "```text", result.stdout.strip() or "(nothing)", "```"]
    stored = {k: v for k, v in asdict(result).items() if k != "parsed"}
    encoded = json.dumps(stored).replace("--", "-\\u002d")  # "--" may not appear in a comment
    parts += ["", f"<!-- {RESULT_TAG} {encoded} -->", ""]
    return "\n".join(parts)


API_SERVER_LABELS = {
    "loanops": "loanops (every decision recorded, SQLite store)",
    "loanops_pg": "loanops (every decision recorded, PostgreSQL store)",
    "mlflow": "`mlflow models serve`",
    "flaskecho": "empty Flask handler, same gunicorn (the floor)",
}


def parsed_table(name: str, result: Result) -> str:
    """The section's figures as a markdown table (from the parse, so the summary agrees)."""
    p = result.parsed
    if name == "generator" and p.get("sizes"):
        return markdown_table(
            ["rows", "median s", "rows/s", "runs (s)"],
            [(f"{r:,}", f"{v['seconds']:.2f}", f"{v['rows_s']:,.0f}", v["runs"])
             for r, v in sorted(p["sizes"].items())],
        )  # fmt: skip
    if name == "ingest" and p.get("bare"):
        old = OLD_INGEST_ROWS / OLD_INGEST_SECONDS
        rows = [("bare DuckDB `read_csv` → table (the reference)", fmt(p.get("bare")), "100 %")]
        rows.append(("ours, DuckDB (checksum, checks, load log, metadata)", fmt(p.get("duckdb")),
                     fmt(_div(p.get("duckdb"), p["bare"]) and p["duckdb"] / p["bare"] * 100, 0, " %")))  # fmt: skip
        if "postgres" in p:
            rows.append(("ours, PostgreSQL (COPY)", fmt(p["postgres"]),
                         fmt(p["postgres"] / p["bare"] * 100, 0, " %")))  # fmt: skip
        rows.append((f"old system: row-by-row ODBC into Azure SQL (published, {OLD_INGEST_ROWS:,} "
                     f"rows in {OLD_INGEST_SECONDS} s)", f"{old:.0f}", "—"))  # fmt: skip
        return markdown_table(["path", "rows/s (median)", "of bare"], rows)
    if name == "dbt" and p.get("warehouses"):
        return markdown_table(
            ["warehouse", "applications", "full build s", "+1 % batch s", "incremental / full",
             "full with unit tests s", "+1 % with unit tests s", "ratio with unit tests"],
            [(DBT_WAREHOUSES.get(w, w), f"{r:,}", f"{v['full_s']:.1f}", f"{v['incremental_s']:.1f}",
              f"{v['ratio']:.0%}", f"{v['full_unit_s']:.1f}", f"{v['incremental_unit_s']:.1f}",
              f"{v['ratio_unit']:.0%}")
             for w, sizes in p["warehouses"].items() for r, v in sorted(sizes.items())],
        )  # fmt: skip
    if name == "training" and p.get("training_s") is not None:
        rows = [
            ("whole training s", fmt(p.get("training_s"), 1)),
            ("promotion gate s", fmt(p.get("gate_s"), 1)),
            ("champion", p.get("winner", "?")),
            ("champion test ROC-AUC", fmt(p.get("champion_auc"), 4)),
            ("true-probability test ROC-AUC (the limit)", fmt(p.get("true_auc"), 4)),
            ("champion / true", fmt(p.get("auc_ratio"), 4)),
            ("champion ECE", fmt(p.get("ece"), 4)),
            ("best tree vs logistic AUC", f"{fmt(p.get('best_tree_auc'), 4)} vs "
             f"{fmt(p.get('logistic_auc'), 4)}"),
            ("old system, logistic regression on the real data", f"{OLD_AUC_REAL_DATA}"),
            ("with the declared directions of risk", p.get("constrained", "—")),
            ("without them (not registered)", p.get("unconstrained", "—")),
            ("test AUC the directions cost (unconstrained - constrained)",
             fmt(p.get("direction_cost"), 4)),
        ]  # fmt: skip
        table = markdown_table(["figure", "value"], rows)
        if p.get("gate_rules"):
            table += "\n\nThe promotion gate's rules for the champion:\n\n" + p["gate_rules"]
        return table
    if name == "api" and p.get("rows"):
        out = []
        mlflow_rows = p["rows"].get("mlflow", {})
        for server, tests in p["rows"].items():
            for test, v in tests.items():
                ours = server.startswith("loanops")
                peer = mlflow_rows.get(test, {}).get("rps") if ours else None
                ratio = fmt(_div(v["rps"], peer), 1, "×") if peer else "—"
                label = API_SERVER_LABELS.get(server, server)
                out.append((label, test, f"{v['rps']:,.1f}", f"{v['p50']:.1f}", f"{v['p99']:.1f}",
                            f"{v['apps']:,.0f}", ratio))  # fmt: skip
        return markdown_table(
            ["server", "test", "req/s", "p50 ms", "p99 ms", "applications/s", "vs mlflow"], out
        )
    return ""


def write_report(
    path: Path,
    results: dict[str, Result],
    info: dict[str, str],
    quick: bool,
    ran: list[str],
    notes: list[str] | None = None,
) -> None:
    """The whole docs/benchmarks.md."""
    now = datetime.now(UTC)
    starts = [r.started for r in results.values()]
    rows = summary_rows(results)
    missed = [r[0] for r in rows if r[4] == "**NO**"]
    unmeasured = [r[0] for r in rows if r[4] == "not measured"]
    failed = [n for n, r in results.items() if r.returncode != 0 and not has_figures(r)]
    parts = [
        "# Benchmark report",
        "",
        "Written by `benchmarks/report.py` from what the benchmark scripts printed; do not edit "
        "by hand (re-run the script), except the notes at the end, which it keeps. "
        + ("**QUICK SMOKE RUN: small sizes, not the target sizes.**" if quick else ""),
        "",
        f"- date: sections ran {min(starts, default='-')} to {max(starts, default='-')} "
        f"(written {now:%Y-%m-%d %H:%M} UTC; run this time: {', '.join(ran) or 'none'})",
        f"- machine: {info['platform']}; CPU {info['cpu']}; {info['cores']} cores; "
        f"{info['memory']} memory; Python {info['python']}",
        f"- commit: {', '.join(sorted({r.commit or 'unknown' for r in results.values()}))}",
        "- the machine is shared with other engineers' jobs: figures are noisy, so each section "
        "gives its load average (1 minute, before → after) and the scripts report medians and "
        "side-by-side ratios from one run",
        *[f"- note: {note}" for note in notes or []],
        "",
        "## Summary",
        "",
        "Our AUC is measured on *generated* data (the real NBFI files are not available here), so "
        "the old system's 0.7322 on the real data is shown for context only: the comparison that "
        "matters is with the generator's true default probabilities on the same test rows, the "
        "best AUC any model can reach on this book.",
        "",
        markdown_table(["figure", "target", "measured", "peer / limit", "met?", "load avg"], rows),
        "",
    ]
    if missed:
        parts += ["**Not yet met:** " + "; ".join(missed) + ".", ""]
    else:
        parts += ["Every measured target is met.", ""]
    if unmeasured:
        parts += ["**Not measured in this report:** " + "; ".join(unmeasured) + ".", ""]
    if failed:
        parts += ["**Scripts that failed:** " + ", ".join(failed) + " (error tails below).", ""]
    parts += [
        "Not covered by this report: the wall time of `make demo` from a fresh clone "
        "and the prediction store's insert rate on Azure SQL (no Azure here).",
        "",
    ]
    cap = capacity(results)
    parts += ["## Capacity for operators", "", scaling_markdown(cap), ""]
    for section in SECTIONS:
        parts.append(section_markdown(section, results.get(section.name)))
    notes_tail = kept_notes(path)
    if notes_tail:
        parts.append(notes_tail)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts).rstrip() + "\n")


def kept_notes(path: Path) -> str:
    """The hand-written notes that end an earlier report, from NOTES_START on ("" if none)."""
    if not path.exists():
        return ""
    text = path.read_text()
    return text[text.index(NOTES_START) :].rstrip() if NOTES_START in text else ""


def previous_results(path: Path) -> dict[str, Result]:
    """Results stored in an earlier report (to keep sections not re-run), re-parsed."""
    if not path.exists():
        return {}
    found = {}
    for m in re.finditer(rf"<!-- {re.escape(RESULT_TAG)} (\{{.*?\}}) -->", path.read_text()):
        try:
            data = json.loads(m[1])
            result = Result(**data)
        except (ValueError, TypeError):
            continue
        result.parsed = PARSERS[result.name](result.stdout)
        found[result.name] = result
    return found


def update_operations(cap: dict[str, Any] | None) -> None:
    """Replace the figures block of docs/operations.md's Scaling section."""
    text = OPERATIONS.read_text()
    block = f"{SCALING_START}\n{scaling_markdown(cap)}\n{SCALING_END}"
    if SCALING_START in text and SCALING_END in text:
        head, rest = text.split(SCALING_START, 1)
        text = head + block + rest.split(SCALING_END, 1)[1]
    else:  # first time: the placeholder table that pointed here
        placeholder = re.compile(
            r"\| figure \| value \|\n\| --- \| --- \|\n(?:\|.*see docs/benchmarks\.md \|\n)+"
        )
        if not placeholder.search(text):
            print("docs/operations.md: no placeholder or markers found; left unchanged")
            return
        text = placeholder.sub(lambda _: block + "\n", text, count=1)
    OPERATIONS.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
    )  # fmt: skip
    parser.add_argument("--only", nargs="+", choices=list(BY_NAME), metavar="SECTION",
                        help=f"sections to run ({', '.join(BY_NAME)}); others kept from --out")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke check")
    parser.add_argument("--note", action="append", default=[],
                        help="a sentence for the report's header (repeatable)")  # fmt: skip
    parser.add_argument("--render-only", action="store_true",
                        help="run nothing: rewrite the report from the results stored in --out")  # fmt: skip
    parser.add_argument("--out", type=Path, help="report path (default docs/benchmarks.md)")
    parser.add_argument("--no-operations", action="store_true",
                        help="leave docs/operations.md alone")  # fmt: skip
    args = parser.parse_args()
    out = args.out or (REPO / "data" / "benchmarks-quick.md" if args.quick else REPORT)
    out = out.resolve()
    names = [] if args.render_only else (args.only or list(BY_NAME))
    results = previous_results(out) if args.only or args.render_only else {}
    info = machine()
    print(f"machine: {info}; load average {load_average()}", flush=True)

    def echo(line: str) -> None:
        print(line, flush=True)

    champion_store: Path | None = None
    try:
        for name in names:
            section = BY_NAME[name]
            run_args = list(section.quick if args.quick else section.full)
            env = dict(os.environ)
            if name == "api":
                # The same champion as the training section (trained on the 121,856 book) when it
                # ran and promoted one; otherwise bench_api.py trains a small one itself.
                uri = _get(results, "training")
                uri = uri.parsed.get("tracking_uri") if uri and "training" in names else None
                if uri and champion_exists(uri, env):
                    env["MLFLOW_TRACKING_URI"] = uri
                else:
                    run_args.append("--make-champion")
            result = run_section(section, run_args, env, echo)
            result.parsed = PARSERS[name](result.stdout)
            result.commit = info["commit"]
            if name == "training" and result.parsed.get("tracking_uri", "").startswith("sqlite:"):
                store = Path(result.parsed["tracking_uri"].removeprefix("sqlite:///")).parent
                if store.name.startswith("bench_training_"):
                    champion_store = store
            results[name] = result
            write_report(out, results, info, args.quick, names, args.note)  # survives a crash
    finally:
        if champion_store is not None:
            shutil.rmtree(champion_store, ignore_errors=True)
    write_report(out, results, info, args.quick, names, args.note)
    print(f"wrote {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    if not args.quick and not args.no_operations and out == REPORT.resolve():
        update_operations(capacity(results))
        print("updated the scaling figures in docs/operations.md")
    for row in summary_rows(results):
        print(" | ".join(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
