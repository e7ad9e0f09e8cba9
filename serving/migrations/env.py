"""Alembic environment: the store URL from -x url=, the config, or the environment."""

from __future__ import annotations

import os

from alembic import context

from serving.store.engine import default_url, make_engine
from serving.store.tables import metadata


def _url() -> str:
    """Where to migrate: -x url=..., then sqlalchemy.url, then LOANOPS_PREDICTION_STORE_URL."""
    explicit = context.get_x_argument(as_dictionary=True).get("url")
    configured = context.config.get_main_option("sqlalchemy.url")
    return explicit or configured or os.environ.get("LOANOPS_PREDICTION_STORE_URL") or default_url()


def run_offline() -> None:
    """Render the DDL as SQL text (`alembic upgrade head --sql`)."""
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Apply the migrations on a live connection."""
    engine = make_engine(_url())
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
