"""Turn true attributes into what the file shows: rounded, partly hidden, partly spoiled.

`plan` decides every published cell once (rounding, empty fields, junk tokens, the
"12500.0" spelling); `observed` gives the same cells as the cleaning rules read them (the
only information the risk model may use); `text` formats a slice of rows to strings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from loanops.features import columns, spec
from loanops.generator import catalogue as cat
from loanops.generator.population import Population
from loanops.schema import BY_NAME, ID_COLUMN, LABEL_COLUMN, PUBLISHED_COLUMNS, Kind

# Digits after the point as published; other numeric columns are whole numbers.
DECIMALS = {
    "Credit_Amount": 1, "Loan_Annuity": 2, "Population_Region_Relative": 6,
    "Score_Source_1": 6, "Score_Source_2": 6, "Score_Source_3": 6, "Social_Circle_Default": 4,
}  # fmt: skip
YES_NO_FLAGS = ("Client_Permanent_Match_Tag", "Client_Contact_Work_Tag")
FLOAT_STYLE_SHARE = 0.35  # whole numbers and 0/1 flags written "12500.0" / "1.0"


@dataclass
class Cell:
    """How one published column is written: values, gaps, junk and spelling per row."""

    kind: Kind
    values: np.ndarray  # scaled integers (numbers), 0/1 (flags), codes (categories), ids
    missing: np.ndarray
    decimals: int = 0
    labels: np.ndarray | None = None  # category labels or junk tokens
    junk: np.ndarray | None = None  # index into labels (numbers), -1 where not junk
    float_style: np.ndarray | None = None


def _missing(rng: np.random.Generator, name: str, structural: np.ndarray) -> np.ndarray:
    """Structural gaps plus random ones, so the total meets the published missing rate."""
    target = cat.MISSING_RATE.get(name, 0.0)
    share = float(structural.mean()) if len(structural) else 0.0
    extra = max(0.0, (target - share) / (1.0 - share)) if share < 1.0 else 0.0
    return structural | (rng.random(len(structural)) < extra)


def plan(rng: np.random.Generator, pop: Population, first_id: int) -> dict[str, Cell]:
    """Decide every published cell of the applications (all columns except Default)."""
    rows = pop.rows
    cells: dict[str, Cell] = {
        ID_COLUMN: Cell(Kind.ID, np.arange(first_id, first_id + rows), np.zeros(rows, bool))
    }
    for name in PUBLISHED_COLUMNS:
        column = BY_NAME[name]
        if column.kind == Kind.NUMBER:
            decimals = DECIMALS.get(name, 0)
            raw = np.clip(pop.numbers[name], column.low, column.high)  # never out of range
            structural = np.isnan(raw)
            scaled = np.round(np.nan_to_num(raw) * 10**decimals).astype("int64")
            missing = _missing(rng, name, structural)
            tokens = np.array(cat.JUNK_TOKENS[name], dtype=object)
            junk = np.where(
                ~missing & (rng.random(rows) < cat.JUNK_RATE),
                rng.integers(0, len(tokens), rows),
                -1,
            )
            style = rng.random(rows) < FLOAT_STYLE_SHARE if decimals == 0 else None
            cells[name] = Cell(column.kind, scaled, missing, decimals, tokens, junk, style)
        elif column.kind == Kind.FLAG:
            values = pop.flags[name].astype("int8")
            missing = _missing(rng, name, np.zeros(rows, bool))
            style = None if name in YES_NO_FLAGS else rng.random(rows) < FLOAT_STYLE_SHARE
            cells[name] = Cell(column.kind, values, missing, float_style=style)
        elif column.kind == Kind.CATEGORY:
            codes, labels = pop.categories[name]
            missing = _missing(rng, name, codes < 0)
            cells[name] = Cell(column.kind, codes, missing, labels=labels)
    return cells


def observed(cells: dict[str, Cell]) -> dict[str, np.ndarray]:
    """The cells as the silver cleaning reads them: NaN for gaps and junk, canonical labels."""
    silver: dict[str, np.ndarray] = {}
    for rule in spec.NUMBERS:
        cell = cells[rule.source]
        hidden = cell.missing | (cell.junk >= 0)  # type: ignore[operator]
        values = np.where(hidden, np.nan, cell.values / 10**cell.decimals)
        silver.update(columns.number_silver(rule, values))
    for rule in spec.FLAGS:
        cell = cells[rule.source]
        silver[rule.name] = np.where(cell.missing, np.nan, cell.values.astype("float64"))
    for rule in spec.CATEGORIES:
        cell = cells[rule.source]
        # The cleaning rules themselves say what each written label means ("XNA", "##" ...).
        canonical = [columns.parse_category(label, rule.values) for label in cell.labels]
        canonical = np.array([*canonical, spec.UNKNOWN], dtype=object)  # code -1: a gap
        silver[rule.name] = canonical[np.where(cell.missing, -1, cell.values)]
    return silver


def _join(left: pa.Array, right: pa.Array | str) -> pa.Array:
    """Join two string arrays (or an array and a string) with a point between them."""
    return pc.binary_join_element_wise(left, right, ".")


def _as_text(cell: Cell, rows: slice) -> pa.Array:
    """The published strings of one column for a slice of rows (nulls for gaps)."""
    values = cell.values[rows]
    if cell.kind == Kind.CATEGORY:
        text = pa.DictionaryArray.from_arrays(
            pa.array(np.maximum(values, 0).astype("int32")), pa.array(list(cell.labels))
        ).dictionary_decode()
    elif cell.kind == Kind.FLAG and cell.float_style is None:
        text = pc.if_else(pa.array(values == 1), "Yes", "No")
    else:
        scale = 10**cell.decimals
        text = pc.cast(pa.array(values // scale), pa.string())
        if cell.decimals:
            fraction = pc.cast(pa.array(values % scale), pa.string())
            text = _join(text, pc.utf8_lpad(fraction, cell.decimals, "0"))
        if cell.float_style is not None:
            text = pc.if_else(pa.array(cell.float_style[rows]), _join(text, "0"), text)
    if cell.junk is not None:
        junk = cell.junk[rows]
        tokens = pa.DictionaryArray.from_arrays(
            pa.array(np.maximum(junk, 0).astype("int32")), pa.array(list(cell.labels))
        ).dictionary_decode()
        text = pc.if_else(pa.array(junk >= 0), tokens, text)
    return pc.if_else(pa.array(cell.missing[rows]), pa.scalar(None, pa.string()), text)


def text(
    cells: dict[str, Cell], rows: slice, columns: tuple[str, ...], default: np.ndarray | None
) -> pa.Table:
    """A table of published strings for `columns` over a slice of rows."""
    arrays = {}
    for name in columns:
        if name == LABEL_COLUMN:
            arrays[name] = pc.cast(pa.array(default[rows]), pa.string())  # type: ignore[index]
        else:
            arrays[name] = _as_text(cells[name], rows)
    return pa.table(arrays)


def frame_of(table: pa.Table) -> pd.DataFrame:
    """A pandas frame of the published strings (missing as NA)."""
    return table.to_pandas()
