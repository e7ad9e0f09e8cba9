"""Create the predictions table (the old system's columns plus audit fields).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from serving.store.tables import predictions

# The store's schema setting (None: the login's default schema); see serving/store/tables.py.
SCHEMA = predictions.schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create `predictions` and its look-up indexes."""
    op.create_table(
        "predictions",
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
        schema=SCHEMA,
    )
    op.create_index(
        "ix_predictions_timestamp", "predictions", ["prediction_timestamp"], schema=SCHEMA
    )
    op.create_index("ix_predictions_client_id", "predictions", ["client_id"], schema=SCHEMA)


def downgrade() -> None:
    """Drop `predictions`."""
    op.drop_index("ix_predictions_client_id", table_name="predictions", schema=SCHEMA)
    op.drop_index("ix_predictions_timestamp", table_name="predictions", schema=SCHEMA)
    op.drop_table("predictions", schema=SCHEMA)
