"""pandas DataFrames in and out of the one feature implementation (`columns`).

Training, the generator and the tests hold applications as DataFrames under the published
field names; these functions hand their columns to `columns` and wrap the result.
"""

from __future__ import annotations

import pandas as pd

from loanops.features import columns, spec


def columns_of(raw: pd.DataFrame) -> dict[str, list]:
    """The frame's columns as lists of Python values, keyed by column name."""
    return {str(name): raw[name].tolist() for name in raw.columns}


def clean(raw: pd.DataFrame) -> pd.DataFrame:
    """Silver columns for raw applications (published names), as the silver model makes them."""
    silver = columns.silver(columns_of(raw), len(raw))
    return pd.DataFrame(silver, index=raw.index)[list(spec.SILVER_COLUMNS)]


def features(silver: pd.DataFrame) -> pd.DataFrame:
    """Gold feature columns (model features, then protected attributes) from silver columns."""
    arrays = {str(name): silver[name].to_numpy() for name in silver.columns}
    return pd.DataFrame(columns.gold(arrays), index=silver.index)


def build(raw: pd.DataFrame) -> pd.DataFrame:
    """Gold features straight from raw applications: `features(clean(raw))` in one step."""
    return pd.DataFrame(columns.gold_from_raw(columns_of(raw), len(raw)), index=raw.index)


def rejection_reasons(raw: pd.DataFrame, require_id: bool = True) -> list[str | None]:
    """Why each raw row would be rejected by silver (first reason), or None when it is kept."""
    return columns.rejection_reasons(columns_of(raw), len(raw), require_id)


def outcome_rejection_reasons(raw: pd.DataFrame) -> list[str | None]:
    """Why each raw outcome row (published names ID, Default) is unusable, or None."""
    return columns.outcome_rejection_reasons(columns_of(raw), len(raw))
