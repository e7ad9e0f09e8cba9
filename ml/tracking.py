"""Point MLflow at the tracking store and registry of the settings (MLFLOW_TRACKING_URI wins)."""

from __future__ import annotations

import subprocess
from urllib.parse import urlparse

import mlflow

from loanops.settings import REPO_ROOT, Settings

EXPERIMENT = "loan-default"


def configure(settings: Settings) -> str:
    """Set the tracking and registry URI and the experiment; return the experiment id."""
    uri = settings.mlflow_tracking_uri
    scheme = urlparse(uri).scheme
    local = scheme in ("sqlite", "file", "")
    if scheme == "sqlite":
        # The default store lives under the data folder, which may not exist yet.
        db = uri.removeprefix("sqlite:///")
        if db and db != ":memory:":
            from pathlib import Path

            Path(db).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    experiment = mlflow.get_experiment_by_name(EXPERIMENT)
    if experiment is not None:
        mlflow.set_experiment(experiment_id=experiment.experiment_id)
        return experiment.experiment_id
    # A local store would otherwise put artifacts in ./mlruns of whatever folder we run from.
    location = settings.mlflow_artifact_root.as_uri() if local else None
    if local:
        settings.mlflow_artifact_root.mkdir(parents=True, exist_ok=True)
    experiment_id = mlflow.create_experiment(EXPERIMENT, artifact_location=location)
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def git_commit() -> str:
    """The repository's HEAD commit ('+dirty' when files differ), or 'unknown'."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")
