"""`dagster definitions validate` accepts the code location that workspace.yaml names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from loanops.settings import REPO_ROOT

DAGSTER = str(Path(sys.executable).parent / "dagster")


def test_definitions_validate(orchestration_env, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    done = subprocess.run(
        [DAGSTER, "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "loanops" in done.stdout + done.stderr
