"""`loanops ingest [LOCATION]`: land a folder's or Blob container's CSV files into raw tables."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from loanops import settings as settings_module
from loanops.ingest import FileResult, LandingError, LocalLanding, ingest_landing
from loanops.ingest.engine import Progress
from loanops.ingest.landing import open_landing, parse_landing
from loanops.ingest.loadlog import REJECTED

_PROGRESS_MIN_BYTES = 32 << 20  # smaller files land in a second or two: no bar needed


@click.command("ingest")
@click.argument("location", required=False)
@click.option(
    "--retry-rejected",
    is_flag=True,
    help="Try again files whose exact content was rejected before (by default they are skipped).",
)
def command(location: str | None, retry_rejected: bool) -> None:
    """Land every *.csv directly in LOCATION into the raw tables, each file exactly once.

    LOCATION is a folder or a Blob / ADLS container, abfs://CONTAINER[/prefix] (also az://),
    read with AZURE_STORAGE_CONNECTION_STRING, else signing in with Entra ID. It defaults to
    LOANOPS_LANDING_URL, else the landing folder (LOANOPS_LANDING_DIR, else
    $LOANOPS_DATA_DIR/landing). Sub-folders and other files are ignored. The warehouse is
    the one LOANOPS_TARGET names (duckdb, postgres or azure_sql).

    A file is recognised by its header: applications (ID and the 38 inputs), outcomes
    (ID, Default) or the published file with all 40 columns (landed as both). Files already
    in raw.load_log with the same sha256 (or blob name and etag) are skipped. A file with
    missing or unknown columns, a wrong delimiter, no data rows or an unreadable line is
    rejected whole: none of its rows land and raw.load_log records why.

    Exit status: 0 every file loaded or skipped, 1 some file was rejected (the others still
    loaded), 2 wrong usage or settings.
    """
    try:
        settings = settings_module.load()
        landing = parse_landing(location) if location else open_landing(settings)
        if isinstance(landing, LocalLanding) and not landing.exists():
            raise LandingError(
                f"landing folder {landing.folder} does not exist; pass LOCATION or create it"
            )
        landing.entries()  # a missing container or a failed sign-in is a settings problem
    except (ValueError, LandingError) as error:
        raise click.UsageError(str(error)) from error
    bars: list[click.progressbar[int]] = []  # the open bar of the file being landed

    def progress_for(path: Path) -> Progress | None:
        """A progress bar for large files on a terminal."""
        if path.stat().st_size < _PROGRESS_MIN_BYTES or not sys.stdout.isatty():
            return None
        bar = click.progressbar(length=1000, label=path.name)
        bars.append(bar.__enter__())
        return _bar_updater(bar)

    def report(result: FileResult) -> None:
        """One line per file (rejections on stderr, so scripts can tell them apart)."""
        while bars:
            bars.pop().__exit__(None, None, None)
        click.echo(result.message, err=result.status == REJECTED)

    try:
        results = ingest_landing(
            settings,
            landing,
            retry_rejected=retry_rejected,
            on_result=report,
            progress_for=progress_for,
        )
    except Exception as error:  # e.g. a warehouse we cannot reach: the operator's to fix
        raise click.ClickException(f"ingest into {settings.target} failed: {error}") from error
    if not results:
        click.echo(f"no *.csv files in {landing.url}")
    if any(r.status == REJECTED for r in results):
        sys.exit(1)


def _bar_updater(bar: click.progressbar[int]) -> Progress:
    """A Progress callback that moves a 1000-step click bar forward (never back)."""

    def update(fraction: float) -> None:
        step = int(fraction * 1000) - bar.pos
        if step > 0:
            bar.update(step)

    return update
