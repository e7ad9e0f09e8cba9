"""ODBC Driver 18 for Azure SQL, as the API image gets it: the mssql-python-odbc wheel from
requirements/serving-lock.txt, registered in odbcinst.ini at the path the Dockerfile uses, loads
through Debian's unixODBC and pyodbc."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from tests.deploy.conftest import REPO, run

DRIVER_NAME = "ODBC Driver 18 for SQL Server"


def dockerfile_driver_dir() -> str:
    match = re.search(r"driver_dir=(/opt/venv/\S+)", (REPO / "Dockerfile").read_text())
    assert match, "Dockerfile no longer registers the ODBC driver"
    return match.group(1)


def test_driver_registered_like_the_image_loads(serving_venv: Path, tmp_path: Path) -> None:
    driver_dir = serving_venv / Path(dockerfile_driver_dir()).relative_to("/opt/venv")
    drivers = sorted(driver_dir.glob("libmsodbcsql-18.*.so.*"))
    assert len(drivers) == 1, f"driver library not where the Dockerfile looks: {driver_dir}"
    (tmp_path / "odbcinst.ini").write_text(
        f"[{DRIVER_NAME}]\nDescription=Microsoft {DRIVER_NAME}\nDriver={drivers[0]}\nUsageCount=1\n"
    )
    (tmp_path / "odbc.ini").write_text("")
    probe = textwrap.dedent(
        f"""
        import pyodbc
        print(pyodbc.drivers())
        try:
            pyodbc.connect(
                "Driver={{{DRIVER_NAME}}};Server=tcp:127.0.0.1,9;Database=x;Uid=x;Pwd=x;"
                "Encrypt=yes;TrustServerCertificate=no;Connection Timeout=3",
                timeout=3,
            )
        except pyodbc.Error as error:
            print(error)
        """
    )
    result = run(
        str(serving_venv / "bin" / "python"),
        "-c",
        probe,
        env={
            "ODBCSYSINI": str(tmp_path),
            "ODBCINI": str(tmp_path / "odbc.ini"),
            "PATH": "/usr/bin:/bin",
        },
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert DRIVER_NAME in result.stdout.splitlines()[0]
    # The driver itself answered (a TCP error from the Microsoft driver), so the library loaded
    # with all its dependencies; "Can't open lib" would mean it did not.
    assert f"[Microsoft][{DRIVER_NAME}]" in result.stdout, result.stdout
    assert "Can't open lib" not in result.stdout
