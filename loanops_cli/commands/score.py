"""`loanops score FILE`: decide every application of a CSV file and record each decision.

The file is in the published layout (applications, with or without the outcome column), its
header matched as ingest matches it (case, surrounding whitespace, a BOM, the known aliases).
Rows go through the API's own path in chunks: each row is checked as the API checks an
application, the valid ones are scored by the model's contract and written to the prediction
store in one transaction per chunk, under one batch id for the file. A row the contract refuses
(a value out of its published range) is reported in the output's `error` column and counted on
stderr; it does not fail the file.
"""

from __future__ import annotations

import csv
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from loanops import settings as settings_module

CHUNK_ROWS = 1000  # one model call and one store transaction per chunk
OUTPUT_COLUMNS = (
    "ID", "prediction_id", "probability_of_default", "points", "decision", "referral_reasons",
    "reason_codes", "error",
)  # fmt: skip
# Several reasons or referral messages share one CSV cell.
JOIN = "; "


def _default_out(file: Path, batch_id: str) -> Path:
    """Where the decisions go without --out: the data folder, never the landing folder."""
    return settings_module.load().data_dir / "scores" / f"{file.stem}.{batch_id}.csv"


def _chunks(file: Path, header: tuple[str, ...], size: int) -> Iterator[list[tuple[int, Any]]]:
    """(line number, {published name: value or None} or a problem text) in chunks of rows."""
    from loanops.schema import LABEL_COLUMN

    with file.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        next(reader)  # the header, already read by the layout check
        chunk: list[tuple[int, Any]] = []
        for row in reader:
            if not row:
                continue  # a blank line is not an application
            line = reader.line_num
            if len(row) != len(header):
                item: Any = f"line {line} has {len(row)} fields, the header {len(header)}"
            else:
                # An empty cell is a missing value, as the landed CSV's empty text is to dbt.
                item = {
                    name: (value if value != "" else None)
                    for name, value in zip(header, row, strict=True)
                    if name != LABEL_COLUMN
                }
            chunk.append((line, item))
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def _cell(values: Any, key: str | None = None) -> str:
    """A list (of texts, or of objects' `key`) as one CSV cell."""
    if not values:
        return ""
    return JOIN.join(str(v.get(key, v) if key and isinstance(v, dict) else v) for v in values)


@click.command("score")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the decisions (CSV). Default: data/scores/<file>.<batch id>.csv.",
)
@click.option(
    "--model-uri",
    help="The model to score with. Default: the champion, models:/loan-default@champion.",
)
@click.option(
    "--chunk-rows",
    type=click.IntRange(1, 100_000),
    default=CHUNK_ROWS,
    show_default=True,
    help="Applications per model call and store transaction.",
)
def command(file: Path, out: Path | None, model_uri: str | None, chunk_rows: int) -> None:
    """Score a CSV of applications; write ID, PD, decision and reasons per row; store each.

    Every decision is recorded in the prediction store (LOANOPS_PREDICTION_STORE_URL, else
    SQLite under the data folder) with the file's batch id. Rows the contract refuses get an
    `error` and no decision.

    Exit codes: 0 the file was scored (rows in error included), 1 it could not be (a header
    that is not the published layout, no model, the store unreachable).
    """
    from loanops.ingest.layout import Layout, RejectedFileError, inspect_file

    try:
        layout = inspect_file(file)
    except RejectedFileError as error:
        raise click.ClickException(f"{file} is not a file of applications: {error}") from error
    if layout.layout == Layout.OUTCOMES:
        raise click.ClickException(
            f"{file} holds outcomes (ID, Default), not applications: there is nothing to score"
        )
    # Imported here: the model stack takes seconds to load, `loanops --help` should not.
    from serving.config import DEFAULT_MODEL_URI
    from serving.model_loader import ModelLoader
    from serving.scoring import BatchScorer
    from serving.store import PredictionStore, StoreUnavailableError, migrate
    from serving.store.engine import configured_url
    from serving.store.keys import time_ordered_ids

    settings = settings_module.load()
    uri = model_uri or DEFAULT_MODEL_URI
    loader = ModelLoader(uri, settings.mlflow_tracking_uri)
    try:
        loader.refresh()
    except Exception as error:  # the registry's and the artifact store's own errors
        raise click.ClickException(
            f"cannot load {uri} from {settings.mlflow_tracking_uri}: {type(error).__name__}: "
            f"{error}"
        ) from error
    champion = loader.current
    assert champion is not None  # refresh raised otherwise
    try:
        url = configured_url()
        migrate.upgrade(url)
    except Exception as error:  # a bad setting or an unreachable server, said by its driver
        raise click.ClickException(f"the prediction store cannot be prepared: {error}") from error
    batch_id = str(time_ordered_ids(1)[0])
    store = PredictionStore(url)
    scorer = BatchScorer(loader, store, max_rows=chunk_rows, scale=settings.points)
    out = out or _default_out(file, batch_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    click.echo(
        f"scoring {file} with {champion.name} v{champion.version} ({uri}), batch {batch_id}",
        err=True,
    )
    try:
        decisions, failed = _score_file(file, layout, out, scorer, batch_id, chunk_rows)
    except StoreUnavailableError as error:
        raise click.ClickException(
            f"{error}; decisions of earlier chunks stay recorded under batch {batch_id}"
        ) from error
    finally:
        scorer.close()
        store.dispose()
    decided = ", ".join(f"{n} {kind}" for kind, n in sorted(decisions.items())) or "none"
    scored = sum(decisions.values())
    click.echo(f"{scored} applications scored ({decided}), recorded under batch {batch_id}")
    click.echo(f"decisions written to {out}")
    if failed:
        click.echo(f"{failed} rows not scored: their `error` column in {out} says why", err=True)


def _score_file(
    file: Path, layout: Any, out: Path, scorer: Any, batch_id: str, chunk_rows: int
) -> tuple[Counter[str], int]:
    """Stream the file through the scorer into the output; (decisions per kind, rows in error)."""
    from tqdm import tqdm

    from serving.schemas import check_application, validate_batch

    decisions: Counter[str] = Counter()
    failed = 0
    with (
        out.open("w", newline="", encoding="utf-8") as target,
        tqdm(total=layout.estimated_rows, unit="rows", desc=file.name, file=sys.stderr) as bar,
    ):
        writer = csv.writer(target)
        writer.writerow(OUTPUT_COLUMNS)
        for chunk in _chunks(file, layout.header, chunk_rows):
            errors: dict[int, str] = {}
            valid: list[dict[str, Any]] = []
            for index, (_, item) in enumerate(chunk):
                problems = [item] if isinstance(item, str) else check_application(item)
                if problems:
                    errors[index] = JOIN.join(
                        p if isinstance(p, str) else p["message"] for p in problems
                    )
                else:
                    valid.append(item)
            answers: list[dict[str, Any]] = []
            if valid:
                checked = validate_batch(valid)
                job = scorer.submit(
                    checked.records,
                    batch_id,
                    time.perf_counter(),
                    numbers=checked.numbers,
                    batch_id=batch_id,
                )
                answers = job.future.result()
            answered = iter(answers)
            for index, (_, item) in enumerate(chunk):
                if index in errors:
                    client_id = item.get("ID") if isinstance(item, dict) else None
                    writer.writerow([client_id or "", "", "", "", "", "", "", errors[index]])
                    continue
                answer = next(answered)
                decisions[answer["decision"]] += 1
                writer.writerow([
                    answer["client_id"] or "", answer["prediction_id"],
                    repr(answer["probability_of_default"]), answer["points"], answer["decision"],
                    _cell(answer["referral_reasons"], "message"), _cell(answer["reason_codes"]),
                    "",
                ])  # fmt: skip
            failed += len(errors)
            bar.update(len(chunk))
    return decisions, failed
