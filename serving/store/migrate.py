"""Run the Alembic migrations: at API start, as a one-off release step, and in tests.

Several API pods start together, and each may migrate at start. They take turns under a lock the
database itself holds, so exactly one applies a new revision and the others then find the schema
at head: `pg_advisory_lock` on PostgreSQL, `sp_getapplock` on SQL Server, both held by the session
that Alembic migrates on, so a pod that dies mid-migration releases it with its connection. SQLite
is one file on one machine; the gunicorn master migrates it once before forking (gunicorn_conf.py).

`python -m serving.store.migrate` runs them once, for a Kubernetes Job or init container; the pods
then start with `LOANOPS_MIGRATE=false`.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from serving.store.engine import configured_url, make_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The PostgreSQL advisory-lock key ("loan" in ASCII), and the SQL Server application-lock name.
PG_LOCK_KEY = 0x6C6F616E
LOCK_NAME = "loanops-prediction-store-migrations"

log = logging.getLogger(__name__)

# Waits as long as another session holds it (@LockTimeout = -1); a result below 0 is a refusal.
# NOCOUNT is on only around the lock call, so the select is the batch's one result, and off
# again after it: Alembic checks the row count of its version-table update on this session.
SQLSERVER_LOCK = sa.text(
    "set nocount on; declare @result int; "
    "exec @result = sp_getapplock @Resource = :name, @LockMode = 'Exclusive', "
    "@LockOwner = 'Session', @LockTimeout = -1; "
    "set nocount off; select @result"
)
SQLSERVER_UNLOCK = sa.text("exec sp_releaseapplock @Resource = :name, @LockOwner = 'Session'")


def config(url: str) -> Config:
    """An Alembic config pointing at serving/migrations and the given store URL."""
    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@contextmanager
def migration_lock(connection: sa.Connection) -> Iterator[None]:
    """Hold the store's migration lock on this connection's session (waits for it)."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        lock = sa.text("select pg_advisory_lock(:key)").bindparams(key=PG_LOCK_KEY)
        unlock = sa.text("select pg_advisory_unlock(:key)").bindparams(key=PG_LOCK_KEY)
    elif dialect == "mssql":
        lock = SQLSERVER_LOCK.bindparams(name=LOCK_NAME)
        unlock = SQLSERVER_UNLOCK.bindparams(name=LOCK_NAME)
    else:
        yield
        return
    result = connection.execute(lock).scalar()
    if dialect == "mssql" and (result is None or result < 0):
        raise RuntimeError(f"sp_getapplock refused the migration lock {LOCK_NAME!r}: {result}")
    connection.commit()  # a session lock outlives the commit; Alembic starts on a clean session
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()  # a failed migration leaves its transaction open
        connection.execute(unlock)
        connection.commit()


def _run(url: str, step: Callable[[Config], None]) -> None:
    """Run one Alembic command on a connection that holds the migration lock."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection, migration_lock(connection):
            cfg = config(url)
            cfg.attributes["connection"] = connection  # serving/migrations/env.py uses it
            step(cfg)
            if connection.in_transaction():
                connection.commit()
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the store schema up to `revision`, one process at a time."""
    _run(url, lambda cfg: command.upgrade(cfg, revision))


def downgrade(url: str, revision: str = "base") -> None:
    """Take the store schema down to `revision`, one process at a time."""
    _run(url, lambda cfg: command.downgrade(cfg, revision))


def main(argv: list[str] | None = None) -> None:
    """Migrate the configured prediction store to head (a release step before the pods start)."""
    parser = argparse.ArgumentParser(
        prog="python -m serving.store.migrate",
        description="Bring the prediction store schema up to date. The store is "
        "LOANOPS_PREDICTION_STORE_URL, or the file LOANOPS_PREDICTION_STORE_URL_FILE names.",
    )
    parser.add_argument("--revision", default="head", help="target revision (default: head)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        url = configured_url()
        upgrade(url, args.revision)
    except ValueError as error:  # a setting the operator got wrong: the message says which
        parser.exit(1, f"error: {error}\n")
    log.info("prediction store at %s on %s", args.revision, sa.make_url(url).render_as_string())


if __name__ == "__main__":
    main()
