"""Settings from the environment: one variable chooses each part (architecture decision 1).

Everything generated at run time lives under the data folder (`LOANOPS_DATA_DIR`,
default `data/` in the repository), which git ignores.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("duckdb", "postgres", "azure_sql")


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one process."""

    data_dir: Path
    target: str
    duckdb_path: Path
    landing_dir: Path

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
    duckdb_path = Path(env.get("LOANOPS_DUCKDB_PATH", data_dir / "warehouse.duckdb")).resolve()
    landing_dir = Path(env.get("LOANOPS_LANDING_DIR", data_dir / "landing")).resolve()
    return Settings(data_dir, target, duckdb_path, landing_dir)


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


def mssql_odbc_string(environ: dict[str, str] | None = None) -> str:
    """An ODBC connection string for Azure SQL from the dbt profile's variables."""
    env = os.environ if environ is None else environ
    auth = env.get("LOANOPS_MSSQL_AUTH", "sql")
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
    else:  # managed identity / workload identity in AKS
        parts.append("Authentication=ActiveDirectoryMsi")
    return ";".join(parts)
