"""Write generated books as CSV: the landing files, the held-back outcomes and the truth.

Landing files (what ingest reads) go to `out_dir`; the true probabilities, the outcomes held
back for a later delivery and a small JSON record of each batch go to the truth folder,
which the pipeline never reads. Files are written under a temporary name and renamed, so
a reader never sees half a file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from loanops.generator import book, publish
from loanops.schema import (
    APPLICATION_COLUMNS,
    FIRST_ID,
    ID_COLUMN,
    OUTCOME_COLUMNS,
    PUBLISHED_COLUMNS,
)

LAYOUTS = ("split", "published")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
CHUNK_ROWS = 100_000
_WRITE_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="none")

Progress = Callable[[int], None]


@dataclass(frozen=True)
class WrittenBook:
    """What `write_book` wrote: the batch's ids and every file path."""

    name: str
    first_id: int
    last_id: int
    files: tuple[Path, ...]
    truth: Path
    pending_outcomes: Path | None
    default_rate: float
    mean_true_pd: float

    @property
    def rows(self) -> int:
        """Number of applications in the batch."""
        return self.last_id - self.first_id + 1


def default_truth_dir(out_dir: Path) -> Path:
    """The truth folder beside the landing folder (data/landing -> data/truth)."""
    return Path(out_dir).resolve().parent / "truth"


def _truth_dir(out_dir: Path, truth_dir: Path | str | None) -> Path:
    """The truth folder to use, refusing one the pipeline would read."""
    folder = default_truth_dir(out_dir) if truth_dir is None else Path(truth_dir).resolve()
    if folder == out_dir or out_dir in folder.parents:
        raise ValueError(f"the truth folder {folder} must not be inside the landing folder")
    return folder


def next_id(out_dir: Path | str, truth_dir: Path | str | None = None) -> int:
    """The id after the highest one already generated (truth records) or landed (CSV files)."""
    out = Path(out_dir).resolve()
    highest = FIRST_ID - 1
    truth = _truth_dir(out, truth_dir)
    for record in sorted(truth.glob("book_*.json")) if truth.is_dir() else ():
        highest = max(highest, int(json.loads(record.read_text())["last_id"]))
    for path in sorted(out.glob("*.csv")) if out.is_dir() else ():
        with path.open(encoding="utf-8") as handle:
            header = handle.readline().strip().split(",")
        if ID_COLUMN not in header:
            continue  # not an applications or outcomes file
        ids = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                include_columns=[ID_COLUMN], column_types={ID_COLUMN: pa.int64()}
            ),
        )[ID_COLUMN]
        if len(ids) and ids.null_count < len(ids):
            highest = max(highest, ids.to_numpy(zero_copy_only=False).max().item())
    return int(highest) + 1


def _write_csv(
    path: Path,
    columns: tuple[str, ...],
    tables: Iterable[pa.Table],
    progress: Progress | None = None,
) -> Path:
    """Write tables of strings to `path` (header line first) under a temporary name."""
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as handle:
        handle.write((",".join(columns) + "\n").encode("utf-8"))
        for table in tables:
            pacsv.write_csv(table, handle, _WRITE_OPTIONS)
            if progress is not None:
                progress(table.num_rows)
    temporary.replace(path)
    return path


def _chunks(
    draft: book.Draft, columns: tuple[str, ...], rows: slice = slice(None)
) -> Iterator[pa.Table]:
    """Formatted tables of `columns`, CHUNK_ROWS rows at a time, over a range of rows."""
    start, stop, _ = rows.indices(draft.rows)
    for begin in range(start, stop, CHUNK_ROWS):
        yield publish.text(
            draft.cells, slice(begin, min(begin + CHUNK_ROWS, stop)), columns, draft.default
        )


def _landing_names(name: str, layout: str) -> tuple[str, ...]:
    """The landing file names of a batch."""
    if layout == "published":
        return (f"{name}.csv",)
    return (f"applications_{name}.csv", f"outcomes_{name}.csv")


def _check_free(paths: list[Path], overwrite: bool) -> None:
    """Refuse to replace existing files unless asked to."""
    taken = [str(p) for p in paths if p.exists()]
    if taken and not overwrite:
        raise FileExistsError(
            f"{', '.join(taken)} already exist(s); choose another --name or pass --overwrite"
        )


def write_book(
    out_dir: Path | str,
    rows: int,
    seed: int,
    *,
    first_id: int | None = None,
    layout: str = "split",
    name: str | None = None,
    outcome_share: float = 1.0,
    truth_dir: Path | str | None = None,
    shift: str | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> WrittenBook:
    """Generate a batch and write its landing CSV files and its truth files."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if not 0.0 <= outcome_share <= 1.0:
        raise ValueError(f"outcome_share must be within [0, 1], got {outcome_share}")
    if layout == "published" and outcome_share != 1.0:
        raise ValueError(
            "the published layout always carries Default: an outcome share below 1 needs "
            "the split layout"
        )
    if name is not None and not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"name {name!r} may hold only letters, digits, '_', '.' and '-'")
    out = Path(out_dir).resolve()
    truth = _truth_dir(out, truth_dir)
    if first_id is None:
        first_id = next_id(out, truth)
    name = name or f"{first_id}_{first_id + rows - 1}"
    landing = [out / file_name for file_name in _landing_names(name, layout)]
    truth_files = [truth / f"true_pd_{name}.csv", truth / f"book_{name}.json"]
    _check_free([*landing, *truth_files], overwrite)

    from tqdm import tqdm  # only the writer shows progress

    passes = 2 + (layout == "split")  # generation, applications, outcomes
    with tqdm(total=rows * passes, unit="row", disable=not progress, leave=False) as bar:
        draft = book.draft(rows, seed, first_id, shift)
        bar.update(rows)
        out.mkdir(parents=True, exist_ok=True)
        truth.mkdir(parents=True, exist_ok=True)
        pending: Path | None = None
        if layout == "published":
            _write_csv(landing[0], PUBLISHED_COLUMNS, _chunks(draft, PUBLISHED_COLUMNS), bar.update)
        else:
            _write_csv(
                landing[0], APPLICATION_COLUMNS, _chunks(draft, APPLICATION_COLUMNS), bar.update
            )
            # The oldest applications mature first: the share with outcomes is the first rows.
            delivered = round(rows * outcome_share)
            _write_csv(
                landing[1], OUTCOME_COLUMNS, _chunks(draft, OUTCOME_COLUMNS, slice(0, delivered))
            )
            pending = truth / f"pending_outcomes_{name}.csv"
            if delivered < rows:
                _write_csv(
                    pending,
                    OUTCOME_COLUMNS,
                    _chunks(draft, OUTCOME_COLUMNS, slice(delivered, rows)),
                )
            else:
                pending.unlink(missing_ok=True)
                pending = None
            bar.update(rows)
    ids = np.arange(first_id, first_id + rows)
    _write_csv(
        truth_files[0],
        (ID_COLUMN, "true_pd"),
        [pa.table({ID_COLUMN: ids, "true_pd": np.round(draft.true_pd, 10)})],
    )
    record = {
        "name": name, "rows": rows, "seed": seed, "first_id": first_id,
        "last_id": first_id + rows - 1, "layout": layout, "shift": shift,
        "outcome_share": outcome_share, "intercept": draft.intercept,
        "default_rate": float(draft.default.mean()), "mean_true_pd": float(draft.true_pd.mean()),
        "files": [p.name for p in landing],
    }  # fmt: skip
    truth_files[1].write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return WrittenBook(
        name, first_id, first_id + rows - 1, tuple(landing), truth_files[0], pending,
        record["default_rate"], record["mean_true_pd"],
    )  # fmt: skip


def write_late_outcomes(
    out_dir: Path | str, name: str, *, truth_dir: Path | str | None = None, overwrite: bool = False
) -> Path:
    """Land the outcomes held back from batch `name` as outcomes_<name>_late.csv."""
    out = Path(out_dir).resolve()
    pending = _truth_dir(out, truth_dir) / f"pending_outcomes_{name}.csv"
    if not pending.is_file():
        raise FileNotFoundError(
            f"no held-back outcomes for batch {name!r} ({pending} does not exist); "
            "write the batch with an outcome share below 1 first"
        )
    target = out / f"outcomes_{name}_late.csv"
    _check_free([target], overwrite)
    out.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_bytes(pending.read_bytes())
    temporary.replace(target)
    return target
