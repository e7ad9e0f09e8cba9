"""Azure SQL sign-in modes: one explicit set, each with its ODBC string; others stop at start."""

from __future__ import annotations

import secrets

import pytest

from loanops import settings
from orchestration.resources import LoanopsResource

SERVER = {
    "LOANOPS_MSSQL_SERVER": "loanops.database.windows.net",
    "LOANOPS_MSSQL_DATABASE": "warehouse",
}
WORKLOAD = {
    "AZURE_TENANT_ID": "00000000-0000-0000-0000-00000000000a",
    "AZURE_CLIENT_ID": "00000000-0000-0000-0000-00000000000b",
    "AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/azure/tokens/azure-identity-token",
}
PASSWORD = secrets.token_hex(8)  # a value per run: no credential-looking literal in git
COMMON = [
    "Driver={ODBC Driver 18 for SQL Server}",
    "Server=tcp:loanops.database.windows.net,1433",
    "Database=warehouse",
    "Encrypt=yes",
    "TrustServerCertificate=no",
]


@pytest.mark.parametrize(
    ("mode", "extra", "login"),
    [
        (
            "sql",
            {"LOANOPS_MSSQL_USER": "loader", "LOANOPS_MSSQL_PASSWORD": PASSWORD},
            ["Uid=loader", f"Pwd={PASSWORD}"],
        ),
        (
            "serviceprincipal",
            {"AZURE_CLIENT_ID": "app-id", "AZURE_CLIENT_SECRET": PASSWORD},
            ["Authentication=ActiveDirectoryServicePrincipal", "Uid=app-id", f"Pwd={PASSWORD}"],
        ),
        ("msi", {}, ["Authentication=ActiveDirectoryMsi"]),
        # Token modes: no login in the string, the token goes in a connection attribute.
        ("cli", {"LOANOPS_MSSQL_USER": "ignored", "LOANOPS_MSSQL_PASSWORD": PASSWORD}, []),
        ("workload-identity", WORKLOAD, []),
    ],
)
def test_each_mode_builds_its_odbc_string(mode: str, extra: dict, login: list[str]) -> None:
    env = {**SERVER, "LOANOPS_MSSQL_AUTH": mode, **extra}
    assert settings.mssql_odbc_string(env).split(";") == COMMON + login


def test_sql_is_the_default_mode() -> None:
    assert settings.mssql_auth(SERVER) == "sql"


@pytest.mark.parametrize("mode", ["bogus", "MSI", "workload_identity", "managedidentity", ""])
def test_an_unknown_mode_names_the_allowed_ones(mode: str) -> None:
    env = {**SERVER, "LOANOPS_MSSQL_AUTH": mode}
    for build in (settings.mssql_auth, settings.mssql_odbc_string):
        with pytest.raises(ValueError) as error:
            build(env)
        assert f"LOANOPS_MSSQL_AUTH={mode!r} is not a sign-in mode" in str(error.value)
        assert "sql, serviceprincipal, cli, workload-identity, msi" in str(error.value)


def test_an_unknown_mode_stops_an_azure_sql_process_at_start(tmp_path) -> None:
    env = {"LOANOPS_DATA_DIR": str(tmp_path), "LOANOPS_TARGET": "azure_sql"}
    with pytest.raises(ValueError, match="LOANOPS_MSSQL_AUTH='cli ' is not a sign-in mode"):
        settings.load({**env, "LOANOPS_MSSQL_AUTH": "cli "})
    assert settings.load({**env, "LOANOPS_MSSQL_AUTH": "cli"}).target == "azure_sql"
    # Another warehouse never reads the Azure SQL mode.
    duckdb = settings.load({**env, "LOANOPS_TARGET": "duckdb", "LOANOPS_MSSQL_AUTH": "bogus"})
    assert duckdb.target == "duckdb"


@pytest.mark.parametrize("unset", sorted(WORKLOAD))
def test_workload_identity_without_the_webhook_variables_says_which(unset: str) -> None:
    env = {**SERVER, "LOANOPS_MSSQL_AUTH": "workload-identity", **WORKLOAD}
    del env[unset]
    with pytest.raises(ValueError, match=f"workload-identity needs {unset} "):
        settings.mssql_auth(env)


def test_dagster_reads_the_store_url_from_the_same_file(monkeypatch, tmp_path) -> None:
    secret = tmp_path / "prediction-store-url"
    secret.write_text("postgresql+psycopg://loanops@db.internal:5432/loanops\n")
    monkeypatch.delenv("LOANOPS_PREDICTION_STORE_URL", raising=False)
    monkeypatch.setenv("LOANOPS_PREDICTION_STORE_URL_FILE", str(secret))
    url = LoanopsResource().store_url()
    assert url == "postgresql+psycopg://loanops@db.internal:5432/loanops"
