"""`loanops features render`: regenerate the dbt macros from the feature specification."""

from __future__ import annotations

import sys

import click

from loanops.features import sql
from loanops.settings import REPO_ROOT


@click.group("features")
def command() -> None:
    """The one feature definition shared by dbt and the API."""


@command.command("render")
@click.option("--check", is_flag=True, help="Fail (exit 1) if the committed macros are stale.")
def render(check: bool) -> None:
    """Write dbt_project/macros/features/generated_features.sql from loanops/features/spec.py."""
    if check:
        if not sql.is_current(REPO_ROOT):
            click.echo(f"{sql.GENERATED_PATH} is stale: run `loanops features render`", err=True)
            sys.exit(1)
        click.echo(f"{sql.GENERATED_PATH} is current")
        return
    click.echo(f"wrote {sql.write(REPO_ROOT)}")
