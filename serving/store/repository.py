"""Writes and reads of prediction rows; every failure surfaces as StoreUnavailableError."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from serving.store import bulk
from serving.store.engine import dumps, make_engine
from serving.store.tables import predictions


class StoreUnavailableError(RuntimeError):
    """The store cannot be reached or refused a write."""


class PredictionStore:
    """The `predictions` table behind one engine."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._insert = predictions.insert()
        self._bulk_insert = bulk.for_engine(predictions, self.engine, dumps)
        parsed = sa.make_url(url)
        file = parsed.database if parsed.get_backend_name() == "sqlite" else None
        self._lock_path = f"{file}.write-lock" if file and file != ":memory:" else None
        self._local = threading.Lock()

    @contextlib.contextmanager
    def _writer(self) -> Iterator[None]:
        """One SQLite writer at a time across worker processes, woken as soon as it is free.

        SQLite itself makes a second writer poll (its busy handler sleeps 1, 2, 5, 10, ... ms),
        which shows up as tail latency with several gunicorn workers; a blocking flock on a
        file beside the database hands the write over at once, and the kernel drops the lock
        of a killed process. Server databases need none of this.
        """
        if self._lock_path is None:
            yield
            return
        with self._local:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # releases the flock

    def insert_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows in one transaction, committed when this returns."""
        if not rows:
            return
        try:
            with self._writer(), self.engine.begin() as conn:
                if self._bulk_insert is not None:
                    self._bulk_insert(conn, rows)
                else:
                    conn.execute(self._insert, list(rows))
        except OSError as exc:
            raise StoreUnavailableError(f"prediction store lock failed: {exc.strerror}") from exc
        except (sa.exc.SQLAlchemyError, TypeError, ValueError) as exc:  # the latter: bad values
            failure = f"prediction store write failed: {type(exc).__name__}"
            raise StoreUnavailableError(failure) from exc

    def record_shadow(self, rows: Sequence[dict[str, Any]]) -> None:
        """Write the challenger's PD and decision onto stored rows (one transaction)."""
        if not rows:
            return
        statement = (
            predictions.update()
            .where(predictions.c.prediction_id == sa.bindparam("row_id"))
            .values(
                shadow_model_version=sa.bindparam("shadow_model_version"),
                shadow_probability=sa.bindparam("shadow_probability"),
                shadow_decision=sa.bindparam("shadow_decision"),
            )
        )
        values = [{**row, "row_id": row["prediction_id"]} for row in rows]
        try:
            with self._writer(), self.engine.begin() as conn:
                conn.execute(statement, values)
        except OSError as exc:
            raise StoreUnavailableError(f"prediction store lock failed: {exc.strerror}") from exc
        except sa.exc.SQLAlchemyError as exc:
            failure = f"prediction store write failed: {type(exc).__name__}"
            raise StoreUnavailableError(failure) from exc

    def get(self, prediction_id: uuid.UUID) -> dict[str, Any] | None:
        """One stored prediction, or None."""
        query = sa.select(predictions).where(predictions.c.prediction_id == prediction_id)
        try:
            with self.engine.connect() as conn:
                row = conn.execute(query).mappings().first()
        except sa.exc.SQLAlchemyError as exc:
            failure = f"prediction store read failed: {type(exc).__name__}"
            raise StoreUnavailableError(failure) from exc
        return dict(row) if row else None

    def ping(self) -> bool:
        """True when the store answers and the table exists."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.select(sa.func.count()).select_from(predictions).limit(1))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def count(self) -> int:
        """Number of stored predictions."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(predictions)).scalar())

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()
