"""Reliability fixtures: the serving suite's real champion and gunicorn servers, reused."""

from __future__ import annotations

# Imported so that pytest registers them for this folder too (a trained champion in its own
# MLflow store; `loanops serve` subprocesses on free ports, stopped after each test).
from tests.serving.conftest import champion, gunicorn  # noqa: F401
