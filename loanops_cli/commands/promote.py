"""`loanops promote`: the promotion gate between `challenger` and `champion`."""

from __future__ import annotations

import sys

import click

from loanops import settings as settings_module


@click.command("promote")
@click.option(
    "--tolerance",
    type=float,
    default=0.005,
    show_default=True,
    help="Test ROC-AUC the challenger may lose against the champion.",
)
@click.option(
    "--floor",
    type=float,
    default=0.60,
    show_default=True,
    help="Lowest test ROC-AUC a champion may have.",
)
@click.option("--strict", is_flag=True, help="Exit 3 when the gate rejects the challenger.")
def command(tolerance: float, floor: float, strict: bool) -> None:  # fmt: skip
    """Compare challenger with champion on the same test rows; move `champion` if it passes.

    Exit codes: 0 the gate decided (promoted or kept the champion), 1 it could not run
    (no challenger, no gold data), 3 rejected with --strict.
    """
    # Imported here: scikit-learn and MLflow take seconds to load, `loanops --help` should not.
    from ml import dataset, registry, tracking

    settings = settings_module.load()
    try:
        tracking.configure(settings)
        decision = registry.promote(dataset.load(settings), tolerance, floor)
    except (ValueError, FileNotFoundError, LookupError) as error:
        raise click.ClickException(str(error)) from error
    champion_auc = "-" if decision.champion_auc is None else f"{decision.champion_auc:.4f}"
    click.echo(
        f"challenger v{decision.challenger_version}: test ROC-AUC {decision.challenger_auc:.4f}"
    )
    click.echo(f"champion   v{decision.champion_version or '-'}: test ROC-AUC {champion_auc}")
    verdict = "PROMOTED to champion" if decision.promoted else "NOT promoted"
    click.echo(f"{verdict}: {decision.reason}")
    if (
        strict
        and not decision.promoted
        and decision.champion_version != decision.challenger_version
    ):
        sys.exit(3)
