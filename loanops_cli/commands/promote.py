"""`loanops promote`: the promotion gate between `challenger` and `champion`, or a manual move.

`--version N --reason TEXT` moves `champion` to a chosen version (a rollback) without the gate,
recorded on that version as a manual decision; plain `loanops promote` runs the gate.
"""

from __future__ import annotations

import getpass
import os
import sys

import click

from loanops import settings as settings_module


@click.command("promote")
@click.option(
    "--tolerance",
    type=float,
    default=0.005,
    show_default=True,
    help="ROC-AUC the challenger may lose against the best champion on the same rows.",
)
@click.option(
    "--floor",
    type=float,
    default=0.60,
    show_default=True,
    help="Lowest test ROC-AUC a champion may have.",
)
@click.option(
    "--max-ece",
    type=float,
    default=0.02,
    show_default=True,
    help="Highest expected calibration error a champion may have.",
)
@click.option(
    "--fairness",
    type=click.Choice(["warn", "block"]),
    default="warn",
    show_default=True,
    help="Whether an approval-rate ratio below four fifths blocks the promotion or warns.",
)
@click.option("--strict", is_flag=True, help="Exit 3 when the gate rejects the challenger.")
@click.option(
    "--version",
    "version",
    help="Make this registered version the champion without the gate (a rollback); "
    "needs --reason. `loanops models` lists the versions.",
)
@click.option("--reason", help="Why the champion moves (recorded on the version); with --version.")
def command(
    tolerance: float, floor: float, max_ece: float, fairness: str, strict: bool,
    version: str | None, reason: str | None,
) -> None:  # fmt: skip
    """Run the gate's rules on the challenger; move `champion` if every blocking one passes.

    The challenger is scored on the frozen evaluation rows against the floor, the best ROC-AUC
    any champion had on them less the tolerance, the calibration limit and the four-fifths rule
    (a warning unless --fairness block); every rule's value and verdict is printed and
    recorded on the version.

    With --version N --reason TEXT, move `champion` to version N instead, bypassing the gate:
    the version must be registered and servable, and who, when, why and the champion it
    replaces are recorded on it as a manual promotion.

    Exit codes: 0 the gate decided (promoted or kept the champion) or the manual move was
    made, 1 it could not run (no challenger, no gold data, an unknown or unservable version),
    2 --version without --reason (or the reverse), 3 rejected with --strict.
    """
    if version is not None or reason is not None:
        _manual(version, reason)
        return
    # Imported here: scikit-learn and MLflow take seconds to load, `loanops --help` should not.
    from ml import dataset, gate, registry, tracking

    settings = settings_module.load()
    try:
        rules = gate.GateSettings(floor, tolerance, max_ece, fairness)
        tracking.configure(settings)
        decision = registry.promote(dataset.load(settings), rules, settings)
    except (ValueError, FileNotFoundError, LookupError) as error:
        raise click.ClickException(str(error)) from error
    champion_auc = "-" if decision.champion_auc is None else f"{decision.champion_auc:.4f}"
    click.echo(
        f"challenger v{decision.challenger_version}: test ROC-AUC {decision.challenger_auc:.4f}"
    )
    click.echo(f"champion   v{decision.champion_version or '-'}: test ROC-AUC {champion_auc}")
    if decision.rules:
        click.echo(gate.table(decision.rules))
    verdict = "PROMOTED to champion" if decision.promoted else "NOT promoted"
    click.echo(f"{verdict}: {decision.reason}")
    if (
        strict
        and not decision.promoted
        and decision.champion_version != decision.challenger_version
    ):
        sys.exit(3)


def _manual(version: str | None, reason: str | None) -> None:
    """Move `champion` to the chosen version, recorded as a manual promotion."""
    if version is None:
        raise click.UsageError("--reason goes with --version N (the version to make champion)")
    if reason is None or not reason.strip():
        raise click.UsageError(
            "--version needs --reason TEXT: why the champion moves is recorded on the version"
        )
    from ml import registry, tracking

    try:
        tracking.configure(settings_module.load())
        done = registry.promote_version(version, reason, _operator())
    except (ValueError, LookupError) as error:
        raise click.ClickException(str(error)) from error
    if not done.moved:
        click.echo(f"version {done.version} already is the champion: nothing moved")
        return
    click.echo(
        f"champion moved to v{done.version} (was v{done.previous_champion or '-'}), "
        f"manual promotion by {done.promoted_by} at {done.promoted_at}: {done.reason}"
    )
    click.echo("the API pods load it when they next poll the alias")


def _operator() -> str:
    """Who runs the command: LOANOPS_OPERATOR when set (CI, a shared account), else the login."""
    named = os.environ.get("LOANOPS_OPERATOR", "").strip()
    if named:
        return named
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return "unknown"
