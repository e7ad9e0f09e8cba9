"""`loanops generate` (placeholder until its module lands)."""

from __future__ import annotations

import click


@click.command("generate")
def command() -> None:
    """Not available yet."""
    raise click.ClickException("not implemented yet")
