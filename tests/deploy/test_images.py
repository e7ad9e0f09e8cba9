"""The Dockerfiles pass hadolint and agree with the pinned requirements: the API image holds only
the serving set (no Dagster, no dbt, mlflow-skinny), at the same versions as the full product."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.deploy.conftest import REPO, run, tool

DOCKERFILES = ["Dockerfile", "Dockerfile.dagster"]
DIGEST_PINNED_BASE = re.compile(
    r"^ARG PYTHON_IMAGE=(python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64})$", re.M
)


def pins(lock: str) -> dict[str, str]:
    """name -> version of a uv-compiled lock file."""
    text = (REPO / "requirements" / lock).read_text()
    return {
        name.lower(): version
        for name, version in re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s\\]+)", text, re.M)
    }


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_hadolint_reports_nothing(dockerfile: str) -> None:
    result = run(tool("hadolint"), "--no-color", dockerfile)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\n")
    result = run(tool("hadolint"), "--no-color", str(bad))
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # `latest` tag
    assert "DL3008" in result.stdout  # unpinned apt package


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_base_pinned_by_tag_and_digest_and_non_root(dockerfile: str) -> None:
    text = (REPO / dockerfile).read_text()
    assert DIGEST_PINNED_BASE.search(text), "base image must be python:3.11.x-slim-bookworm@sha256"
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    assert froms and all(image == "${PYTHON_IMAGE}" for image in froms), froms
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users == ["10001:10001"], users
    assert "AS build" in text and "AS runtime" in text, "multi-stage build expected"


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_build_access_is_mounted_never_copied(dockerfile: str) -> None:
    """A build machine's CA bundle and apt settings reach only the steps that download, as build
    secrets: no layer keeps them, and the same file builds without them (CD on ACR)."""
    text = (REPO / dockerfile).read_text()
    instructions = re.split(r"\n(?=[A-Z]+ )", text)
    pip_steps = [step for step in instructions if "pip install" in step]
    apt_steps = [step for step in instructions if "apt-get update" in step]
    assert len(pip_steps) == 1 and len(apt_steps) == 1
    assert pip_steps[0].startswith("RUN --mount=type=secret,id=ca ")
    assert "if [ -f /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi" in pip_steps[0]
    assert "--mount=type=secret,id=apt " in apt_steps[0]
    assert "if [ -f /run/secrets/apt ]; then export APT_CONFIG=/run/secrets/apt; fi" in apt_steps[0]
    assert "PIP_CERT=" not in text.replace("export PIP_CERT=/run/secrets/ca", "")
    assert not re.search(r"^(COPY|ADD) \S*(\.crt|\.pem|apt\.conf)", text, re.M)
    # `python3` names the interpreter in the official image and in Debian's alike.
    assert not re.search(r"\bpython -m\b", text)


def test_same_base_image_everywhere() -> None:
    bases = {DIGEST_PINNED_BASE.search((REPO / d).read_text()).group(1) for d in DOCKERFILES}
    assert len(bases) == 1
    ci = (REPO / ".github" / "workflows" / "ci.yml").read_text()
    assert f"image: {bases.pop()}" in ci


def test_api_image_copies_only_the_serving_code_and_lock() -> None:
    text = (REPO / "Dockerfile").read_text()
    copied = re.findall(r"^COPY (?!--from)(\S+)", text, re.M)
    assert copied == ["requirements/serving-lock.txt", "loanops/", "ml/", "serving/"]
    assert "--require-hashes" in text
    assert 'CMD ["gunicorn", "-c", "serving/gunicorn_conf.py", "serving.app:create_app()"]' in text
    assert "EXPOSE 8080" in text


def test_serving_lock_has_no_orchestration_and_only_skinny_mlflow() -> None:
    serving = pins("serving-lock.txt")
    assert not [name for name in serving if name.startswith(("dagster", "dbt-"))]
    assert "mlflow" not in serving and "mlflow-skinny" in serving
    for needed in (
        "flask",
        "gunicorn",
        "pydantic",
        "prometheus-client",
        "sqlalchemy",
        "alembic",
        "psycopg",
        "psycopg-binary",
        "pyodbc",
        "mssql-python-odbc",
        "pandas",
        "numpy",
        "scikit-learn",
        "lightgbm",
        "xgboost-cpu",
        "click",
    ):
        assert needed in serving, needed
    # Hashed, so `pip install --require-hashes` in the Dockerfile accepts it: every pin has one.
    text = (REPO / "requirements" / "serving-lock.txt").read_text()
    hashed = re.findall(r"^([A-Za-z0-9_.\-]+)==\S+ \\\n    --hash=sha256:[0-9a-f]{64}", text, re.M)
    assert len(hashed) == len(serving)


def test_serving_versions_match_the_product_lock() -> None:
    serving, product = pins("serving-lock.txt"), pins("lock.txt")
    shared = serving.keys() & product.keys()
    assert len(shared) > 40
    differing = {
        name: (serving[name], product[name]) for name in shared if serving[name] != product[name]
    }
    assert differing == {}
    assert serving["mlflow-skinny"] == product["mlflow"]


def test_dagster_image_pins_follow_the_locks() -> None:
    text = (REPO / "Dockerfile.dagster").read_text()
    args = dict(re.findall(r"^ARG ([A-Z_]+)=(\S+)$", text, re.M))
    product, serving = pins("lock.txt"), pins("serving-lock.txt")
    # dagster 1.N.x ships its libraries as 0.(N+16).x, released together with dagster-dbt.
    assert args["DAGSTER_LIBRARIES_VERSION"] == product["dagster-dbt"]
    assert args["AZURE_IDENTITY_VERSION"] == serving["azure-identity"]
    assert args["AZUREML_MLFLOW_VERSION"] == serving["azureml-mlflow"]
    assert "COPY requirements/lock.txt" in text


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "data", "tests", "**/__pycache__", ".env"} <= ignored
    for dockerfile in DOCKERFILES:
        for source in re.findall(
            r"^COPY (?!--from)(.+) \S+$", (REPO / dockerfile).read_text(), re.M
        ):
            for path in source.split():
                assert path.rstrip("/") not in ignored, f"{dockerfile} copies ignored {path}"
                assert (REPO / path).exists(), f"{dockerfile} copies missing {path}"


def test_api_writes_only_under_tmp() -> None:
    """The root filesystem is read-only in k8s (test_manifests): the data folder, where gunicorn's
    config puts the Prometheus multiprocess files, must be on the /tmp emptyDir."""
    env = dict(
        re.findall(
            r"^\s+(?:ENV )?([A-Z_]+)=(\S+?)(?: \\)?$", (REPO / "Dockerfile").read_text(), re.M
        )
    )
    assert env["LOANOPS_DATA_DIR"].startswith("/tmp/")
    assert env["HOME"] == "/tmp"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
