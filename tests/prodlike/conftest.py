"""The production-shaped stack, started once for the tests in this folder and stopped after them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.prodlike.stack import REPO, Stack, read_env

# A stack of its own (folder, ports, container names), so an operator's `make prodlike` on the
# same machine is neither used nor disturbed, and the counts the tests assert start from zero.
STATE = REPO / "data" / "prodlike-test"
NAME = "loanops-prodlike-test"


@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    """A fresh stack (scripts/prodlike/up.sh), its variables in this process's environment."""
    handle = Stack(env={}, state=STATE, name=NAME)
    handle.script("down.sh", "--purge")  # leftovers of an interrupted session
    started = time.perf_counter()
    try:
        print(handle.script("up.sh", timeout=2400))
        print(f"stack up in {time.perf_counter() - started:.0f} s")
        handle.env = read_env(STATE / "env")
        with pytest.MonkeyPatch.context() as patch:
            # As an operator's shell after `source data/prodlike/env`: loanops, dbt and Dagster
            # in this process read the stack's settings, and nothing of the embedded defaults.
            for name in ("LOANOPS_DUCKDB_PATH", "LOANOPS_LANDING_DIR", "LOANOPS_KUBE_CONTEXT"):
                patch.delenv(name, raising=False)
            for name, value in handle.env.items():
                patch.setenv(name, value)
            yield handle
            handle.close()
    finally:
        # Stopped, not purged: the logs under data/prodlike-test/logs explain a failure.
        handle.script("down.sh")
