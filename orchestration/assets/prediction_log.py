"""The API's prediction log, copied into the warehouse when the two are different databases.

Embedded mode: the store is SQLite beside a DuckDB warehouse, so new rows are copied to
raw.predictions for the monitoring models. Shared-database mode (Azure SQL in production,
PostgreSQL here): the store's `predictions` table is in the warehouse database itself, so
nothing is copied and the dbt build reads that table where it is: `dbt_vars` gives dbt its
schema and name (the dbt vars prediction_log_schema and prediction_log_table).
"""

import json
import re
from typing import Any

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from loanops import settings as settings_module
from loanops import warehouse
from loanops.settings import Settings
from orchestration import tables
from orchestration.keys import DEPLOYMENT, MONITORING, PREDICTION_LOG
from orchestration.resources import LoanopsResource

COPY_RELATION = "raw.predictions"
JSON_COLUMNS = (
    "input_raw_data", "processed_data", "reason_codes", "referral_reasons", "decision_policy",
)  # fmt: skip
COLUMNS = {
    "prediction_id": "string",
    "request_id": "string",
    "run_id": "string",
    "client_id": "string",
    "input_raw_data": "text",
    "processed_data": "text",
    "prediction_probability": "double",
    "predicted_class": "integer",
    "threshold": "double",
    "reason_codes": "text",
    "model_name": "string",
    "model_version": "string",
    "latency_ms": "double",
    "prediction_timestamp": "timestamp",
    "decision": "string",  # approve / refer / decline (older rows: from their class)
    "referral_reasons": "text",  # JSON; null for rows recorded before decision policies
    "decision_policy": "text",  # JSON; the policy that decided, null for older rows
    "batch_id": "string",  # the `loanops score` file that decided; null for API decisions
    "points": "integer",  # the PD in points (loanops/points.py); null for older rows
    "shadow_model_version": "string",  # the challenger that also scored it (null: none did)
    "shadow_probability": "double",
    "shadow_decision": "string",
}
# Columns added after the copy's first version: a copy made before them gets them added.
ADDED_COLUMNS = (
    "decision", "referral_reasons", "decision_policy", "batch_id", "points",
    "shadow_model_version", "shadow_probability", "shadow_decision",
)  # fmt: skip


def add_missing_columns(settings: Settings) -> list[str]:
    """Add the columns a copy made by an older version lacks (nullable); the names added."""
    if not tables.exists(settings, COPY_RELATION):
        return []
    with warehouse.begin(settings) as conn:
        have = tables.column_names(conn, COPY_RELATION)
        missing = [name for name in ADDED_COLUMNS if name not in have]
        for name in missing:
            kind = tables.type_sql(conn, COLUMNS[name])
            conn.execute(sa.text(f"alter table {COPY_RELATION} add {name} {kind}"))
    return missing


def _odbc_parts(url: sa.URL) -> dict[str, str]:
    """Server and database from an `odbc_connect` string, lower-case keys."""
    raw = str(url.query.get("odbc_connect", ""))
    pairs = (p.split("=", 1) for p in raw.split(";") if "=" in p)
    return {k.strip().lower(): v.strip() for k, v in pairs}


def _server(text: str) -> str:
    """A host name without tcp: prefix, port or case."""
    return re.sub(r"^tcp:", "", text.strip().lower()).split(",")[0].split(":")[0]


def same_database(settings: Settings, store_url: str, env: dict[str, str] | None = None) -> bool:
    """True when the prediction store URL points at the warehouse database itself."""
    url = sa.make_url(store_url)
    backend = url.get_backend_name()
    if settings.target == "postgres" and backend == "postgresql":
        dsn = dict(p.split("=", 1) for p in settings_module.postgres_dsn(env).split())
        return (_server(url.host or ""), str(url.port or 5432), url.database) == (
            _server(dsn["host"]),
            dsn["port"],
            dsn["dbname"],
        )
    if settings.target == "azure_sql" and backend == "mssql":
        odbc = _odbc_parts(url)
        wanted = dict(p.split("=", 1) for p in settings_module.mssql_odbc_string(env).split(";"))
        host = url.host or odbc.get("server", "")
        database = url.database or odbc.get("database", "")
        return (_server(host), database.lower()) == (
            _server(wanted["Server"]),
            wanted["Database"].lower(),
        )
    return False  # SQLite or another server: never the DuckDB file or a different warehouse


def store_relation(store_url: str) -> tuple[str, str]:
    """The store's predictions table as (schema, table name), its schema never left implicit.

    The schema is the store's setting, else the one the store's login defaults to, asked from
    the database (`public`, `dbo` or a schema of the login's own).
    """
    from serving.store.engine import make_engine
    from serving.store.tables import TABLE_NAME, store_schema

    schema = store_schema()
    if schema is not None:
        return schema, TABLE_NAME
    engine = make_engine(store_url)
    try:
        default = sa.inspect(engine).default_schema_name
    finally:
        engine.dispose()
    return str(default), TABLE_NAME


def dbt_vars(settings: Settings, store_url: str) -> dict[str, str]:
    """The dbt vars pointing the monitoring source at the store's own table, when it is shared.

    Empty in embedded mode: the monitoring models then read the copy, raw.predictions.
    """
    if not same_database(settings, store_url):
        return {}
    schema, table = store_relation(store_url)
    return {"prediction_log_schema": schema, "prediction_log_table": table}


def watermark(settings: Settings) -> tuple[Any, set[str]]:
    """The latest copied timestamp and the ids copied at it (None before the first copy)."""
    if not tables.exists(settings, COPY_RELATION):
        return None, set()
    latest = warehouse.read_frame(
        settings, f"select max(prediction_timestamp) as ts from {COPY_RELATION}"
    )["ts"].iloc[0]
    if pd.isna(latest):
        return None, set()
    sql = f"select prediction_id from {COPY_RELATION} where prediction_timestamp = :latest"
    ids = warehouse.read_frame(settings, sql, {"latest": pd.Timestamp(latest).to_pydatetime()})
    return pd.Timestamp(latest).to_pydatetime(), set(ids["prediction_id"].astype(str))


def new_rows(store_url: str, since: Any, seen: set[str]) -> pd.DataFrame:
    """Store rows at or after `since` that are not yet copied, in the copy's column types."""
    from serving.store.engine import make_engine
    from serving.store.tables import predictions

    engine = make_engine(store_url)
    try:
        if not sa.inspect(engine).has_table(predictions.name, schema=predictions.schema):
            return pd.DataFrame(columns=list(COLUMNS))  # the API has not run yet
        query = sa.select(predictions)
        if since is not None:  # ">=": rows sharing the last copied timestamp may be new
            query = query.where(predictions.c.prediction_timestamp >= since)
        with engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
    finally:
        engine.dispose()
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["prediction_id"] = frame["prediction_id"].astype(str)
    frame = frame[~frame["prediction_id"].isin(seen)]
    for column in JSON_COLUMNS:  # SQL null stays null (rows recorded before a column existed)
        frame[column] = [
            None if v is None else json.dumps(v, sort_keys=True) for v in frame[column]
        ]
    stamps = pd.to_datetime(frame["prediction_timestamp"], utc=True)
    frame["prediction_timestamp"] = stamps.dt.tz_convert(None)  # naive UTC, as raw tables
    return frame


@dg.asset(
    key=PREDICTION_LOG,
    deps=[DEPLOYMENT],
    group_name=MONITORING,
    owners=["team:ml-engineering"],
    kinds={"python", "table"},
    description=f"Every decision the API made (one row per prediction): new rows of the "
    f"prediction store appended to {COPY_RELATION}; when the store is the warehouse database "
    "(Azure SQL), nothing is copied and monitoring reads the store's own predictions table.",
)
def prediction_log(
    context: dg.AssetExecutionContext, loanops: LoanopsResource
) -> dg.MaterializeResult:
    """Append the prediction store's new rows to raw.predictions (or name the shared table)."""
    settings = loanops.settings()
    store_url = loanops.store_url()
    shown_url = sa.make_url(store_url).render_as_string(hide_password=True)
    shared = dbt_vars(settings, store_url)
    if shared:
        relation = f"{shared['prediction_log_schema']}.{shared['prediction_log_table']}"
        context.log.info(f"the prediction store is the warehouse: monitoring reads {relation}")
        return dg.MaterializeResult(
            metadata={
                "copied_rows": 0,
                "store": shown_url,
                "mode": "shared database",
                "dagster/relation_identifier": relation,
            }
        )
    added = add_missing_columns(settings)
    if added:
        context.log.info(f"added {', '.join(added)} to {COPY_RELATION}")
    since, seen = watermark(settings)
    frame = new_rows(store_url, since, seen)
    copied = tables.write(settings, COPY_RELATION, frame, COLUMNS, replace=False)
    context.log.info(f"copied {copied} new predictions into {COPY_RELATION}")
    return dg.MaterializeResult(
        metadata={
            "copied_rows": copied,
            "store": shown_url,
            "mode": "copied",
            "dagster/relation_identifier": COPY_RELATION,
        }
    )
