"""`loanops pipeline`: materialise the whole Dagster asset graph in-process (or open its UI)."""

from __future__ import annotations

import os
import sys

import click

from loanops import settings as settings_module
from loanops.settings import REPO_ROOT


@click.command("pipeline")
@click.option(
    "--budget-seconds", type=float, help="Training search time (default: `loanops train`'s)."
)
@click.option("--max-trials", type=int, help="Most trials per model family.")
@click.option("--families", help="Comma-separated model families to train.")
@click.option(
    "--wait-seconds",
    type=float,
    help="How long the deployment waits for a running API to serve the new champion.",
)
@click.option(
    "--ui", is_flag=True, help="Instead: start the Dagster UI (`dagster dev`) on this data folder."
)
@click.option("--port", type=int, default=3000, show_default=True, help="UI port (with --ui).")
def command(
    budget_seconds: float | None,
    max_trials: int | None,
    families: str | None,
    wait_seconds: float | None,
    ui: bool,
    port: int,
) -> None:
    """Land, build, test, train, gate, score and deploy: every asset and check, in this process.

    Works on the current data folder (LOANOPS_DATA_DIR); runs are recorded in DAGSTER_HOME
    (default $LOANOPS_DATA_DIR/dagster, created with telemetry off), so the UI shows them.

    Exit codes: 0 every step succeeded, 1 a step or a blocking check failed.
    """
    from orchestration.home import ensure_home

    settings = settings_module.load()
    home = ensure_home(settings)
    # An explicitly set DAGSTER_HOME wins (an operator's shared instance); else the data folder's.
    os.environ.setdefault("DAGSTER_HOME", str(home))
    if ui:
        dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
        click.echo(
            f"Dagster UI on http://127.0.0.1:{port} (DAGSTER_HOME={os.environ['DAGSTER_HOME']})"
        )
        os.chdir(REPO_ROOT)  # workspace.yaml at the repository root names the code location
        os.execv(dagster, [dagster, "dev", "--host", "127.0.0.1", "--port", str(port)])
    # Imported here: Dagster and dbt take seconds to load, `loanops --help` should not.
    import dagster as dg

    from orchestration.pipeline import run_pipeline, training_config

    config = training_config(
        budget_seconds,
        max_trials,
        [f.strip() for f in families.split(",") if f.strip()] if families else None,
        wait_seconds,
    )
    with dg.DagsterInstance.get() as instance:
        run = run_pipeline(instance, config, echo=click.echo)
    click.echo(run.summary())
    if not run.success:
        sys.exit(1)
