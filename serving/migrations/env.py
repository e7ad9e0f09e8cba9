"""Alembic environment: the store URL from -x url=, the config, or the environment.

The table and Alembic's own version table live in the store's schema (LOANOPS_STORE_SCHEMA,
serving/store/tables.py), created here when missing; unset, both stay in the login's default.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from serving.store.engine import configured_url, make_engine
from serving.store.tables import SCHEMA_SETTING, metadata, predictions

SCHEMA = predictions.schema


def _url() -> str:
    """Where to migrate: -x url=..., then sqlalchemy.url, then the store's configured URL."""
    explicit = context.get_x_argument(as_dictionary=True).get("url")
    configured = context.config.get_main_option("sqlalchemy.url")
    return explicit or configured or configured_url()


def _check_dialect(url: str) -> None:
    """A schema setting needs a server: SQLite has no schemas to put the table in."""
    if SCHEMA is not None and sa.make_url(url).get_backend_name() == "sqlite":
        raise ValueError(
            f"{SCHEMA_SETTING}={SCHEMA!r} names a schema, but the prediction store is SQLite, "
            f"which has none: unset {SCHEMA_SETTING} or point the store at PostgreSQL or SQL Server"
        )


def ensure_schema(connection: sa.Connection) -> None:
    """Create the store's schema when the setting names one the database does not have yet."""
    if SCHEMA is None or sa.inspect(connection).has_schema(SCHEMA):
        return
    connection.execute(sa.schema.CreateSchema(SCHEMA))
    connection.commit()  # before Alembic's transaction, which may create its version table here


def run_offline() -> None:
    """Render the DDL as SQL text (`alembic upgrade head --sql`); the schema must exist."""
    url = _url()
    _check_dialect(url)
    context.configure(
        url=url, target_metadata=metadata, literal_binds=True, version_table_schema=SCHEMA
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Apply the migrations on the caller's connection (config attribute), else a new one."""
    url = _url()
    _check_dialect(url)
    given = context.config.attributes.get("connection")
    if given is not None:  # serving/store/migrate.py's, holding the migration lock
        _migrate(given)
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        _migrate(connection)
    engine.dispose()


def _migrate(connection: sa.Connection) -> None:
    """Run the migrations on one connection."""
    ensure_schema(connection)
    context.configure(connection=connection, target_metadata=metadata, version_table_schema=SCHEMA)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
