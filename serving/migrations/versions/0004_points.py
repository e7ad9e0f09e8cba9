"""The score in points beside each decision's PD (loanops/points.py).

Nullable, so adding it never rewrites the table: decisions recorded before it keep no points
(their PD is stored, and the scale of their day is not).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from serving.store.tables import predictions

# The store's schema setting (None: the login's default schema); see serving/store/tables.py.
SCHEMA = predictions.schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable points column."""
    op.add_column("predictions", sa.Column("points", sa.Integer()), schema=SCHEMA)


def downgrade() -> None:
    """Drop the column (batch mode: SQLite rebuilds the table)."""
    with op.batch_alter_table("predictions", schema=SCHEMA) as batch:
        batch.drop_column("points")
