"""A handle on the production-shaped stack (scripts/prodlike/up.sh), as an operator uses it."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
from mlflow import MlflowClient

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts" / "prodlike"
PODMAN = ["bash", str(SCRIPTS / "podman.sh")]
FINISHED = {
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
}


def read_env(path: Path) -> dict[str, str]:
    """The variables an `export KEY='value'` file (data/prodlike/env) sets."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            values[key] = shlex.split(value)[0] if value else ""
    return values


@dataclass
class Stack:
    """The running stack: its environment file's variables, its folder and container names."""

    env: dict[str, str]
    state: Path
    name: str
    _instance: dg.DagsterInstance | None = field(default=None, repr=False)

    @property
    def api_urls(self) -> list[str]:
        """The API pods' base URLs."""
        return self.env["LOANOPS_API_URLS"].split(",")

    def mlflow(self) -> MlflowClient:
        """A client of the stack's tracking server and registry, named explicitly: MLflow's
        process-wide URI may still point at a store an earlier test in this session set."""
        uri = self.env["MLFLOW_TRACKING_URI"]
        return MlflowClient(tracking_uri=uri, registry_uri=uri)

    def pod(self, index: int) -> str:
        """The container name of API pod 1 or 2."""
        return f"{self.name}-api-{index}"

    def script(self, script: str, *args: str, timeout: float = 1800) -> str:
        """Run up.sh or down.sh for this stack; its output (raises with it on failure)."""
        env = {
            **os.environ,
            "LOANOPS_PRODLIKE_DIR": str(self.state),
            "LOANOPS_PRODLIKE_NAME": self.name,
        }
        done = subprocess.run(
            ["bash", str(SCRIPTS / script), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output = done.stdout + done.stderr
        if done.returncode != 0:
            raise RuntimeError(f"{script} failed ({done.returncode}):\n{output}")
        return output

    def podman(self, *args: str) -> str:
        """Run podman as the stack does; its standard output."""
        done = subprocess.run(
            [*PODMAN, *args], capture_output=True, text=True, timeout=120, check=True
        )
        return done.stdout

    # ---- Blob storage ---------------------------------------------------------------------------
    def landing(self) -> Any:
        """The `landing` container (azure-storage-blob ContainerClient)."""
        from azure.storage.blob import BlobServiceClient

        service = BlobServiceClient.from_connection_string(
            self.env["AZURE_STORAGE_CONNECTION_STRING"]
        )
        return service.get_container_client("landing")

    def upload(self, path: Path, name: str | None = None) -> str:
        """Upload a file into the landing container, as a lender's transfer does; its blob name."""
        blob = name or path.name
        with path.open("rb") as handle:
            self.landing().upload_blob(blob, handle, overwrite=True)
        return blob

    # ---- the shared database --------------------------------------------------------------------
    def query(self, sql: str, params: Iterable[Any] | None = None) -> list[tuple[Any, ...]]:
        """Rows of a query on the shared database (warehouse and prediction store)."""
        with psycopg.connect(
            host=self.env["LOANOPS_PG_HOST"],
            port=int(self.env["LOANOPS_PG_PORT"]),
            user=self.env["LOANOPS_PG_USER"],
            dbname=self.env["LOANOPS_PG_DATABASE"],
            autocommit=True,
        ) as connection:
            return connection.execute(sql, params).fetchall()

    # ---- Dagster --------------------------------------------------------------------------------
    def instance(self) -> dg.DagsterInstance:
        """The stack's Dagster instance (PostgreSQL storage), as the webserver and daemon see it.

        Its dagster.yaml reads the stack's variables: call it with them in the environment.
        """
        if self._instance is None:
            self._instance = dg.DagsterInstance.from_config(self.env["DAGSTER_HOME"])
        return self._instance

    def close(self) -> None:
        """Release the Dagster instance's connections."""
        if self._instance is not None:
            self._instance.dispose()
            self._instance = None

    def launch(self, job: str, run_config: dict[str, Any] | None = None) -> str:
        """`dagster job launch` through the daemon's queue, as an operator does; the run id."""
        run_id = str(uuid.uuid4())
        command = [str(REPO / ".venv" / "bin" / "dagster"), "job", "launch", "-j", job]
        command += ["--run-id", run_id, "--config-json", json.dumps(run_config or {})]
        subprocess.run(
            command,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        return run_id

    def runs(self, job: str | None = None, tags: dict[str, str] | None = None) -> list[Any]:
        """The stack's runs (newest first), of one job and with these tags when given."""
        filters = dg.RunsFilter(job_name=job, tags=tags or {})
        return list(self.instance().get_runs(filters=filters))

    def wait_for_run(self, run_id: str, timeout: float) -> Any:
        """The run once it has finished (raises when it has not after `timeout` seconds)."""
        return wait_for(
            lambda: next((r for r in self.runs() if r.run_id == run_id and r.is_finished), None),
            timeout,
            f"run {run_id}",
        )

    def run_failure(self, run_id: str) -> str:
        """The failure messages of a run's steps, for an assertion's message."""
        lines = []
        for event in self.instance().all_logs(run_id):
            if event.dagster_event_type == dg.DagsterEventType.STEP_FAILURE:
                error = event.dagster_event.step_failure_data.error
                lines.append(
                    f"{event.step_key}: {event.message} {error.to_string() if error else ''}"
                )
            elif event.dagster_event_type == dg.DagsterEventType.RUN_FAILURE:
                lines.append(f"run: {event.message}")
        return "\n".join(lines)[-6000:]

    # ---- the API pods ---------------------------------------------------------------------------
    def call(
        self, url: str, path: str, body: Any | None = None, timeout: float = 30
    ) -> tuple[int, Any]:
        """(status, JSON body) of a GET, or a POST when a body is given, with the stack's key."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            url + path,
            data=data,
            headers={
                "Authorization": f"Bearer {self.env['LOANOPS_API_KEY']}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            try:
                return error.code, json.load(error)
            except ValueError:
                return error.code, None


def wait_for(probe: Callable[[], Any], timeout: float, what: str, every: float = 2.0) -> Any:
    """The first truthy value of probe(), polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not there after {timeout:.0f} s")
        time.sleep(every)
