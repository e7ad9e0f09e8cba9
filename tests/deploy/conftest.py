"""Shared fixtures for the deployment checks: the repository, kubectl, the rendered AKS overlay
and a virtual environment holding only the serving requirements (what the API image installs).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SERVING_LOCK = REPO / "requirements" / "serving-lock.txt"
DEV_LOCK = REPO / "requirements" / "dev-lock.txt"
# What the serving venv gets on top of the image's set: the test tools the serving tests use
# (pytest, pytest-timeout, schemathesis, playwright) and the dependencies of theirs that the
# image does not already have, at their dev pins. Nothing else (no ml.train, no matplotlib).
TEST_RUNNER = (
    "pytest", "pytest-timeout", "pluggy", "iniconfig", "pygments",
    "schemathesis", "hypothesis", "hypothesis-graphql", "graphql-core", "harfile",
    "jsonschema-rs", "pyrate-limiter", "rich", "markdown-it-py", "mdurl", "sortedcontainers",
    "playwright", "greenlet",
)  # fmt: skip


def tool(name: str) -> str:
    """The project's pinned copy of a command-line tool (.venv/bin), else the one on PATH."""
    pinned = VENV_BIN / name
    if pinned.exists():
        return str(pinned)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found: run `make install` (requirements/dev-lock.txt has it)")
    return found


def run(*args: str, cwd: Path = REPO, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a command and capture its output as text (never raises on a non-zero exit)."""
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, **kwargs)


def render(path: str) -> list[dict]:
    """`kubectl kustomize <path>` as a list of objects; fails the test if kustomize fails."""
    result = run(tool("kubectl"), "kustomize", path)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="session")
def aks_objects() -> list[dict]:
    """The AKS overlay exactly as CD applies it (before the image digest is pinned)."""
    return render("k8s/overlays/aks")


@pytest.fixture(scope="session")
def base_objects() -> list[dict]:
    """The cloud-neutral kustomize base."""
    return render("k8s/base")


def one(objects: list[dict], kind: str, name: str | None = None) -> dict:
    """The single object of a kind (and name); fails if there is none or more than one."""
    found = [
        obj
        for obj in objects
        if obj["kind"] == kind and (name is None or obj["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def test_runner_pins() -> list[str]:
    """`name==version` of the test runner packages, from requirements/dev-lock.txt."""
    lines = DEV_LOCK.read_text().splitlines()
    found = [line for line in lines if line.split("==")[0] in TEST_RUNNER]
    assert len(found) == len(TEST_RUNNER), f"{TEST_RUNNER} not all pinned in {DEV_LOCK}"
    return found


@pytest.fixture(scope="session")
def serving_venv() -> Path:
    """A venv with only requirements/serving-lock.txt, installed the way the Dockerfile does it
    (plus pytest, to run the serving tests in it).

    Cached under data/venvs/ by the hash of what goes in, so it is built once per lock change.
    """
    runner = test_runner_pins()
    digest = hashlib.sha256(SERVING_LOCK.read_bytes() + "\n".join(runner).encode()).hexdigest()[:16]
    venv = REPO / "data" / "venvs" / f"serving-{digest}"
    if (venv / ".complete").exists():
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    created = run("python3.11", "-m", "venv", str(venv))
    assert created.returncode == 0, created.stderr
    pip = str(venv / "bin" / "pip")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    image_set = ("--no-deps", "--require-hashes", "--only-binary=:all:", "-r", str(SERVING_LOCK))
    installed = run(pip, "install", "--quiet", *image_set, env=env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    installed = run(pip, "install", "--quiet", "--no-deps", *runner, env=env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    checked = run(pip, "check", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    (venv / ".complete").write_text(digest + "\n")
    return venv
