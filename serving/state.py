"""The per-process state the app factory builds and the blueprints read.

It lives in `app.extensions["loanops"]` (Flask's place for an extension's state), so the
blueprints reach it through `current_app` and never import the app factory.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from serving.config import ServiceSettings
from serving.model_loader import ModelLoader
from serving.scoring import BatchScorer
from serving.shadow import ShadowScorer
from serving.store import PredictionStore

EXTENSION = "loanops"


@dataclass
class Runtime:
    """The per-process parts the blueprints share."""

    loader: ModelLoader
    store: PredictionStore
    scorer: BatchScorer
    settings: ServiceSettings
    shadow: ShadowScorer | None = None  # the challenger, when shadow scoring is on

    def init_app(self, app: Flask) -> None:
        """Register this state on the app."""
        app.extensions[EXTENSION] = self

    def close(self) -> None:
        """Stop the threads and close the store's connections."""
        self.loader.stop()
        self.scorer.close()
        if self.shadow is not None:
            self.shadow.close()
        self.store.dispose()


def runtime() -> Runtime:
    """The Runtime of the current app."""
    return current_app.extensions[EXTENSION]
