"""Settings from the environment: one variable chooses each part, embedded or production.

Everything generated at run time lives under the data folder (`LOANOPS_DATA_DIR`,
default `data/` in the repository), which git ignores.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from loanops.points import Scale, scale_from

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("duckdb", "postgres", "azure_sql")
# Azure SQL sign-in modes, shared by the dbt profile, ingest, the prediction store and Dagster.
MSSQL_AUTH_MODES = ("sql", "serviceprincipal", "cli", "workload-identity", "msi")
# What the AKS Workload Identity webhook puts in a pod's environment (no secret among them).
WORKLOAD_IDENTITY_VARIABLES = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE")
# LOANOPS_LANDING_URL schemes: Azure Blob / ADLS Gen2 containers (fsspec's names), or a folder.
BLOB_LANDING_SCHEMES = ("abfs", "abfss", "az")
LANDING_URL_SCHEMES = (*BLOB_LANDING_SCHEMES, "file")


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one process."""

    data_dir: Path
    target: str
    duckdb_path: Path
    landing_dir: Path
    landing_url: str | None = None  # a Blob container (or file://); None: landing_dir
    points: Scale = field(default_factory=Scale)  # PD as points (loanops/points.py)

    @property
    def mlflow_tracking_uri(self) -> str:
        """`MLFLOW_TRACKING_URI` if set, else a SQLite store under the data folder."""
        default = f"sqlite:///{self.data_dir / 'mlflow' / 'mlflow.db'}"
        return os.environ.get("MLFLOW_TRACKING_URI", default)

    @property
    def mlflow_artifact_root(self) -> Path:
        """Where the default local MLflow store keeps artifacts."""
        return self.data_dir / "mlflow" / "artifacts"


def load(environ: dict[str, str] | None = None) -> Settings:
    """Read the settings from the environment (or the given mapping)."""
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("LOANOPS_DATA_DIR", REPO_ROOT / "data")).resolve()
    target = env.get("LOANOPS_TARGET", "duckdb")
    if target not in TARGETS:
        raise ValueError(f"LOANOPS_TARGET={target!r} is not one of {', '.join(TARGETS)}")
    if target == "azure_sql":
        mssql_auth(env)  # a wrong sign-in mode stops the process at start, not at first connect
    duckdb_path = Path(env.get("LOANOPS_DUCKDB_PATH", data_dir / "warehouse.duckdb")).resolve()
    landing_dir = Path(env.get("LOANOPS_LANDING_DIR", data_dir / "landing")).resolve()
    landing_url = env.get("LOANOPS_LANDING_URL") or None
    if landing_url and landing_url.partition("://")[0] not in LANDING_URL_SCHEMES:
        raise ValueError(
            f"LOANOPS_LANDING_URL={landing_url!r} must start with "
            + ", ".join(f"{scheme}://" for scheme in LANDING_URL_SCHEMES)
            + " (for a local folder, LOANOPS_LANDING_DIR is enough)"
        )
    return Settings(data_dir, target, duckdb_path, landing_dir, landing_url, scale_from(env))


def postgres_dsn(environ: dict[str, str] | None = None) -> str:
    """A libpq connection string from the same variables the dbt profile reads."""
    env = os.environ if environ is None else environ
    parts = {
        "host": env.get("LOANOPS_PG_HOST", "127.0.0.1"),
        "port": env.get("LOANOPS_PG_PORT", "5432"),
        "user": env.get("LOANOPS_PG_USER", "postgres"),
        "dbname": env.get("LOANOPS_PG_DATABASE", "loanops"),
    }
    if env.get("LOANOPS_PG_PASSWORD"):
        parts["password"] = env["LOANOPS_PG_PASSWORD"]
    return " ".join(f"{key}={value}" for key, value in parts.items())


def mssql_auth(environ: dict[str, str] | None = None) -> str:
    """The Azure SQL sign-in mode (LOANOPS_MSSQL_AUTH, default `sql`); anything else is refused."""
    env = os.environ if environ is None else environ
    mode = env.get("LOANOPS_MSSQL_AUTH", "sql")
    if mode not in MSSQL_AUTH_MODES:
        raise ValueError(
            f"LOANOPS_MSSQL_AUTH={mode!r} is not a sign-in mode; use one of "
            f"{', '.join(MSSQL_AUTH_MODES)}"
        )
    missing = [name for name in WORKLOAD_IDENTITY_VARIABLES if not env.get(name)]
    if mode == "workload-identity" and missing:
        # Without them a managed-identity client falls back to the node's identity, not the pod's.
        raise ValueError(
            f"LOANOPS_MSSQL_AUTH=workload-identity needs {', '.join(missing)} (set by AKS for a "
            "pod whose service account has azure.workload.identity/use: 'true')"
        )
    return mode


def mssql_odbc_string(environ: dict[str, str] | None = None) -> str:
    """An ODBC connection string for Azure SQL from the dbt profile's variables.

    `cli` and `workload-identity` carry no login here: their Entra token goes to the driver as a
    connection attribute (loanops.azure_auth), which the driver refuses beside a login.
    """
    env = os.environ if environ is None else environ
    auth = mssql_auth(env)
    parts = [
        f"Driver={{{env.get('LOANOPS_MSSQL_DRIVER', 'ODBC Driver 18 for SQL Server')}}}",
        f"Server=tcp:{env.get('LOANOPS_MSSQL_SERVER', '')},{env.get('LOANOPS_MSSQL_PORT', '1433')}",
        f"Database={env.get('LOANOPS_MSSQL_DATABASE', '')}",
        "Encrypt=yes",
        "TrustServerCertificate=no",
    ]
    if auth == "sql":
        parts += [
            f"Uid={env.get('LOANOPS_MSSQL_USER', '')}",
            f"Pwd={env.get('LOANOPS_MSSQL_PASSWORD', '')}",
        ]
    elif auth == "serviceprincipal":
        parts += [
            "Authentication=ActiveDirectoryServicePrincipal",
            f"Uid={env.get('AZURE_CLIENT_ID', '')}",
            f"Pwd={env.get('AZURE_CLIENT_SECRET', '')}",
        ]
    elif auth == "msi":  # a VM's managed identity, which the driver asks the VM for itself
        parts.append("Authentication=ActiveDirectoryMsi")
    return ";".join(parts)
