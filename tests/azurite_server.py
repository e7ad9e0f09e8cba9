"""A real, throw-away Azurite Blob service for the tests (the npm package, loopback only)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from azure.core.exceptions import AzureError
from azure.storage.blob import BlobServiceClient

from loanops.settings import REPO_ROOT

AZURITE_BLOB = REPO_ROOT / "node_modules" / ".bin" / "azurite-blob"
# Azurite's one built-in account and its key, published in Azurite's README: not a secret.
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
_READY_SECONDS = 60


def _free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class AzuriteServer:
    """A running Azurite Blob service and the settings that point the project at it."""

    process: subprocess.Popen[bytes]
    workspace: Path
    port: int

    @property
    def connection_string(self) -> str:
        """The connection string of Azurite's development account on this port."""
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{self.port}/{ACCOUNT};"
        )

    @property
    def env(self) -> dict[str, str]:
        """AZURE_STORAGE_CONNECTION_STRING, as the stack and an operator set it."""
        return {"AZURE_STORAGE_CONNECTION_STRING": self.connection_string}

    def service(self) -> BlobServiceClient:
        """A Blob service client on this server."""
        return BlobServiceClient.from_connection_string(self.connection_string)

    def stop(self) -> None:
        """Stop the server and delete its workspace."""
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.workspace, ignore_errors=True)


def _wait_until_ready(server: AzuriteServer, log: Path) -> None:
    """Poll the service until it answers a real request (or the process dies)."""
    deadline = time.monotonic() + _READY_SECONDS
    service = server.service()
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"Azurite exited with {server.process.returncode}; see {log}")
        try:
            service.get_service_properties(timeout=5)
            return
        except AzureError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"Azurite did not answer within {_READY_SECONDS} s; see {log}")


def start_azurite() -> AzuriteServer:
    """Start azurite-blob on a free loopback port with a fresh workspace; return when it answers."""
    workspace = Path(tempfile.mkdtemp(prefix="loanops-azurite-"))
    port = _free_port()
    log = workspace / "azurite.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(AZURITE_BLOB),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(port),
                "--location",
                str(workspace / "store"),
                "--silent",
                "--loose",
                "--skipApiVersionCheck",
                "--disableTelemetry",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = AzuriteServer(process, workspace, port)
    _wait_until_ready(server, log)
    return server
