"""The one feature implementation: silver and gold columns from raw columns, as dbt makes them.

Raw applications come in as a mapping of published field names to columns (lists or arrays
of values as sent); silver and gold come out as NumPy float64 arrays (numbers and flags) and
lists of strings (categories). The parity tests prove the same values as the dbt silver and
gold models for the same rows. Values are handled as text first, as ingest lands them, so a
number sent as JSON and the same number read from a CSV clean alike. `frame` adapts pandas
DataFrames to these functions.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from loanops.features import spec

Columns = Mapping[str, Any]  # column name -> array or list of values, all of one length

_NUMBER = re.compile(spec.NUMBER_PATTERN)
_ID = re.compile(spec.ID_PATTERN)
_TRUE = frozenset(spec.TRUE_TOKENS)
_FALSE = frozenset(spec.FALSE_TOKENS)
_PLACEHOLDERS = frozenset(spec.PLACEHOLDERS)
ID_REJECTION = f"{spec.ID_NAME} is missing or not a whole number"
LABEL_REJECTION = f"{spec.LABEL_NAME} is not 0 or 1"
RAW_ID, RAW_LABEL = "ID", "Default"  # the published names of the id and the outcome


def as_text(value: Any) -> str | None:
    """The text a CSV would carry for a value; None when missing."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return None if math.isnan(value) else repr(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else repr(float(value))
    return str(value)


def parse_number(value: Any) -> float:
    """A number from text; NaN for missing values and junk tokens."""
    text = as_text(value)
    if text is None:
        return math.nan
    text = text.strip(" ")
    return float(text) if _NUMBER.fullmatch(text) else math.nan


def parse_flag(value: Any) -> float:
    """1.0 or 0.0 from 0/1, 1.0/0.0, Yes/No, true/false; NaN otherwise."""
    text = as_text(value)
    if text is None:
        return math.nan
    token = text.strip(" ").lower()
    if token in _TRUE:
        return 1.0
    return 0.0 if token in _FALSE else math.nan


def parse_category(value: Any, values: Mapping[str, str]) -> str:
    """The canonical category: 'unknown' for missing or placeholders, 'other' if unlisted."""
    text = as_text(value)
    if text is None:
        return spec.UNKNOWN
    token = text.strip(" ").lower()
    if token in _PLACEHOLDERS:
        return spec.UNKNOWN
    return values.get(token, spec.OTHER)


# Column parsers: the same results as the per-value functions above (a property test proves
# it value by value), with shortcuts for the types JSON and CSV readers give. A micro-batch of
# 1,000 API applications holds some 40,000 values, so per-value overhead is most of its cost.
_PLAIN_FLOAT_LOW, _PLAIN_FLOAT_HIGH = 1e-4, 1e15  # repr() is plain decimal, <= 15 int digits
_INT_LIMIT = 10**15  # str() of a smaller int has at most 15 digits


def parse_numbers(values: Iterable[Any]) -> np.ndarray:
    """`parse_number` over a column, as float64."""
    out: list[float] = []
    append, match, nan = out.append, _NUMBER.fullmatch, math.nan
    for value in values:
        kind = type(value)
        if kind is str:
            text = value.strip(" ")
            append(float(text) if match(text) else nan)
        elif kind is float:
            # inside this band repr() is a plain decimal that reads back as the same float;
            # outside it repr() has an exponent, 16+ integer digits, 'inf' or 'nan': junk
            plain = value == 0.0 or _PLAIN_FLOAT_LOW <= abs(value) < _PLAIN_FLOAT_HIGH
            append(value if plain else nan)
        elif kind is int:
            append(float(value) if -_INT_LIMIT < value < _INT_LIMIT else nan)
        elif value is None:
            append(nan)
        else:  # bools, numpy scalars, anything else: the general rule
            append(parse_number(value))
    return np.array(out, dtype="float64")


def _memoised(parse: Any, values: Iterable[Any], *args: Any) -> list[Any]:
    """`parse(value, *args)` per value, computed once per distinct str or int in the column.

    Only str and int are memoised: equal values of those types give equal text, whereas equal
    floats need not (0.0 and -0.0), and True == 1 is excluded by keying on the exact type.
    """
    seen: dict[Any, Any] = {}
    out = []
    for value in values:
        kind = type(value)
        if kind is str or kind is int:
            key = (kind, value)
            result = seen.get(key, seen)
            if result is seen:
                result = seen[key] = parse(value, *args)
            out.append(result)
        else:
            out.append(parse(value, *args))
    return out


def parse_flags(values: Iterable[Any]) -> np.ndarray:
    """`parse_flag` over a column, as float64."""
    return np.array(_memoised(parse_flag, values), dtype="float64")


def parse_categories(values: Iterable[Any], categories: Mapping[str, str]) -> list[str]:
    """`parse_category` over a column."""
    return _memoised(parse_category, values, categories)


def parse_id(value: Any) -> int | None:
    """An application id from text; None when missing or not a whole number."""
    text = as_text(value)
    if text is None:
        return None
    text = text.strip(" ")
    return int(text) if _ID.fullmatch(text) else None


def parse_label(value: Any) -> float:
    """The 0/1 outcome from '0', '1', '0.0' or '1.0' (spaces trimmed); NaN otherwise."""
    text = as_text(value)
    if text is None:
        return math.nan
    label = spec.LABEL_TOKENS.get(text.strip(" "))
    return math.nan if label is None else float(label)


def from_records(records: Sequence[Mapping[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    """Records (dicts keyed by field name) as columns; a name a record lacks reads as None."""
    if not records:
        return {name: [] for name in names}
    if len(names) > 1:
        getter = operator.itemgetter(*names)
        try:  # one transpose in C when every record has every name (validated requests do)
            rows = [getter(record) for record in records]
        except KeyError:
            pass
        else:
            return dict(zip(names, (list(c) for c in zip(*rows, strict=True)), strict=True))
    return {name: [record.get(name) for record in records] for name in names}


def _column(raw: Columns, name: str, rows: int) -> Sequence[Any]:
    """The raw values of one published column (all missing if the column is absent)."""
    values = raw.get(name)
    return [None] * rows if values is None else values


def parse_number_columns(raw: Columns, rows: int) -> dict[str, np.ndarray]:
    """`parse_numbers` of every numeric source column, keyed by its published name."""
    return {rule.source: parse_numbers(_column(raw, rule.source, rows)) for rule in spec.NUMBERS}


def number_silver(rule: spec.NumberRule, values: np.ndarray) -> dict[str, np.ndarray]:
    """A numeric rule's silver columns: its sentinel flag if any, then the value (sentinel: NaN).

    The sentinel is a code, not a quantity (Employed_Days' 365243 means not employed).
    """
    if rule.sentinel is None:
        return {rule.name: values}
    is_sentinel = values == rule.sentinel
    return {
        rule.sentinel_flag: is_sentinel.astype("float64"),  # type: ignore[dict-item]
        rule.name: np.where(is_sentinel, np.nan, values),
    }


def silver(
    raw: Columns, rows: int, numbers: Mapping[str, np.ndarray] | None = None
) -> dict[str, Any]:
    """Silver columns of raw applications: float64 arrays, and lists for categories.

    `numbers`: the numeric source columns already parsed (`parse_number_columns` of the same
    rows), so a caller that had to parse them anyway does not pay twice.
    """
    if numbers is None:
        numbers = parse_number_columns(raw, rows)
    out: dict[str, Any] = {}
    for rule in spec.NUMBERS:
        out.update(number_silver(rule, numbers[rule.source]))
    for rule in spec.FLAGS:
        out[rule.name] = parse_flags(_column(raw, rule.source, rows))
    for rule in spec.CATEGORIES:
        out[rule.name] = parse_categories(_column(raw, rule.source, rows), rule.values)
    return out


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Numerator / nullif(denominator, 0), as SQL computes it."""
    ok = ~np.isnan(denominator) & (denominator != 0)
    result = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=result, where=ok)
    return result


def _numbers(columns: Columns, name: str) -> np.ndarray:
    """One numeric column as float64."""
    return np.asarray(columns[name], dtype="float64")


def gold(silver_columns: Columns) -> dict[str, Any]:
    """Gold feature columns (model features, then protected attributes) from silver columns."""
    out: dict[str, Any] = {}
    for feature in spec.NUMERIC_FEATURES:
        if isinstance(feature, spec.Ratio):
            out[feature.name] = _divide(
                _numbers(silver_columns, feature.numerator),
                _numbers(silver_columns, feature.denominator),
            )
        elif isinstance(feature, spec.DaysToYears):
            out[feature.name] = _numbers(silver_columns, feature.days) / spec.DAYS_PER_YEAR
        else:
            out[feature.name] = _numbers(silver_columns, feature.name)
    for name in spec.FLAG_FEATURES:
        out[name] = _numbers(silver_columns, name)
    for name in (*spec.CATEGORY_FEATURES, *spec.PROTECTED):
        out[name] = list(silver_columns[name])
    return out


def gold_from_raw(
    raw: Columns, rows: int, numbers: Mapping[str, np.ndarray] | None = None
) -> dict[str, Any]:
    """Gold features straight from raw applications (clean, then derive)."""
    return gold(silver(raw, rows, numbers))


def rejection_reasons(raw: Columns, rows: int, require_id: bool = True) -> list[str | None]:
    """Why each raw row would be rejected by silver (first reason), or None when it is kept."""
    reasons: list[str | None] = [None] * rows
    if require_id:
        for i, value in enumerate(_column(raw, RAW_ID, rows)):
            if parse_id(value) is None:
                reasons[i] = ID_REJECTION
    numbers = parse_number_columns(raw, rows)
    for rule in spec.NUMBERS:
        for i in np.flatnonzero(rule.outside(numbers[rule.source])).tolist():
            if reasons[i] is None:
                reasons[i] = rule.range_message
    return reasons


def outcome_rejection_reasons(raw: Columns, rows: int) -> list[str | None]:
    """Why each raw outcome row (published names ID, Default) is unusable, or None."""
    reasons: list[str | None] = []
    ids, labels = _column(raw, RAW_ID, rows), _column(raw, RAW_LABEL, rows)
    for id_value, label in zip(ids, labels, strict=True):
        if parse_id(id_value) is None:
            reasons.append(ID_REJECTION)
        elif math.isnan(parse_label(label)):
            reasons.append(LABEL_REJECTION)
        else:
            reasons.append(None)
    return reasons
