"""Shadow scoring: the challenger scores what the champion decided, off the reply's path.

After a batch's decisions are committed and answered, its applications are offered to one
background thread, which scores them with the challenger (the `challenger` alias, followed like
the champion's) and writes the challenger's PD and decision beside the champion's on the same
rows. Clients never see it. The queue is bounded: when the challenger falls behind, batches are
dropped and counted (`loanops_shadow_dropped_total`), never waited for, so a challenger can
never slow a decision. Nothing is scored while the challenger is the champion itself.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

from loanops.features import columns
from loanops.schema import APPLICATION_COLUMNS
from serving import metrics
from serving.model_loader import ModelLoader
from serving.store import PredictionStore, StoreUnavailableError

log = logging.getLogger("serving.shadow")
QUEUE_BATCHES = 64  # batches waiting for the challenger before new ones are dropped


@dataclass(frozen=True)
class ShadowJob:
    """Applications the champion decided, and the ids of their stored rows."""

    records: list[dict[str, Any]]
    prediction_ids: list[uuid.UUID]
    champion_version: str
    numbers: dict[str, np.ndarray] | None = None


class ShadowScorer:
    """One thread per process that scores decided applications with the challenger."""

    def __init__(self, loader: ModelLoader, store: PredictionStore) -> None:
        self.loader = loader
        self.store = store
        self._queue: queue.Queue[ShadowJob | None] = queue.Queue(maxsize=QUEUE_BATCHES)
        self._thread = threading.Thread(target=self._run, name="shadow-scorer", daemon=True)
        self._thread.start()

    def wanted(self, champion_version: str) -> bool:
        """True when a challenger other than the champion is loaded."""
        challenger = self.loader.current
        return challenger is not None and challenger.version != champion_version

    def offer(self, job: ShadowJob) -> None:
        """Queue a decided batch for the challenger, or count it dropped when it is behind."""
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            metrics.SHADOW_DROPPED.inc(len(job.records))

    def drain(self) -> None:
        """Wait until every queued batch has been scored and written (tests, shutdown)."""
        self._queue.join()

    def close(self) -> None:
        """Stop the loader, and the thread after the queued batches."""
        self.loader.stop()
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        """Score and record queued batches until told to stop."""
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                self._process(job)
            except StoreUnavailableError as exc:  # the champion's rows stay; only these are lost
                log.warning("shadow write failed", extra={"error_type": type(exc).__name__})
            except Exception as exc:  # never let the thread die on one batch
                log.exception("shadow scoring failed", extra={"error_type": type(exc).__name__})
            finally:
                self._queue.task_done()

    def _process(self, job: ShadowJob) -> None:
        """Score one batch with the challenger and write its PDs and decisions."""
        challenger = self.loader.current
        if challenger is None or challenger.version == job.champion_version:
            return
        raw = columns.from_records(job.records, APPLICATION_COLUMNS)
        gold = columns.gold_from_raw(raw, len(job.records), job.numbers)
        scores = challenger.scorer.predict_columns(gold, top_reasons=0)
        self.store.record_shadow([
            {
                "prediction_id": prediction_id, "shadow_model_version": challenger.version,
                "shadow_probability": float(scores.probability[i]),
                "shadow_decision": scores.decision[i],
            }
            for i, prediction_id in enumerate(job.prediction_ids)
        ])  # fmt: skip
        metrics.SHADOW_SCORED.inc(len(job.prediction_ids))
