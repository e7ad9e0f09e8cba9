"""The challenger's answer beside the champion's: shadow model version, PD and decision.

Nullable, so adding them never rewrites the table; they stay null when no challenger scored
the row (none registered, the challenger was the champion, or it fell behind).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from serving.store.tables import predictions

# The store's schema setting (None: the login's default schema); see serving/store/tables.py.
SCHEMA = predictions.schema

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NAMES = ("shadow_model_version", "shadow_probability", "shadow_decision")


def upgrade() -> None:
    """Add the nullable shadow columns."""
    op.add_column("predictions", sa.Column(NAMES[0], sa.String(64)), schema=SCHEMA)
    op.add_column("predictions", sa.Column(NAMES[1], sa.Float()), schema=SCHEMA)
    op.add_column("predictions", sa.Column(NAMES[2], sa.String(16)), schema=SCHEMA)


def downgrade() -> None:
    """Drop them (batch mode: SQLite rebuilds the table)."""
    with op.batch_alter_table("predictions", schema=SCHEMA) as batch:
        for name in reversed(NAMES):
            batch.drop_column(name)
