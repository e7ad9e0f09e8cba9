"""`loanops generate`: write a synthetic NBFI loan book (or held-back outcomes) as CSV."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from loanops import settings
from loanops.generator import LAYOUTS, SHIFTS, write_book, write_late_outcomes


@click.command("generate")
@click.option("--rows", type=click.IntRange(min=1), help="Number of loan applications to generate.")
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Random seed; the same seed, rows and first id give byte-identical files.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Landing folder to write to. Default: the landing folder from the settings "
    "(LOANOPS_LANDING_DIR, else $LOANOPS_DATA_DIR/landing).",
)
@click.option(
    "--layout",
    type=click.Choice(LAYOUTS),
    default="split",
    show_default=True,
    help="split: applications_NAME.csv (no Default) + outcomes_NAME.csv (ID, Default); "
    "published: one NAME.csv with all 40 columns, as the public data set.",
)
@click.option(
    "--first-id",
    type=click.IntRange(min=1),
    help="ID of the first application. Default: one past the highest ID already generated "
    "(truth records) or present in the landing folder's CSV files, else 12100001.",
)
@click.option(
    "--name", help="Batch name used in the file names. Default: FIRSTID_LASTID.", default=None
)
@click.option(
    "--outcome-share",
    type=click.FloatRange(0.0, 1.0),
    default=1.0,
    show_default=True,
    help="Share of outcomes landed now (split layout); the rest, the latest applications, "
    "are held back in the truth folder for --late-outcomes.",
)
@click.option(
    "--truth-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the true probabilities and held-back outcomes go (never read by the "
    "pipeline). Default: a truth/ folder beside the landing folder.",
)
@click.option(
    "--shift",
    type=click.Choice(SHIFTS),
    help="Draw a shifted population for drift rehearsal: higher incomes, younger "
    "applicants, mostly small regions (see docs/generator.md).",
)
@click.option(
    "--late-outcomes",
    "late_name",
    metavar="NAME",
    help="Instead of generating, land the outcomes held back from batch NAME as "
    "outcomes_NAME_late.csv.",
)
@click.option("--overwrite", is_flag=True, help="Replace files of a batch with the same name.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def command(
    rows: int | None,
    seed: int,
    out_dir: Path | None,
    layout: str,
    first_id: int | None,
    name: str | None,
    outcome_share: float,
    truth_dir: Path | None,
    shift: str | None,
    late_name: str | None,
    overwrite: bool,
    quiet: bool,
) -> None:
    """Generate a loan book shaped like the public NBFI data set, with its true default risk.

    A first batch: `loanops generate --rows 121856 --seed 1`. A batch whose latest 40 %
    outcomes arrive later: `--outcome-share 0.6`, then `loanops generate --late-outcomes
    NAME` with the batch name it prints.
    """
    if late_name is None and rows is None:
        raise click.UsageError("--rows is required (or use --late-outcomes NAME)")
    if late_name is not None and rows is not None:
        raise click.UsageError("--late-outcomes writes outcomes only; drop --rows")
    try:
        out = out_dir if out_dir is not None else settings.load().landing_dir
        if late_name is not None:
            path = write_late_outcomes(out, late_name, truth_dir=truth_dir, overwrite=overwrite)
            click.echo(f"wrote {path}")
            return
        assert rows is not None
        written = write_book(
            out,
            rows,
            seed,
            first_id=first_id,
            layout=layout,
            name=name,
            outcome_share=outcome_share,
            truth_dir=truth_dir,
            shift=shift,
            overwrite=overwrite,
            progress=not quiet and rows >= 50_000,
        )
    except (ValueError, OSError) as error:  # bad combination, existing files, disk problems
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    click.echo(
        f"wrote {written.rows:,} applications (ids {written.first_id}-{written.last_id}, "
        f"default rate {written.default_rate:.2%}) as batch {written.name}"
    )
    for path in written.files:
        click.echo(f"  {path}")
    click.echo(f"  truth: {written.truth}")
    if written.pending_outcomes is not None:
        click.echo(
            f"  held back: {written.pending_outcomes} "
            f"(land with: loanops generate --late-outcomes {written.name})"
        )
