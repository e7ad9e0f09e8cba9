"""`loanops train`: train the three families on gold, log to MLflow, register a challenger."""

from __future__ import annotations

import click

from loanops import settings as settings_module


@click.command("train")
@click.option(
    "--budget-seconds",
    type=float,
    default=150.0,
    show_default=True,
    help="Total hyper-parameter search time, shared by the families.",
)
@click.option(
    "--families",
    default="logistic,xgboost,lightgbm",
    show_default=True,
    help="Comma-separated families to train.",
)
@click.option(
    "--max-trials",
    type=int,
    default=30,
    show_default=True,
    help="Most trials per family, whatever the budget.",
)
@click.option(
    "--include-protected",
    is_flag=True,
    help="Use gender and marital status as features (off by default).",
)
@click.option(
    "--calibration",
    "calibration_method",
    type=click.Choice(["platt", "isotonic"]),
    default="platt",
    show_default=True,
)
@click.option(
    "--threshold-rule",
    type=click.Choice(["expected_loss", "approval_rate"]),
    default="expected_loss",
    show_default=True,
)
@click.option("--lgd", type=float, default=0.45, show_default=True, help="Loss given default.")
@click.option(
    "--margin",
    type=float,
    default=0.05,
    show_default=True,
    help="What a repaid loan earns, as a share of the exposure.",
)
@click.option(
    "--approval-rate",
    type=float,
    default=0.85,
    show_default=True,
    help="Target approval rate (approval_rate rule).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--threads",
    type=int,
    default=1,
    show_default=True,
    help="Threads per tree fit (1 is fastest on a busy machine).",
)
@click.option(
    "--shuffle-labels",
    is_flag=True,
    hidden=True,
    help="Train on shuffled labels: a useless model that the gate must reject.",
)
def command(
    budget_seconds: float, families: str, max_trials: int, include_protected: bool,
    calibration_method: str, threshold_rule: str, lgd: float, margin: float,
    approval_rate: float, seed: int, threads: int, shuffle_labels: bool,
) -> None:  # fmt: skip
    """Train on the gold features and register the winner as `loan-default@challenger`.

    Exit codes: 0 trained and registered, 1 the training failed (no gold data, bad settings).
    """
    # Imported here: scikit-learn and MLflow take seconds to load, `loanops --help` should not.
    from ml import threshold
    from ml.train import TrainConfig, train

    config = TrainConfig(
        families=tuple(f.strip() for f in families.split(",") if f.strip()),
        budget_seconds=budget_seconds,
        max_trials=max_trials,
        include_protected=include_protected,
        calibration=calibration_method,
        threshold=threshold.ThresholdRule(threshold_rule, lgd, margin, approval_rate),
        seed=seed,
        threads=threads,
        shuffle_labels=shuffle_labels,
    )
    settings = settings_module.load()
    try:
        config.validate()
        result = train(settings, config)
    except (ValueError, FileNotFoundError, LookupError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(result.table().to_string(index=False))
    test = result.test
    click.echo(
        f"winner {result.winner}: test ROC-AUC {test['roc_auc']:.4f}, Gini {test['gini']:.4f}, "
        f"KS {test['ks']:.4f}, ECE {test['ece']:.4f}, threshold {test['threshold']:.4f}, "
        f"approval rate {test['approval_rate']:.3f}"
    )
    click.echo(
        f"registered loan-default version {result.version} as challenger "
        f"(run {result.run_id}, {result.seconds:.0f} s, tracking {settings.mlflow_tracking_uri})"
    )
