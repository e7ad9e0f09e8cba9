"""Three decisions: approve / refer / decline, why a referral was made, the policy that decided.

Rows recorded before this revision were decided by the threshold alone: their decision is
filled from the class they carry (1 decline, 0 approve, exactly what was answered then); their
referral reasons and policy stay null (none was applied). The columns stay nullable so that
adding them never rewrites the table (SQLite cannot make an existing column NOT NULL in place).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from serving.store.tables import predictions

# The store's schema setting (None: the login's default schema); see serving/store/tables.py.
SCHEMA = predictions.schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_COLUMNS = ("decision", "referral_reasons", "decision_policy")


def upgrade() -> None:
    """Add the three columns and fill the decision of existing rows from their class."""
    op.add_column("predictions", sa.Column("decision", sa.String(16)), schema=SCHEMA)
    op.add_column("predictions", sa.Column("referral_reasons", sa.JSON()), schema=SCHEMA)
    op.add_column("predictions", sa.Column("decision_policy", sa.JSON()), schema=SCHEMA)
    table = sa.table(
        "predictions", sa.column("decision"), sa.column("predicted_class"), schema=SCHEMA
    )
    op.execute(
        table.update()
        .where(table.c.decision.is_(None))
        .values(decision=sa.case((table.c.predicted_class == 1, "decline"), else_="approve"))
    )


def downgrade() -> None:
    """Drop the three columns (batch mode: SQLite rebuilds the table)."""
    with op.batch_alter_table("predictions", schema=SCHEMA) as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
