"""The images built by scripts/prodlike/images.sh from the repository's Dockerfiles (on the local
Debian base) and run the way the Deployment runs them: the API non-root on a read-only root
filesystem with only /tmp writable, answering its probes; the Dagster image serving the code
location over gRPC to a real Dagster client."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.deploy.conftest import REPO, run, tool

PODMAN = ("bash", str(REPO / "scripts" / "prodlike" / "podman.sh"))
API_IMAGE = "localhost/loanops-api:dev"
DAGSTER_IMAGE = "localhost/loanops-dagster:dev"
UID = "10001"
# Deadlines, not expectations: a cold build (debootstrap and both images from nothing) takes
# tens of minutes on two shared cores; a cached one, seconds.
BUILD_DEADLINE = 3600
START_DEADLINE = 300

pytestmark = pytest.mark.timeout(BUILD_DEADLINE + 3 * START_DEADLINE)

# As k8s/base/deployment.yaml runs the API: its own USER, no capabilities, no privilege gain,
# nothing writable but an emptyDir-like /tmp (podman's extra tmpfs mounts switched off).
READ_ONLY = (
    "--read-only",
    "--read-only-tmpfs=false",
    "--tmpfs",
    "/tmp:rw,mode=1777,size=512m",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
)


# As k8s/dagster/values.yaml runs the code location: no capabilities, no privilege gain, the
# image's own non-root USER; its root filesystem stays writable (the instance's DAGSTER_HOME).
RESTRICTED = ("--cap-drop", "ALL", "--security-opt", "no-new-privileges")


@pytest.fixture(scope="module")
def images() -> None:
    """Both images, built (or found current in the layer cache) by the stack's own script."""
    try:
        result = run("bash", "scripts/prodlike/images.sh", timeout=BUILD_DEADLINE)
    except subprocess.TimeoutExpired:
        pytest.fail(f"scripts/prodlike/images.sh did not finish in {BUILD_DEADLINE} s")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def free_port() -> int:
    """A TCP port nothing listens on now, on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def podman(*args: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/prodlike/podman.sh with these arguments."""
    return run(*PODMAN, *args, timeout=START_DEADLINE)


@contextmanager
def container(image: str, *options: str, command: tuple[str, ...] = ()) -> Iterator[str]:
    """A detached container on the host network; removed however the test ends."""
    name = f"loanops-test-{uuid.uuid4().hex[:12]}"
    started = podman(
        "run", "--detach", "--name", name, "--network", "host", *options, image, *command
    )
    try:
        assert started.returncode == 0, started.stderr
        yield name
    finally:
        podman("rm", "--force", "--time", "5", name)


def still_running(name: str) -> None:
    """Fail with the container's log if it has exited."""
    state = podman("inspect", "--format", "{{.State.Running}}", name).stdout.strip()
    if state != "true":
        logs = podman("logs", name)
        pytest.fail(f"container {name} exited:\n{logs.stdout[-4000:]}{logs.stderr[-4000:]}")


def get(url: str, name: str) -> tuple[int, bytes]:
    """Status and body of GET url, retried until the container listens (it must not exit)."""
    deadline = time.monotonic() + START_DEADLINE
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except (urllib.error.URLError, ConnectionError):
            still_running(name)
            if time.monotonic() > deadline:
                pytest.fail(f"{url} did not answer within {START_DEADLINE} s")
            time.sleep(0.5)


def test_api_image_runs_read_only_as_non_root_and_answers_its_probes(images: None) -> None:
    port = free_port()
    env = {
        # gunicorn's command-line settings override serving/gunicorn_conf.py's bind (0.0.0.0:8080):
        # on the host network the pod listens on the loopback interface only, on its own port.
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
        "LOANOPS_API_KEYS": "image-test-key",  # pragma: allowlist secret
        "WEB_CONCURRENCY": "1",
    }
    options = [f"--env={key}={value}" for key, value in env.items()]
    with container(API_IMAGE, *READ_ONLY, *options) as name:
        status, body = get(f"http://127.0.0.1:{port}/healthz", name)
        assert (status, json.loads(body)["status"]) == (200, "ok")

        # No model registered in the container's own (empty) MLflow store: not ready, and says why.
        status, body = get(f"http://127.0.0.1:{port}/readyz", name)
        assert status == 503
        ready = json.loads(body)
        assert ready["status"] == "not_ready" and ready["checks"]["model_loaded"] is False

        assert podman("exec", name, "id", "-u").stdout.strip() == UID
        assert podman("exec", name, "id", "-g").stdout.strip() == UID
        # Only /tmp is writable, where the data folder (store, metrics files) lives.
        denied = podman("exec", name, "touch", "/app/serving/written")
        assert denied.returncode != 0 and "Read-only file system" in denied.stderr
        assert podman("exec", name, "touch", "/tmp/written").returncode == 0
        assert podman("exec", name, "test", "-d", "/tmp/loanops/prometheus").returncode == 0


def test_dagster_image_serves_the_code_location_over_grpc(images: None, tmp_path: Path) -> None:
    port = free_port()
    serve = ("dagster", "api", "grpc", "--host", "127.0.0.1", "--port", str(port),
             "--module-name", "orchestration.definitions")  # fmt: skip
    with container(DAGSTER_IMAGE, *RESTRICTED, command=serve) as name:
        dagster = tool("dagster")
        client_env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
        deadline = time.monotonic() + START_DEADLINE
        while True:
            health = run(dagster, "api", "grpc-health-check", "--host", "127.0.0.1",
                         "--port", str(port), env=client_env, timeout=START_DEADLINE)  # fmt: skip
            if health.returncode == 0:
                break
            still_running(name)
            if time.monotonic() > deadline:
                pytest.fail(f"the code server did not become healthy: {health.stderr[-2000:]}")
            time.sleep(1)

        # A real Dagster client reads the definitions from the server in the container.
        jobs = run(dagster, "job", "list", "--grpc-host", "127.0.0.1", "--grpc-port", str(port),
                   env=client_env, timeout=START_DEADLINE)  # fmt: skip
        assert jobs.returncode == 0, jobs.stderr[-4000:]
        listed = {line.removeprefix("Job: ").strip() for line in jobs.stdout.splitlines()}
        assert {"training", "ingest_to_gold"} <= listed, jobs.stdout
        assert podman("exec", name, "id", "-u").stdout.strip() == UID
