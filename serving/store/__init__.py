"""The prediction store: every decision, committed before the API answers 200."""

from serving.store.repository import PredictionStore, StoreUnavailableError
from serving.store.tables import predictions

__all__ = ["PredictionStore", "StoreUnavailableError", "predictions"]
