"""A markdown model card: data, metrics, fairness, threshold rule and limitations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from loanops.points import Scale


def _table(frame: pd.DataFrame) -> str:
    """A small markdown table (no extra dependency)."""
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = [
        "| " + " | ".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *rows])


def _policy(policy: Mapping[str, Any]) -> str:
    """The policy's rules in words."""
    required = ", ".join(f"`{n}`" for n in policy["required_fields"]) or "none"
    important = ", ".join(f"`{n}`" for n in policy["important_features"]) or "none"
    low = max(0.0, policy["threshold"] - policy["grey_zone"])
    high = min(1.0, policy["threshold"] + policy["grey_zone"])
    return "\n".join([
        f"- Refer when a required field is missing (after cleaning): {required}.",
        f"- Refer when fewer than {policy['minimum_important_share']:.0%} of the model's most "
        f"important features are present: {important}.",
        f"- Refer when PD is in the grey zone [{low:.4f}, {high:.4f}); otherwise decline when "
        f"PD >= {policy['threshold']:.4f}, approve below.",
        "- The policy is packaged with this version, tagged on it (`decision_policy`) and "
        "stored with every decision.",
    ])  # fmt: skip


def _directions(directions: Mapping[str, int], excluded: list[str]) -> str:
    """The declared directions of risk and how training kept them."""
    if not directions:
        return "- None enforced: a run that measures what the directions cost, not for lending."
    lines = [
        f"- `{name}`: higher means {'more' if sign > 0 else 'less'} risk"
        for name, sign in directions.items()
    ]
    lines.append(
        "- Enforced in training: monotone constraints on the trees, coefficient signs checked "
        "on the logistic model; calibration is increasing, so the PD keeps the directions and "
        "reason codes cite these features only on their risky side."
    )
    if excluded:
        lines.append(f"- Families dropped for breaking a direction: {', '.join(excluded)}.")
    return "\n".join(lines)


def render(
    *,
    winner: str,
    facts: Mapping[str, object],
    families: pd.DataFrame,
    test_metrics: Mapping[str, float],
    threshold_rule: str,
    fairness: pd.DataFrame,
    features: list[str],
    include_protected: bool,
    git_commit: str,
    policy: Mapping[str, Any],
    bands: pd.DataFrame,
    scale: Scale,
    directions: Mapping[str, int],
    excluded: list[str],
) -> str:
    """The model card text."""
    metrics = pd.DataFrame(
        [{"metric": key, "value": float(value)} for key, value in test_metrics.items()]
    )
    protected = "included (setting)" if include_protected else "excluded (fairness report only)"
    return f"""# Model card: loan-default ({winner})

## What it does
Predicts the probability that a loan application defaults (PD), calibrated on the validation
split, and decides under the decision policy below: approve, refer to a person, or decline (PD
at or above the threshold; class 1). Each prediction carries the top factors that raised the
risk, and each referral says why it was referred.

## Data
- Relation read: `{facts.get("data_relation")}` on target `{facts.get("data_target")}`
- Labelled rows: {facts.get("data_rows")} (train {facts.get("data_rows_train")}, validation
  {facts.get("data_rows_validation")}, test {facts.get("data_rows_test")}); default rate
  {facts.get("data_default_rate")}
- Split: sha256 of the application id, so a row's split never changes as the book grows.
- Features ({len(features)}): {", ".join(features)}
- Gender and marital status: {protected}
- Code: git commit `{git_commit}`

## Directions of risk
{_directions(directions, excluded)}

## Candidates (fitted on train, chosen on validation ROC-AUC, reported on test)
{_table(families)}

## Winner on the test split
{_table(metrics)}

## Default rate per PD band (test split)
Ten groups of equal size, band 1 the lowest PD. Points: {scale.base_points:g} at odds
{scale.base_odds:g}:1, {scale.pdo:g} points to double the odds (a higher score is safer).

{_table(bands)}

## Decision threshold
{threshold_rule}

## Decision policy (version `{policy["version"]}`)
{_policy(policy)}

## Fairness (test split, at the threshold)
Approval-rate ratio is a group's approval rate over the best-approved group of the same
attribute; the four-fifths rule asks for at least 0.8.

{_table(fairness)}

## Limitations
- Trained on the lender's own approved book: applicants declined in the past have no outcome,
  so PDs for profiles unlike past approvals are extrapolations.
- Calibrated on the validation split of this book; recalibrate when the default rate moves
  (the monitoring models watch score drift and, once outcomes land, performance).
- Reason codes explain the model's log-odds, not causes; they are relative to the average
  (logistic) or expected (trees) applicant of the training split.
- Excluding protected attributes does not remove proxies for them; read the fairness table.
"""
