"""DAGSTER_HOME under the data folder, with an instance config written by code (not by hand)."""

from __future__ import annotations

from pathlib import Path

import yaml

from loanops.settings import Settings

# Telemetry off; runs queue one at a time because the default warehouse is one DuckDB file that
# only one process may write (a landing-file run and the daily run must not overlap).
INSTANCE_CONFIG = {
    "telemetry": {"enabled": False},
    "concurrency": {"runs": {"max_concurrent_runs": 1}},
}


def dagster_home(settings: Settings) -> Path:
    """The folder DAGSTER_HOME should name: <data folder>/dagster."""
    return settings.data_dir / "dagster"


def ensure_home(settings: Settings) -> Path:
    """Create DAGSTER_HOME and its dagster.yaml if missing or different; return the folder."""
    home = dagster_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    text = "# Written by orchestration/home.py; edit it there.\n" + yaml.safe_dump(
        INSTANCE_CONFIG, sort_keys=False
    )
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return home
