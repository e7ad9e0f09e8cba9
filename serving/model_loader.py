"""Load the champion from the MLflow registry and follow its alias.

The service stays unready while the registry is unreachable, and swaps in a new champion when
the alias moves without failing requests already in flight.
"""

from __future__ import annotations

import gc
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from loanops.features import columns
from loanops.schema import APPLICATION_COLUMNS
from loanops.scoring_contract import ApplicationScorer, ContractMismatchError, Scores

log = logging.getLogger("serving.model")
_ALIAS_URI = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[^/@]+)$")
_VERSION_URI = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)$")


@dataclass(frozen=True)
class Scored:
    """What the champion said about a batch of raw applications."""

    processed: list[dict[str, Any]]  # the gold features the model read, one dict a row
    scores: Scores


@dataclass(frozen=True)
class Champion:
    """One loaded model version; immutable, so a swap never changes it under a request."""

    name: str
    version: str
    run_id: str | None
    alias: str | None
    uri: str
    metrics: dict[str, float]
    scorer: ApplicationScorer
    bands: list[dict[str, Any]] | None = None  # default rate per PD band on the test split
    loaded_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    @property
    def threshold(self) -> float:
        """PD at or above which the class is 1."""
        return self.scorer.threshold

    @property
    def features(self) -> list[str]:
        """The gold columns the model reads."""
        return self.scorer.features

    def score_records(
        self,
        records: Sequence[Mapping[str, Any]],
        numbers: Mapping[str, np.ndarray] | None = None,
    ) -> Scored:
        """Score raw records (dicts keyed by published names) through the scoring contract.

        `numbers`: the records' numeric columns already parsed by validation, if they were.
        """
        raw = columns.from_records(records, APPLICATION_COLUMNS)
        gold = columns.gold_from_raw(raw, len(records), numbers)
        return Scored(feature_rows(gold, self.features), self.scorer.predict_columns(gold))


def feature_rows(gold: Mapping[str, Any], names: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of the named gold columns as dicts: Python floats and strings, None for missing."""
    lists = []
    for name in names:
        values = gold[name]
        if isinstance(values, np.ndarray):
            column = values.tolist()
            if np.isnan(values).any():
                column = [None if v != v else v for v in column]
        else:
            column = [None if v is None or v != v else v for v in values]
        lists.append(column)
    return [dict(zip(names, row, strict=True)) for row in zip(*lists, strict=True)]


def load_champion(uri: str, tracking_uri: str) -> Champion:
    """Resolve the URI to a registered version and load it (raises while unreachable)."""
    import mlflow
    from mlflow import MlflowClient

    from ml import packaging  # MLflow and the model stack load with the first champion

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    client = MlflowClient(tracking_uri, tracking_uri)
    name, alias, version, run_id = uri, None, "0", None
    if match := _ALIAS_URI.match(uri):
        name, alias = match["name"], match["alias"]
        mv = client.get_model_version_by_alias(name, alias)
        version, run_id = str(mv.version), mv.run_id
    elif match := _VERSION_URI.match(uri):
        name, version = match["name"], match["version"]
        run_id = client.get_model_version(name, version).run_id
    pinned = f"models:/{name}/{version}" if uri.startswith("models:/") else uri
    scorer = packaging.load(pinned)
    metrics = dict(client.get_run(run_id).data.metrics) if run_id else {}
    return Champion(name, version, run_id, alias, uri, metrics, scorer, _bands(run_id))


def _bands(run_id: str | None) -> list[dict[str, Any]] | None:
    """The training run's PD band table (None for a run that logged none)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from ml.metrics import BANDS_ARTIFACT

    if run_id is None:
        return None
    try:
        return mlflow.artifacts.load_dict(f"runs:/{run_id}/{BANDS_ARTIFACT}")["bands"]
    except (MlflowException, OSError):  # a model trained before band tables were logged
        return None


def _freeze_heap() -> None:
    """Keep the long-lived heap (libraries, the model) out of the cyclic garbage collector.

    A worker holds hundreds of thousands of tracked objects once mlflow, pandas and the model
    are loaded; a full collection walks them all, a stall that lands on whichever requests are
    in flight and dominates the API's p99 (docs/benchmarks.md). Objects that exist at this point
    go to the permanent generation (they are still freed by reference counting); a collection
    runs first, so the garbage of a replaced champion is not frozen with them.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def current_version(uri: str, tracking_uri: str) -> str | None:
    """The version the alias points to now (None for URIs without an alias)."""
    match = _ALIAS_URI.match(uri)
    if not match:
        return None
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri, tracking_uri)
    return str(client.get_model_version_by_alias(match["name"], match["alias"]).version)


class ModelLoader:
    """Holds the current champion (or challenger); a daemon thread loads it, follows the alias."""

    def __init__(
        self,
        uri: str,
        tracking_uri: str,
        poll_seconds: float = 30.0,
        on_swap: Callable[[Champion | None, Champion], None] | None = None,
        role: str = "champion",
        skip: Callable[[str], bool] | None = None,
    ) -> None:
        self.role = role  # "champion" serves; a "challenger" is optional and only shadows
        self.skip = skip  # versions the alias may name but not worth loading (None: load any)
        self.uri = uri
        self.tracking_uri = tracking_uri
        self.poll_seconds = poll_seconds
        self.on_swap = on_swap
        self.current: Champion | None = None
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="model-loader", daemon=True)

    def start(self) -> None:
        """Start loading and polling in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()

    def refresh(self) -> bool:
        """Load the champion if none is loaded or the alias moved; True when it swapped."""
        current = self.current
        if current is not None and current.alias is None:
            return False
        named = current_version(self.uri, self.tracking_uri) if current or self.skip else None
        if named is not None and self.skip is not None and self.skip(named):
            self.current = None  # e.g. a challenger that is the champion: nothing to load
            return False
        if current is not None and named == current.version:
            return False
        champion = load_champion(self.uri, self.tracking_uri)
        _freeze_heap()
        self.current = champion  # one reference assignment: requests keep the model they took
        log.info(f"{self.role} loaded", extra={"model_version": champion.version})
        if self.on_swap:
            self.on_swap(current, champion)
        return True

    def _run(self) -> None:
        """Retry quickly until loaded, then poll the alias every poll_seconds."""
        while not self._stop.is_set():
            try:
                self.refresh()
                self.last_error = None
            except ContractMismatchError as exc:  # stays unready until a retrained version
                refused = f"{type(exc).__name__}: {exc}"
                if refused != self.last_error:  # once, not at every retry
                    log.error(f"{self.role} refused: {exc}")
                self.last_error = refused
            except Exception as exc:  # registry down, alias missing, artifact unreadable
                error = f"{type(exc).__name__}: {str(exc)[:200]}"
                if self.role == "champion":
                    log.warning("champion not loaded", extra={"error_type": type(exc).__name__})
                elif error != self.last_error:  # a missing challenger is normal: said once
                    log.info(f"no {self.role} loaded: {error}")
                self.last_error = error
            # the champion is needed to answer, so it is retried quickly; a challenger is not
            hurry = self.current is None and self.role == "champion"
            self._stop.wait(min(self.poll_seconds, 2.0) if hurry else self.poll_seconds)
