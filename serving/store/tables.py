"""The `predictions` table (the Alembic migrations create and evolve it).

Its schema is a setting, `LOANOPS_STORE_SCHEMA`: unset, the table lives in the login's default
schema (`public` on PostgreSQL, `dbo` on SQL Server, the only one on SQLite); set, in that
schema, which the migrations create when missing. The store, its migrations and the monitoring
models (through Dagster) all read the table's place from here.
"""

from __future__ import annotations

import os
import re

import sqlalchemy as sa

SCHEMA_SETTING = "LOANOPS_STORE_SCHEMA"
TABLE_NAME = "predictions"
# A plain identifier: it is written unquoted into dbt vars and CREATE SCHEMA on every dialect.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def store_schema(environ: dict[str, str] | None = None) -> str | None:
    """The schema LOANOPS_STORE_SCHEMA names, or None for the login's default schema."""
    env = os.environ if environ is None else environ
    value = env.get(SCHEMA_SETTING, "").strip()
    if not value:
        return None
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(
            f"{SCHEMA_SETTING}={value!r} is not a schema name: use letters, digits and "
            "underscores, starting with a letter or underscore (or leave it unset for the "
            "login's default schema)"
        )
    return value


metadata = sa.MetaData()

predictions = sa.Table(
    TABLE_NAME,
    metadata,
    sa.Column("prediction_id", sa.Uuid(), primary_key=True),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("client_id", sa.String(64), nullable=True),
    sa.Column("input_raw_data", sa.JSON(), nullable=False),
    sa.Column("processed_data", sa.JSON(), nullable=False),
    sa.Column("prediction_probability", sa.Float(), nullable=False),
    sa.Column("predicted_class", sa.Integer(), nullable=False),
    sa.Column("threshold", sa.Float(), nullable=False),
    sa.Column("reason_codes", sa.JSON(), nullable=False),
    sa.Column("model_name", sa.String(200), nullable=False),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("latency_ms", sa.Float(), nullable=False),
    sa.Column("prediction_timestamp", sa.DateTime(timezone=True), nullable=False),
    # approve / refer / decline, why a referral was made, and the policy that decided (rows
    # recorded before policies existed: decision from the class, the other two null)
    sa.Column("decision", sa.String(16), nullable=True),
    sa.Column("referral_reasons", sa.JSON(), nullable=True),
    sa.Column("decision_policy", sa.JSON(), nullable=True),
    # the `loanops score` file that decided (one id per file); null for the API's decisions
    sa.Column("batch_id", sa.String(64), nullable=True),
    # the PD in points on the scale of the day (loanops/points.py); null for older rows
    sa.Column("points", sa.Integer(), nullable=True),
    # the challenger's answer on the same application (shadow scoring; never returned)
    sa.Column("shadow_model_version", sa.String(64), nullable=True),
    sa.Column("shadow_probability", sa.Float(), nullable=True),
    sa.Column("shadow_decision", sa.String(16), nullable=True),
    sa.Index("ix_predictions_batch_id", "batch_id"),
    schema=store_schema(),  # read once per process, as every setting of the API
)
