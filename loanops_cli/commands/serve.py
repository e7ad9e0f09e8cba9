"""`loanops serve`: run the scoring API under gunicorn (serving/gunicorn_conf.py)."""

from __future__ import annotations

import os
import sys

import click

from loanops.settings import REPO_ROOT


@click.command("serve")
@click.option(
    "--port", type=int, default=lambda: int(os.environ.get("PORT", "8080")), show_default="8080"
)
@click.option("--workers", type=int, default=None, help="Worker processes (WEB_CONCURRENCY).")
def command(port: int, workers: int | None) -> None:
    """Serve the scoring API (gunicorn, WEB_CONCURRENCY workers, default 2)."""
    env = dict(os.environ, PORT=str(port))
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    conf = REPO_ROOT / "serving" / "gunicorn_conf.py"
    args = [sys.executable, "-m", "gunicorn", "-c", str(conf)]
    os.execve(sys.executable, args, env)
