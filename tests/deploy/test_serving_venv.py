"""A fresh venv with only the serving requirements (requirements/serving-lock.txt, as the API
image installs them) runs the serving tests: the image cannot be missing a dependency."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from tests.deploy.conftest import REPO, run


def test_serving_venv_has_no_orchestration(serving_venv: Path) -> None:
    probe = (
        "import importlib.metadata as m\n"
        "names = {d.metadata['Name'].lower() for d in m.distributions()}\n"
        "print(sorted(n for n in names if n.startswith(('dagster', 'dbt-', 'duckdb'))"
        " or n == 'mlflow'))\n"
        "print('mlflow-skinny' in names)"
    )
    result = run(str(serving_venv / "bin" / "python"), "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "True"]


def test_serving_tests_pass_in_the_serving_venv(serving_venv: Path) -> None:
    # Like the image: the repository's packages on PYTHONPATH, the venv's tools first on PATH.
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}
    }
    # System tools stay reachable (runuser starts the test PostgreSQL as its own user).
    system = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
    env["PATH"] = f"{serving_venv / 'bin'}:{system}"
    env["PYTHONPATH"] = str(REPO)
    # The champion is trained by the full product (ml.train needs matplotlib and full mlflow,
    # which the image rightly lacks): tests/serving/champion.py runs it with this interpreter
    # and the serving venv only loads the registered model, as the API does.
    env["LOANOPS_TRAIN_PYTHON"] = sys.executable
    result = run(
        str(serving_venv / "bin" / "python"),
        "-m",
        "pytest",
        "tests/serving",
        "-q",
        "-p",
        "no:cacheprovider",
        "--basetemp",
        str(REPO / "data" / "pytest-serving-venv"),
        env=env,
        timeout=1800,
    )
    tail = "\n".join(result.stdout.splitlines()[-40:]) + result.stderr[-2000:]
    assert result.returncode == 0, tail
    summary = result.stdout.strip().splitlines()[-1]
    assert (
        re.search(r"\d+ passed", summary) and "failed" not in summary and "error" not in summary
    ), summary
