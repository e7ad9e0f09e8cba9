"""A real, throw-away PostgreSQL server for the tests (Debian's binaries, loopback only)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("LOANOPS_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(*args: str) -> list[str]:
    """Run a server binary as the `postgres` user when we are root (initdb refuses root)."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


@dataclass
class PostgresServer:
    """A running server and the environment variables that point the project at it."""

    datadir: Path
    port: int

    @property
    def env(self) -> dict[str, str]:
        """LOANOPS_PG_* variables read by the dbt profile, ingest and the prediction store."""
        return {
            "LOANOPS_PG_HOST": "127.0.0.1",
            "LOANOPS_PG_PORT": str(self.port),
            "LOANOPS_PG_USER": "postgres",
            "LOANOPS_PG_DATABASE": "loanops",
        }

    def stop(self) -> None:
        """Stop the server (fast shutdown)."""
        subprocess.run(
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "stop"),
            check=False,
            capture_output=True,
        )

    def start(self) -> None:
        """Start (or restart) the server on its port and wait until it accepts connections."""
        log = self.datadir.parent / "server.log"
        subprocess.run(
            _as_postgres(
                str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-l", str(log), "-w",
                "-o", f"-p {self.port} -k {self.datadir.parent} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                "start",
            ),
            check=True,
            capture_output=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL did not start; see {log}")


def start_postgres() -> PostgresServer:
    """initdb a fresh cluster in a temporary folder, start it and create the `loanops` database."""
    root = Path(tempfile.mkdtemp(prefix="loanops-pg-"))
    datadir = root / "cluster"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    subprocess.run(
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(datadir), "-U", "postgres", "-A", "trust"),
        check=True,
        capture_output=True,
    )
    server = PostgresServer(datadir, _free_port())
    server.start()
    subprocess.run(
        [
            str(PG_BIN / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(server.port),
            "-U",
            "postgres",
            "loanops",
        ],
        check=True,
        capture_output=True,
    )
    return server
