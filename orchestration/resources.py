"""Resources, all read from the environment: warehouse target, MLflow URI, prediction store, API."""

from __future__ import annotations

import os

import dagster as dg

from loanops import settings as settings_module
from loanops.settings import Settings

DEFAULT_API_URL = "http://127.0.0.1:8080"


class LoanopsResource(dg.ConfigurableResource):
    """Where each part lives; every field left empty falls back to its environment variable.

    The warehouse (LOANOPS_TARGET, LOANOPS_DATA_DIR ...) and MLflow (MLFLOW_TRACKING_URI) are
    deliberately not overridable here: dbt and MLflow read the same variables, and one source of
    truth keeps Dagster, dbt and the API on the same databases.
    """

    prediction_store_url: str | None = None  # LOANOPS_PREDICTION_STORE_URL(_FILE), else SQLite
    api_url: str | None = None  # LOANOPS_API_URL, else the local `loanops serve` port
    kube_context: str | None = None  # LOANOPS_KUBE_CONTEXT; unset: render, never apply

    def settings(self) -> Settings:
        """The warehouse and data-folder settings of this process."""
        return settings_module.load()

    def mlflow_tracking_uri(self) -> str:
        """The MLflow tracking and registry URI training and promotion use."""
        return self.settings().mlflow_tracking_uri

    def store_url(self) -> str:
        """The API's prediction store (SQLAlchemy URL)."""
        if self.prediction_store_url:
            return self.prediction_store_url
        from serving.store.engine import configured_url

        return configured_url()  # LOANOPS_PREDICTION_STORE_URL or its _FILE, else SQLite

    def serving_url(self) -> str:
        """The base URL of the running scoring API."""
        return (self.api_url or os.environ.get("LOANOPS_API_URL") or DEFAULT_API_URL).rstrip("/")

    def kubernetes_context(self) -> str | None:
        """The kube context to apply manifests to, or None to only render them."""
        return self.kube_context or os.environ.get("LOANOPS_KUBE_CONTEXT") or None
