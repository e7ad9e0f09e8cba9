"""Benchmark: one whole training (three families and their search) on a generated book.

Generates the book, builds its gold rows with the one feature definition (what dbt's gold model
holds), writes them to a temporary DuckDB warehouse, trains through the normal reader into a
temporary MLflow store, runs the promotion gate, and compares with the generator's true PDs.
Then trains again without the declared directions of risk (not registered): what they cost.

    .venv/bin/python benchmarks/bench_training.py [--rows 121856] [--budget-seconds 150]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd
from sklearn.metrics import roc_auc_score

from loanops.features import frame, spec
from loanops.generator import generate_book


def gold_of(raw: pd.DataFrame) -> pd.DataFrame:
    """Gold rows of raw applications (features, id, label, has_outcome)."""
    gold = frame.build(raw)
    gold.insert(0, spec.ID_NAME, raw["ID"].astype("int64").to_numpy())
    gold[spec.LABEL_NAME] = pd.to_numeric(raw["Default"]).astype("int64")
    gold["has_outcome"] = 1
    return gold


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=121_856)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--budget-seconds", type=float, default=150.0)
    parser.add_argument("--max-trials", type=int, default=30)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_training_"))
    os.environ["LOANOPS_DATA_DIR"] = str(tmp / "data")
    os.environ["LOANOPS_TARGET"] = "duckdb"
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp / 'mlflow.db'}"
    os.environ.pop("LOANOPS_DUCKDB_PATH", None)
    from loanops import settings as settings_module
    from ml import dataset, gate, registry
    from ml.split import TEST
    from ml.train import TrainConfig, train

    started = time.perf_counter()
    book = generate_book(args.rows, args.seed)
    generated = time.perf_counter()
    gold = gold_of(book.applications)
    settings = settings_module.load()
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.duckdb_path)) as con:
        con.execute("create schema gold")
        con.register("gold_frame", gold)
        con.execute(f"create table {dataset.GOLD_RELATION} as select * from gold_frame")
    prepared = time.perf_counter()

    config = TrainConfig(budget_seconds=args.budget_seconds, max_trials=args.max_trials)
    result = train(settings, config)
    trained = time.perf_counter()
    decision = registry.promote(dataset.load(settings))
    promoted = time.perf_counter()

    # The same search without the declared directions of risk: what the constraints cost.
    free = train(settings, replace(config, monotone=False, register=False))
    freed = time.perf_counter()

    data = dataset.load(settings)
    test = data.part(TEST)
    truth = book.true_pd.set_index("ID")["true_pd"]
    true_auc = roc_auc_score(test[spec.LABEL_NAME], truth.loc[test[spec.ID_NAME]].to_numpy())
    champion = result.test["roc_auc"]
    best_tree = max(f.test["roc_auc"] for f in result.families if f.family != "logistic")
    logistic = next((f.test["roc_auc"] for f in result.families if f.family == "logistic"), None)

    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"rows: {data.rows} (test {len(test)}), default rate {data.default_rate:.4f}")
    print(f"generate {generated - started:.1f} s, gold + warehouse {prepared - generated:.1f} s")
    print(f"TRAINING (3 families + search + packaging + register): {trained - prepared:.1f} s")
    print(f"promotion gate: {promoted - trained:.1f} s -> {decision.reason}")
    print("gate rules for the champion:")
    print(gate.table(decision.rules))
    print(result.table().to_string(index=False))
    print(f"true-probability test AUC: {true_auc:.4f}")
    ratio = champion / true_auc
    print(
        f"champion ({result.winner}) test AUC {champion:.4f} = {ratio:.4f} x true (target >= 0.97)"
    )
    print(f"champion ECE {result.test['ece']:.4f} (target <= 0.02)")
    for label, run in (("constrained", result), ("unconstrained", free)):
        figures = run.test
        print(
            f"directions of risk {label}: winner {run.winner} test AUC {figures['roc_auc']:.4f} "
            f"Gini {figures['gini']:.4f} KS {figures['ks']:.4f}"
        )
    cost = free.test["roc_auc"] - result.test["roc_auc"]
    print(f"directions of risk cost {cost:+.4f} test AUC (unconstrained {freed - promoted:.1f} s)")
    if logistic is not None:
        print(
            f"best tree {best_tree:.4f} vs logistic {logistic:.4f}: tree wins {best_tree > logistic}"
        )
    ok = ratio >= 0.97 and result.test["ece"] <= 0.02 and (logistic is None or best_tree > logistic)
    print(f"targets met: {ok}; training within 5 minutes: {trained - prepared <= 300}")
    print(f"MLflow store: {os.environ['MLFLOW_TRACKING_URI']}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
