"""The batch a decision was made in: one id per file `loanops score` decides, null for the API.

The column stays nullable, so adding it never rewrites the table, and is indexed, so one
file's decisions are found without a scan.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from serving.store.tables import predictions

# The store's schema setting (None: the login's default schema); see serving/store/tables.py.
SCHEMA = predictions.schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_INDEX = "ix_predictions_batch_id"


def upgrade() -> None:
    """Add the nullable batch id and its index."""
    op.add_column("predictions", sa.Column("batch_id", sa.String(64)), schema=SCHEMA)
    op.create_index(_INDEX, "predictions", ["batch_id"], schema=SCHEMA)


def downgrade() -> None:
    """Drop the index and the column (batch mode: SQLite rebuilds the table)."""
    op.drop_index(_INDEX, table_name="predictions", schema=SCHEMA)
    with op.batch_alter_table("predictions", schema=SCHEMA) as batch:
        batch.drop_column("batch_id")
