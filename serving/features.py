"""Gold features for validated requests without pandas frames (the one feature definition).

`loanops.features.frame` holds the feature logic; its column functions read a raw frame only
through `name in raw.columns`, `raw[name].tolist()` and `len(raw)`, and give silver and gold
columns as numpy arrays and lists. A pandas DataFrame costs far more than the scoring itself
for one application (building the raw frame, pandas 3's Arrow-backed strings, slicing), so
serving hands those functions the request's records directly, column by column.

Each application is read as sent, on its own: a value is never coerced by its neighbours in a
micro-batch (a pandas frame turns an int column with a missing value into floats), so an
application scores the same alone or batched.

`GoldColumns` is the read-only part of a frame that a fast-path scorer reads (`len`,
`gold[names].to_numpy(...)`, `gold[name].tolist()` and `gold[name].to_numpy()`); scorers
without a fast path get a real DataFrame (`to_frame`).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from loanops.features import frame


class _Values(list):  # type: ignore[type-arg]
    """A list that answers `tolist()`, as a pandas column does."""

    def tolist(self) -> list[Any]:
        return self


class _Records:
    """Raw applications (dicts keyed by published names) seen as columns."""

    def __init__(self, records: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
        self.records = records
        self.columns = frozenset(columns)
        self._transposed: dict[str, tuple[Any, ...]] = {}
        if records and len(columns) > 1:
            getter = operator.itemgetter(*columns)
            try:  # one transpose in C when every record has every name (validated requests do)
                rows = [getter(record) for record in records]
            except KeyError:
                return
            self._transposed = dict(zip(columns, zip(*rows, strict=True), strict=True))

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, name: str) -> _Values:
        column = self._transposed.get(name)
        if column is not None:
            return _Values(column)
        return _Values([record.get(name) for record in self.records])


class _Column:
    """One gold column: a float64 array or a list of category strings."""

    def __init__(self, values: Any) -> None:
        self.values = values

    def tolist(self) -> list[Any]:
        values = self.values
        return values.tolist() if isinstance(values, np.ndarray) else list(values)

    def to_numpy(self, dtype: Any = None, na_value: Any = None) -> np.ndarray:
        values = self.values
        if isinstance(values, np.ndarray):
            return values if dtype is None else values.astype(dtype, copy=False)
        return np.array(values, dtype=object if dtype is None else dtype)


class _Block:
    """Several float64 gold columns, as `gold[[...]]`."""

    def __init__(self, columns: list[Any], rows: int) -> None:
        self.columns = columns
        self.rows = rows

    def to_numpy(self, dtype: Any = "float64", na_value: Any = np.nan) -> np.ndarray:
        if not self.columns:
            return np.empty((self.rows, 0), dtype=dtype)
        return np.column_stack(self.columns).astype(dtype, copy=False)


class GoldColumns:
    """Gold feature columns of a batch of raw applications (what frame.build computes)."""

    def __init__(self, columns: dict[str, Any], rows: int) -> None:
        self.columns = columns
        self.rows = rows

    @classmethod
    def of(
        cls,
        records: Sequence[Mapping[str, Any]],
        names: Sequence[str],
        numbers: Mapping[str, np.ndarray] | None = None,
    ) -> GoldColumns:
        """Gold columns of raw records (dicts keyed by the published names in `names`).

        `numbers`: their numeric columns as `frame.parse_number_columns` gives them, when
        validation has parsed them already.
        """
        raw = _Records(records, names)
        silver = frame._silver_columns(raw, numbers)  # the one feature definition
        gold = frame._gold_columns(silver)
        return cls(gold, len(records))

    def __len__(self) -> int:
        return self.rows

    def __getitem__(self, key: str | list[str]) -> Any:
        if isinstance(key, str):
            return _Column(self.columns[key])
        return _Block([self.columns[name] for name in key], self.rows)

    def to_frame(self) -> pd.DataFrame:
        """The same columns as frame.build gives, as a DataFrame."""
        return pd.DataFrame(self.columns, index=pd.RangeIndex(self.rows))

    def records(self, names: Sequence[str]) -> list[dict[str, Any]]:
        """Rows of the named columns as dicts: Python floats and strings, None for missing."""
        lists = []
        for name in names:
            values = self.columns[name]
            if isinstance(values, np.ndarray):
                column = values.tolist()
                if np.isnan(values).any():
                    column = [None if v != v else v for v in column]
            else:
                column = [None if v is None or v != v else v for v in values]
            lists.append(column)
        keys = list(names)
        return [dict(zip(keys, row, strict=True)) for row in zip(*lists, strict=True)]
