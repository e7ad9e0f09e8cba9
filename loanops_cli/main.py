"""`loanops`: the operator's entry point. Each sub-command lives in loanops_cli/commands/.

Exit codes: 0 success, 1 the work failed (a rejected file, a failed build),
2 the command was used wrongly (click's usage errors).
"""

from __future__ import annotations

import click

from loanops_cli.commands import (
    features,
    generate,
    ingest,
    models,
    pipeline,
    promote,
    score,
    serve,
    train,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="loanops")
def main() -> None:
    """Loan default prediction: generate a loan book, ingest it, train, serve.

    Settings come from the environment (LOANOPS_DATA_DIR, LOANOPS_TARGET, ...); see README.md.
    """


main.add_command(generate.command)
main.add_command(ingest.command)
main.add_command(features.command)
main.add_command(train.command)
main.add_command(promote.command)
main.add_command(models.command)
main.add_command(score.command)
main.add_command(serve.command)
main.add_command(pipeline.command)
