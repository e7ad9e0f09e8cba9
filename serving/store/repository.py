"""Writes and reads of prediction rows; every failure surfaces as StoreUnavailableError."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from serving.store.engine import make_engine
from serving.store.tables import predictions


class StoreUnavailableError(RuntimeError):
    """The store cannot be reached or refused a write."""


class PredictionStore:
    """The `predictions` table behind one engine."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    def insert_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows in one transaction, committed when this returns."""
        try:
            with self.engine.begin() as conn:
                conn.execute(predictions.insert(), list(rows))
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
