"""`loanops models`: the registered versions of the model, their aliases, gate and metrics."""

from __future__ import annotations

import json
from typing import Any

import click

from loanops import settings as settings_module

# (column, the training run's metric, or the version tag of that name when the run lacks it)
_METRICS = (
    ("test_auc", "test_roc_auc"), ("gini", "test_gini"), ("ks", "test_ks"), ("ece", "test_ece"),
)  # fmt: skip


def _number(value: Any) -> str:
    """A metric as four decimals, '-' when it was not recorded."""
    try:
        return f"{float(value):.4f}"
    except (TypeError, ValueError):
        return "-"


def rows(summaries: list[Any]) -> list[dict[str, str]]:
    """One printable row per version (the `models` table and its --json form)."""
    out = []
    for s in summaries:
        tags, metrics = s.tags, s.metrics
        manual = tags.get("promotion") == "manual"
        row = {
            "version": s.version,
            "aliases": ",".join(s.aliases) or "-",
            "registered": s.created_at.strftime("%Y-%m-%d %H:%M"),
            "family": tags.get("family", "-"),
        }
        for column, key in _METRICS:
            row[column] = _number(metrics.get(key, tags.get(key)))
        row["gate"] = tags.get("gate_decision", "-")
        row["policy"] = tags.get("decision_policy_version", "-")
        gate_promoted = row["gate"] == "promoted"
        row["promotion"] = "manual" if manual else ("gate" if gate_promoted else "-")
        row["note"] = (
            f"{tags.get('promoted_at', '?')} by {tags.get('promoted_by', '?')} "
            f"(was v{tags.get('previous_champion') or '-'}): {tags.get('promotion_reason', '')}"
            if manual
            else tags.get("gate_reason", "")
        )
        out.append(row)
    return out


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print the versions as JSON lines.")
def command(as_json: bool) -> None:
    """List the registered versions of `loan-default`: aliases, gate verdicts, test metrics.

    Exit codes: 0 listed (also when none is registered), 1 the registry cannot be read.
    """
    # Imported here: MLflow takes seconds to load, `loanops --help` should not.
    from ml import registry, tracking

    settings = settings_module.load()
    try:
        tracking.configure(settings)
        summaries = registry.list_versions()
    except Exception as error:  # the registry's own errors, with the store's message
        raise click.ClickException(f"the model registry cannot be read: {error}") from error
    table = rows(summaries)
    if as_json:
        for row in table:
            click.echo(json.dumps(row))
        return
    if not table:
        click.echo(f"no version of {registry.MODEL_NAME} is registered yet: run `loanops train`")
        return
    widths = {k: max(len(k), *(len(r[k]) for r in table)) for k in table[0]}
    click.echo("  ".join(k.ljust(w) for k, w in widths.items()).rstrip())
    for row in table:
        click.echo("  ".join(row[k].ljust(w) for k, w in widths.items()).rstrip())
