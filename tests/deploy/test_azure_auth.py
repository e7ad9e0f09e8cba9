"""Azure SQL token sign-in, as far as it runs without Azure: the Entra token reaches the ODBC
driver from ingest's connect and from the prediction store's engine, and the dbt profile maps the
same modes onto dbt-sqlserver's azure-identity credentials.

The real-driver checks run in a child process with ODBC Driver 18 (the mssql-python-odbc wheel)
registered and unixODBC's trace on: the trace shows the attribute the driver accepted and the
connection string it got, and the driver's own handshake error shows the connect ran to the wire.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from azure.core.credentials import AccessToken
from dbt.adapters.sqlserver.sqlserver_auth import convert_access_token_to_mswindows_byte_string

from loanops import azure_auth
from serving.store.engine import make_engine
from tests.deploy.conftest import REPO

DRIVER = "ODBC Driver 18 for SQL Server"
TOKEN = "entra-access-token-for-azure-sql-0123456789"  # the driver sends it as it is
WORKLOAD = {
    "AZURE_TENANT_ID": "00000000-0000-0000-0000-00000000000a",
    "AZURE_CLIENT_ID": "00000000-0000-0000-0000-00000000000b",
}


class StaticCredential:
    """A credential with a fixed token, injected where azure-identity's would sign in."""

    def __init__(self, expires_in: float = 3600) -> None:
        self.expires_in = expires_in
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_: object) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(TOKEN, int(time.time() + self.expires_in))


class ConnectReachedError(Exception):
    """Raised by the test's own do_connect listener to stop before the driver."""


def test_token_is_packed_as_the_driver_reads_it() -> None:
    assert azure_auth.pack_token("abc") == b"\x06\x00\x00\x00a\x00b\x00c\x00"
    # dbt-sqlserver packs its tokens for the same driver attribute; both must agree byte for byte.
    expected = convert_access_token_to_mswindows_byte_string(AccessToken(TOKEN, 0))
    assert azure_auth.pack_token(TOKEN) == expected


def test_token_is_kept_until_shortly_before_it_expires() -> None:
    lasting = StaticCredential(expires_in=3600)
    source = azure_auth.TokenSource(lasting)
    assert source.attrs_before() == source.attrs_before() == {1256: azure_auth.pack_token(TOKEN)}
    assert lasting.scopes == [("https://database.windows.net/.default",)]
    expiring = StaticCredential(expires_in=azure_auth.REFRESH_MARGIN_SECONDS - 1)
    source = azure_auth.TokenSource(expiring)
    source.attrs_before()
    source.attrs_before()
    assert len(expiring.scopes) == 2


def test_a_mode_without_a_token_has_no_token_source() -> None:
    for mode in ("sql", "serviceprincipal", "msi"):
        assert azure_auth.token_source(mode, StaticCredential()) is None
    with pytest.raises(ValueError, match="sign-in mode 'msi' takes no token"):
        azure_auth.credential_for("msi")


@pytest.mark.parametrize("mode", ["cli", "workload-identity"])
def test_store_engine_hands_the_token_to_pyodbc_connect(
    mode: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LOANOPS_MSSQL_AUTH", mode)
    for name, value in {**WORKLOAD, "AZURE_FEDERATED_TOKEN_FILE": str(tmp_path / "t")}.items():
        monkeypatch.setenv(name, value)
    credential = StaticCredential()
    engine = make_engine(
        f"mssql+pyodbc://@127.0.0.1:9/loanops?driver={DRIVER.replace(' ', '+')}",
        credential=credential,
    )
    seen: dict[str, object] = {}

    @sa.event.listens_for(engine, "do_connect")  # after the store's own listener
    def capture(_dialect, _record, cargs, cparams):
        seen.update(connection_string=cargs[0], cparams=dict(cparams))
        raise ConnectReachedError

    with pytest.raises(ConnectReachedError):
        engine.connect()
    engine.dispose()
    assert seen["cparams"]["attrs_before"] == {1256: azure_auth.pack_token(TOKEN)}
    assert "trusted_connection" not in seen["connection_string"].lower()
    assert f"DRIVER={{{DRIVER}}}" in seen["connection_string"]
    assert credential.scopes == [("https://database.windows.net/.default",)]


def test_store_url_with_a_login_is_refused_in_a_token_mode(monkeypatch) -> None:
    monkeypatch.setenv("LOANOPS_MSSQL_AUTH", "cli")
    url = f"mssql+pyodbc://loader@127.0.0.1:9/loanops?driver={DRIVER.replace(' ', '+')}"
    engine = make_engine(url, credential=StaticCredential())
    with pytest.raises(ValueError, match="LOANOPS_MSSQL_AUTH=cli signs in with a token"):
        engine.connect()
    engine.dispose()


def test_unknown_mode_stops_the_store_engine(monkeypatch) -> None:
    monkeypatch.setenv("LOANOPS_MSSQL_AUTH", "managed-identity")
    with pytest.raises(ValueError, match="'managed-identity' is not a sign-in mode; use one of"):
        make_engine(f"mssql+pyodbc://@127.0.0.1:9/loanops?driver={DRIVER.replace(' ', '+')}")


# --- the real driver -------------------------------------------------------------------------

PROBE = """
import os, socket, threading, time
from azure.core.credentials import AccessToken

TOKEN = {token!r}


class StaticCredential:
    def get_token(self, *scopes, **kwargs):
        return AccessToken(TOKEN, int(time.time()) + 3600)


# A TCP peer that closes at once: the driver's pre-login handshake fails without a timeout.
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()


def refuse():
    while True:
        listener.accept()[0].close()


threading.Thread(target=refuse, daemon=True).start()
os.environ["LOANOPS_MSSQL_PORT"] = str(listener.getsockname()[1])
try:
{body}
except Exception as error:
    print("ERROR", type(error).__name__, error)
"""


def _odbc_config(folder: Path, trace: Path) -> None:
    """odbcinst.ini registering the wheel's driver, with unixODBC's trace into `trace`."""
    spec = importlib.util.find_spec("mssql_python_odbc")
    assert spec and spec.submodule_search_locations, "mssql-python-odbc is not installed"
    libs = Path(next(iter(spec.submodule_search_locations))) / "libs/linux/debian_ubuntu/x86_64"
    drivers = sorted((libs / "lib").glob("libmsodbcsql-18.*.so.*"))
    assert len(drivers) == 1, f"no single ODBC driver library under {libs}"
    (folder / "odbcinst.ini").write_text(
        f"[ODBC]\nTrace=Yes\nTraceFile={trace}\n\n"
        f"[{DRIVER}]\nDescription=Microsoft {DRIVER}\nDriver={drivers[0]}\nUsageCount=1\n"
    )
    (folder / "odbc.ini").write_text("")


def _probe(tmp_path: Path, body: str, env: dict[str, str]) -> tuple[str, str]:
    """Run `body` against the real driver in a child process: (its output, the ODBC trace)."""
    # unixODBC garbles a long trace-file path (pytest's tmp_path is one): a short folder it is.
    short = Path(tempfile.mkdtemp(prefix="odbc-"))
    trace = short / "trace.log"
    _odbc_config(tmp_path, trace)
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("LOANOPS_", "AZURE_"))}
    child_env = {
        **keep,
        "ODBCSYSINI": str(tmp_path),
        "ODBCINI": str(tmp_path / "odbc.ini"),
        "LOANOPS_DATA_DIR": str(tmp_path / "data"),
        "LOANOPS_TARGET": "azure_sql",
        "LOANOPS_MSSQL_SERVER": "127.0.0.1",
        "LOANOPS_MSSQL_DATABASE": "loanops",
        **env,
    }
    script = PROBE.format(token=TOKEN, body=textwrap.indent(textwrap.dedent(body), "    "))
    try:
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO,
            env=child_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        logged = trace.read_text() if trace.exists() else ""
    finally:
        shutil.rmtree(short, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    return result.stdout, logged


def _token_attribute_accepted(trace: str) -> bool:
    """The trace holds SQLSetConnectAttr(1256, ...) answered SQL_SUCCESS by the driver."""
    calls = trace.split("[ODBC]")
    return any(
        "Attribute = 1256" in entry and "SQL_SUCCESS" in calls[i + 1]
        for i, entry in enumerate(calls[:-1])
    )


def _connection_string(trace: str) -> str:
    """The start of the string handed to SQLDriverConnect (the trace cuts it at 120 characters)."""
    line = next(line for line in trace.splitlines() if "Str In = [" in line)
    return line.split("Str In = [", 1)[1].rsplit("][length", 1)[0]


HANDSHAKE_ERROR = f"[Microsoft][{DRIVER}]Client unable to establish connection"
# The driver refuses a token beside any login option before it opens a socket, so reaching the
# handshake with a token proves the connection string carried no login (the trace truncates it).
TOKEN_WITH_LOGIN = "Cannot use Access Token with any of the following options"


def test_the_driver_refuses_a_token_beside_a_login(tmp_path: Path) -> None:
    """What the handshake assertions below rest on, shown on the driver itself."""
    body = """
    import pyodbc
    from loanops import azure_auth, settings
    odbc = settings.mssql_odbc_string({**os.environ, "LOANOPS_MSSQL_AUTH": "sql"})
    attrs = azure_auth.TokenSource(StaticCredential()).attrs_before()
    pyodbc.connect(odbc, attrs_before=attrs)
    """
    out, trace = _probe(tmp_path, body, {"LOANOPS_MSSQL_USER": "loader"})
    assert TOKEN_WITH_LOGIN in out, out
    assert _token_attribute_accepted(trace), trace


def test_ingest_connect_signs_in_with_the_token_at_the_driver(tmp_path: Path) -> None:
    body = """
    from loanops import warehouse
    warehouse.connect(credential=StaticCredential())
    """
    out, trace = _probe(tmp_path, body, {"LOANOPS_MSSQL_AUTH": "cli"})
    assert HANDSHAKE_ERROR in out, out  # past the driver's own option checks, onto the wire
    assert _token_attribute_accepted(trace), trace
    assert _connection_string(trace).startswith(f"Driver={{{DRIVER}}};Server=tcp:127.0.0.1,")


def test_store_engine_signs_in_with_the_token_at_the_driver(tmp_path: Path) -> None:
    body = """
    import sqlalchemy as sa
    from serving.store.engine import make_engine
    port = os.environ["LOANOPS_MSSQL_PORT"]
    url = f"mssql+pyodbc://@127.0.0.1:{port}/loanops?driver=ODBC+Driver+18+for+SQL+Server"
    with make_engine(url, credential=StaticCredential()).connect():
        pass
    """
    env = {
        "LOANOPS_MSSQL_AUTH": "workload-identity",
        **WORKLOAD,
        "AZURE_FEDERATED_TOKEN_FILE": str(tmp_path / "token"),
    }
    out, trace = _probe(tmp_path, body, env)
    assert HANDSHAKE_ERROR in out, out
    assert _token_attribute_accepted(trace), trace  # and SQLAlchemy's Trusted_Connection went
    assert _connection_string(trace).startswith(f"DRIVER={{{DRIVER}}};Server=127.0.0.1,")


def test_a_login_mode_sends_no_token(tmp_path: Path) -> None:
    """The control: the trace tells a token sign-in from one without."""
    body = """
    from loanops import warehouse
    warehouse.connect(credential=StaticCredential())
    """
    out, trace = _probe(tmp_path, body, {"LOANOPS_MSSQL_AUTH": "msi"})
    assert HANDSHAKE_ERROR in out, out
    assert "Attribute = 1256" not in trace
    assert "SQLDriverConnect" in trace


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_workload_identity_exchanges_the_pods_federated_token(tmp_path: Path) -> None:
    """Without an injected credential, the pod's token file goes to Entra (here a closed port),
    not to the node's metadata service."""
    authority = _closed_port()
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text("eyJ.service-account.token")
    body = """
    from loanops import warehouse
    warehouse.connect()
    """
    env = {
        "LOANOPS_MSSQL_AUTH": "workload-identity",
        **WORKLOAD,
        "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
        "AZURE_AUTHORITY_HOST": f"https://127.0.0.1:{authority}",
    }
    out, trace = _probe(tmp_path, body, env)
    assert f"HTTPSConnection(host='127.0.0.1', port={authority})" in out, out
    assert "SQLDriverConnect" not in trace  # no token, no connect


# --- the dbt profile ---------------------------------------------------------------------------


def _dbt_debug(tmp_path: Path, name: str, env: dict[str, str]) -> subprocess.Popen:
    """`dbt debug` on the repository's profile, started (several run side by side)."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("LOANOPS_", "AZURE_"))}
    folder = tmp_path / name
    (folder / "data").mkdir(parents=True)
    child_env = {
        **keep,
        "DBT_LOG_PATH": str(folder / "logs"),
        "DBT_TARGET_PATH": str(folder / "target"),
        "LOANOPS_DATA_DIR": str(folder / "data"),
        "LOANOPS_TARGET": "azure_sql",
        "LOANOPS_MSSQL_SERVER": "127.0.0.1",
        "LOANOPS_MSSQL_PORT": str(_closed_port()),
        **env,
    }
    dbt = str(Path(sys.executable).parent / "dbt")
    return subprocess.Popen(
        [dbt, "debug", "--project-dir", str(REPO), "--profiles-dir", str(REPO / "profiles")],
        cwd=folder,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_dbt_profile_maps_the_same_modes(tmp_path: Path) -> None:
    """Unknown modes and missing webhook variables stop dbt at profile load; workload identity
    exchanges the pod's federated token (at the authority, a closed port here); `cli` asks the
    Azure CLI; and a DuckDB user never trips over the Azure SQL mode."""
    authority = _closed_port()
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text("eyJ.service-account.token")
    workload = {**WORKLOAD, "AZURE_FEDERATED_TOKEN_FILE": str(token_file)}
    cases = {
        "unknown": ({"LOANOPS_MSSQL_AUTH": "managed-identity"}, [
            "Env var required but not provided: 'LOANOPS_MSSQL_AUTH=managed-identity is not a "
            "sign-in mode; use one of sql, serviceprincipal, cli, workload-identity, msi'"
        ]),
        "no_token_file": ({"LOANOPS_MSSQL_AUTH": "workload-identity", **WORKLOAD}, [
            "Env var required but not provided: 'AZURE_FEDERATED_TOKEN_FILE'"
        ]),
        "workload": ({
            "LOANOPS_MSSQL_AUTH": "workload-identity", **workload,
            "AZURE_AUTHORITY_HOST": f"https://127.0.0.1:{authority}",
        }, [
            "authentication: msi",
            f"HTTPSConnection(host='127.0.0.1', port={authority})",
        ]),
        "cli": ({"LOANOPS_MSSQL_AUTH": "cli", "PATH": "/nonexistent"}, [
            "authentication: cli", "Azure CLI not found on path",
        ]),
        "duckdb": ({"LOANOPS_TARGET": "duckdb", "LOANOPS_MSSQL_AUTH": "bogus"}, [
            "All checks passed!",
        ]),
    }  # fmt: skip
    runs = {name: _dbt_debug(tmp_path, name, env) for name, (env, _) in cases.items()}
    outputs = {name: run.communicate(timeout=300)[0] for name, run in runs.items()}
    for name, (_, expected) in cases.items():
        for text in expected:
            assert text in outputs[name], f"{name}:\n{outputs[name]}"
