"""Score and record applications in micro-batches (one model call, one commit: group commit).

Each batch holds the requests that arrived while the previous batch was being written.

A request thread submits its applications and waits; the batch thread scores them, inserts
every row in one transaction and only then releases the waiting threads, so no 200 is sent
for a decision that is not committed.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from loanops.points import Scale
from serving import metrics
from serving.model_loader import Champion, ModelLoader
from serving.shadow import ShadowJob, ShadowScorer
from serving.store import PredictionStore, StoreUnavailableError
from serving.store.keys import time_ordered_ids

log = logging.getLogger("serving.scoring")


class NotReadyError(RuntimeError):
    """No champion is loaded yet."""


@dataclass
class Job:
    """The applications of one request and the future its thread waits on."""

    records: list[dict[str, Any]]
    request_id: str
    started: float
    clean: bool = False  # values known to be JSON-safe already (orjson parsed the body)
    numbers: dict[str, np.ndarray] | None = None  # numeric columns parsed by validation
    batch_id: str | None = None  # the `loanops score` file the applications came from
    future: Future[list[dict[str, Any]]] = field(default_factory=Future)


def _clean_json(value: Any) -> Any:
    """A value PostgreSQL and SQL Server accept in JSON: no NaN/inf, no lone surrogates."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # the text cleans to missing exactly as the float would
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "replace").decode("utf-8")
    return value


def _clean_record(record: dict[str, Any]) -> dict[str, Any]:
    """The record with `_clean_json` applied to each value (itself when nothing changes)."""
    for value in record.values():
        kind = type(value)
        safe = (
            (kind is float and math.isfinite(value)) or (kind is str and value.isascii())
            or kind is int or value is None
        )  # fmt: skip
        if not safe:
            return {k: _clean_json(v) for k, v in record.items()}
    return record


def _client_id(record: dict[str, Any]) -> str | None:
    """The application's ID as short text (the column is 64 characters, no NULs)."""
    value = record.get("ID")
    if value is None:
        return None
    return str(_clean_json(value)).replace("\x00", "")[:64]


def _joined_numbers(jobs: list[Job]) -> dict[str, np.ndarray] | None:
    """The batch's parsed numeric columns if every job brought its own (else scoring parses)."""
    if any(j.numbers is None for j in jobs):
        return None
    if len(jobs) == 1:
        return jobs[0].numbers
    names = jobs[0].numbers.keys()  # type: ignore[union-attr]
    return {name: np.concatenate([j.numbers[name] for j in jobs]) for name in names}  # type: ignore[index]


def _observe_decisions(version: str, decisions: list[str]) -> None:
    """Count a batch's decisions (one increment per decision kind, not per row)."""
    counts: dict[str, int] = {}
    for decision in decisions:
        counts[decision] = counts.get(decision, 0) + 1
    for decision, count in counts.items():
        metrics.DECISIONS.labels(version, decision).inc(count)


class BatchScorer:
    """One thread per process that scores and records queued jobs together."""

    def __init__(
        self,
        loader: ModelLoader,
        store: PredictionStore,
        max_rows: int = 2000,
        scale: Scale | None = None,
        shadow: ShadowScorer | None = None,
    ) -> None:
        self.loader = loader
        self.store = store
        self.max_rows = max_rows
        self.scale = scale or Scale()  # PD as points
        self.shadow = shadow  # the challenger, scoring decided batches off the reply's path
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="batch-scorer", daemon=True)
        self._thread.start()

    def submit(
        self,
        records: list[dict[str, Any]],
        request_id: str,
        started: float,
        clean: bool = False,
        numbers: dict[str, np.ndarray] | None = None,
        batch_id: str | None = None,
    ) -> Job:
        """Queue one request's applications; wait on the returned job's future."""
        job = Job(records, request_id, started, clean, numbers, batch_id)
        self._queue.put(job)
        return job

    def close(self) -> None:
        """Stop the batch thread after the queued jobs."""
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        """Take every job waiting (up to max_rows) and process them as one batch."""
        while True:
            job = self._queue.get()
            if job is None:
                return
            jobs, rows = [job], len(job.records)
            while rows < self.max_rows:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                jobs.append(more)
                rows += len(more.records)
            try:
                self._process(jobs)
            except StoreUnavailableError as exc:  # expected during outages: no trace needed
                log.warning("store unavailable", extra={"error_type": type(exc).__name__})
                for j in jobs:
                    if not j.future.done():
                        j.future.set_exception(exc)
            except Exception as exc:  # never let the thread die; fail the jobs instead
                log.exception("batch failed", extra={"error_type": type(exc).__name__})
                for j in jobs:
                    if not j.future.done():
                        j.future.set_exception(exc)

    def _process(self, jobs: list[Job]) -> None:
        """Score, insert in one transaction, then answer every job of the batch."""
        champion = self.loader.current
        if champion is None:
            for j in jobs:
                j.future.set_exception(NotReadyError(self.loader.last_error or "model not loaded"))
            return
        try:
            answers, rows = self._score(champion, jobs)
        except Exception:
            if len(jobs) == 1:
                raise
            for j in jobs:  # one bad request must not fail its neighbours
                self._process([j])
            return
        self.store.insert_many(rows)  # raises StoreUnavailableError: nothing is answered 200
        for j, answer in zip(jobs, answers, strict=True):
            j.future.set_result(answer)
        if self.shadow is not None and self.shadow.wanted(champion.version):
            self.shadow.offer(ShadowJob(
                [r for j in jobs for r in j.records], [row["prediction_id"] for row in rows],
                champion.version, _joined_numbers(jobs),
            ))  # fmt: skip

    def _score(
        self, champion: Champion, jobs: list[Job]
    ) -> tuple[list[list[dict[str, Any]]], list[dict[str, Any]]]:
        """Responses per job and rows to insert for a batch of jobs."""
        records = [r for j in jobs for r in j.records]
        scored = champion.score_records(records, _joined_numbers(jobs))
        processed, scores = scored.processed, scored.scores
        stored_policy = champion.scorer.policy_record
        policy_version = stored_policy["version"]
        method = champion.scorer.reason_method
        now = datetime.now(UTC)
        stamp = now.isoformat()
        done = time.perf_counter()
        answers: list[list[dict[str, Any]]] = []
        rows: list[dict[str, Any]] = []
        ids = time_ordered_ids(len(records))  # the key index grows at its end, not everywhere
        points = self.scale.points(scores.probability).tolist()
        i = 0
        for j in jobs:
            latency = round((done - j.started) * 1000, 3)
            answer = []
            for record in j.records:
                prediction_id = ids[i]
                probability = float(scores.probability[i])
                cls = int(scores.predicted_class[i])
                decision = scores.decision[i]
                referral = scores.referral_reasons[i]
                client_id = _client_id(record)
                rows.append({
                    "prediction_id": prediction_id, "request_id": j.request_id,
                    "run_id": champion.run_id, "client_id": client_id,
                    "input_raw_data": record if j.clean else _clean_record(record),
                    "processed_data": processed[i], "prediction_probability": probability,
                    "predicted_class": cls, "threshold": champion.threshold,
                    "reason_codes": scores.reasons[i], "model_name": champion.name,
                    "model_version": champion.version, "latency_ms": latency,
                    "prediction_timestamp": now, "decision": decision,
                    "referral_reasons": referral, "decision_policy": stored_policy,
                    "batch_id": j.batch_id, "points": points[i],
                })  # fmt: skip
                answer.append({
                    "prediction_id": str(prediction_id), "request_id": j.request_id,
                    "client_id": client_id, "probability_of_default": probability,
                    "points": points[i], "predicted_class": cls, "decision": decision,
                    "referral_reasons": referral,
                    "policy_version": policy_version,
                    "threshold": champion.threshold, "reason_codes": scores.reasons[i],
                    "reason_method": method, "model_name": champion.name,
                    "model_version": champion.version,
                    "run_id": champion.run_id, "prediction_timestamp": stamp,
                })  # fmt: skip
                i += 1
            answers.append(answer)
        metrics.observe_scores(champion.version, scores.probability, scores.predicted_class)
        _observe_decisions(champion.version, scores.decision)
        metrics.BATCH_ROWS.observe(len(records))
        return answers, rows
