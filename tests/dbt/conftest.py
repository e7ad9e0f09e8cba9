"""Run the real dbt project (a subprocess per command) against throw-away warehouses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from loanops.settings import REPO_ROOT

DBT = str(Path(sys.executable).parent / "dbt")
# LOANOPS_DBT_PROJECT_DIR runs the tests against a copy of the project (dbt_project.yml,
# dbt_project/ and profiles/), e.g. while a model in the shared checkout is half-written.
PROJECT_DIR = Path(os.environ.get("LOANOPS_DBT_PROJECT_DIR", REPO_ROOT))
PROJECT_ARGS = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR / "profiles")]


@dataclass
class DbtRun:
    """One finished dbt command: its exit code, output and run_results.json."""

    returncode: int
    output: str
    results: list[dict[str, Any]] = field(default_factory=list)
    invocation_id: str = ""

    def result(self, unique_id_suffix: str) -> dict[str, Any]:
        """The run result of the node whose unique id ends with the given text."""
        return next(r for r in self.results if r["unique_id"].endswith(unique_id_suffix))


@dataclass
class DbtProject:
    """The repository's dbt project pointed at one warehouse by environment variables."""

    env: dict[str, str]
    target_path: Path

    def run(self, *args: str, check: bool = True) -> DbtRun:
        """Run `dbt <args>` from the repository root; fail the test with dbt's output if asked."""
        done = subprocess.run(
            [DBT, *args, *PROJECT_ARGS],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )
        results_file = self.target_path / "run_results.json"
        payload = json.loads(results_file.read_text()) if results_file.exists() else {}
        run = DbtRun(
            done.returncode,
            done.stdout + done.stderr,
            payload.get("results", []),
            payload.get("metadata", {}).get("invocation_id", ""),
        )
        if check and done.returncode != 0:
            pytest.fail(f"dbt {' '.join(args)} failed:\n{run.output[-6000:]}")
        return run


def make_project(tmp: Path, extra_env: dict[str, str]) -> DbtProject:
    """A DbtProject whose build output and logs stay under `tmp`."""
    target_path = tmp / "target"
    env = {
        **os.environ,
        "LOANOPS_DATA_DIR": str(tmp / "data"),
        "DBT_TARGET_PATH": str(target_path),
        "DBT_LOG_PATH": str(tmp / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **extra_env,
    }
    return DbtProject(env, target_path)
