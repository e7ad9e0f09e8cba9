"""The batch validation shortcut accepts exactly what pydantic accepts, with the same values."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from loanops.features import frame, spec
from loanops.schema import APPLICATION_COLUMNS, raw_name
from ml.packaging import EXAMPLE_RECORDS
from serving import schemas
from serving.features import GoldColumns

_RANGES = {rule.source: (rule.low, rule.high) for rule in spec.NUMBERS}
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=8),
    st.sampled_from(["$", "#NA", " 12 ", "1e5", "Yes", "0", "1.0", "-0", 10**15, 1e15, -1.0]),
)  # fmt: skip
_ODD = st.one_of(st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2),
                 st.integers(), max_size=1), st.binary(max_size=2))  # fmt: skip


@st.composite
def _application(draw: st.DrawFn) -> Any:
    """A JSON-like application: published or snake_case keys, any values, extra keys, or junk."""
    if draw(st.integers(0, 30)) == 0:
        return draw(st.one_of(st.none(), st.integers(), st.text(max_size=3), _ODD))
    item: dict[str, Any] = {}
    size = draw(st.sampled_from([0, 1, 2, 5, len(APPLICATION_COLUMNS)]))
    changed = draw(st.sets(st.sampled_from(APPLICATION_COLUMNS), max_size=size))
    for name in APPLICATION_COLUMNS:
        value = EXAMPLE_RECORDS[draw(st.integers(0, 1))].get(name)
        if name in changed:
            value = draw(_ODD if draw(st.integers(0, 9)) == 9 else _SCALARS)
        where = draw(st.integers(0, 12))
        if where < 10:
            item[name] = value
        elif where == 10:
            item[raw_name(name)] = value
        elif where == 11:  # both spellings: the published one wins
            item[name], item[raw_name(name)] = value, draw(_SCALARS)
    if draw(st.booleans()):
        item["Unknown_Column"] = draw(_SCALARS)
    return item


def _pydantic(items: list[Any]) -> list[dict[str, Any]]:
    return schemas.APPLICATIONS.dump_python(
        schemas.APPLICATIONS.validate_python(items), by_alias=True
    )


def _errors(exc: ValidationError) -> list[tuple[str, tuple, str, str]]:
    return [(e["type"], e["loc"], e["msg"], repr(e["input"])) for e in exc.errors()]


def _typed(records: list[dict[str, Any]]) -> list[list[tuple[str, type, Any]]]:
    """Records with every value's exact type, so that 1, 1.0 and True differ."""
    return [[(k, type(v), repr(v)) for k, v in r.items()] for r in records]


@settings(max_examples=300, deadline=None)
@given(st.lists(_application(), min_size=1, max_size=6))
def test_shortcut_agrees_with_pydantic(items: list[Any]) -> None:
    try:
        expected = _pydantic(items)
    except ValidationError as exc:
        with pytest.raises(ValidationError) as caught:
            schemas.validate_batch(items)
        assert _errors(caught.value) == _errors(exc)
        return
    valid = schemas.validate_batch(items)
    assert _typed(valid.records) == _typed(expected)
    for item, record in zip(items, expected, strict=True):
        assert _typed([schemas.validate_application(item)]) == _typed([record])
    if valid.numbers is not None:  # the shortcut's parsed numbers are what scoring would parse
        parsed = frame.parse_number_columns(pd.DataFrame.from_records(valid.records))
        assert valid.numbers.keys() == parsed.keys()
        for name, values in parsed.items():
            assert valid.numbers[name].tobytes() == values.tobytes(), name


def test_plain_batches_skip_pydantic(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [dict(EXAMPLE_RECORDS[i % 2], ID=12_100_001 + i) for i in range(50)]
    items[3] = {raw_name(k): v for k, v in items[3].items()}  # snake_case keys are plain too
    items[4].pop("Client_Income")  # so is a missing field
    expected = _pydantic(items)

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("pydantic was called for a plain batch")

    monkeypatch.setattr(schemas, "APPLICATIONS", refuse)
    assert _typed(schemas.validate_batch(items).records) == _typed(expected)
    assert expected[4]["Client_Income"] is None


def test_out_of_range_and_wrong_types_are_reported_by_pydantic() -> None:
    items = [dict(EXAMPLE_RECORDS[0]) for _ in range(3)]
    items[1]["Age_Days"] = 10**6  # beyond the published range
    items[2]["Car_Owned"] = [1]  # not a scalar
    items[2]["Client_Income"] = True  # bool is not a number here
    with pytest.raises(ValidationError) as caught:
        schemas.validate_batch(items)
    where = {tuple(error["loc"][:2]) for error in caught.value.errors()}
    assert {(1, "Age_Days"), (2, "Car_Owned"), (2, "Client_Income")} <= where
    low, high = _RANGES["Age_Days"]
    assert low <= 13957 <= high


def test_scoring_reuses_the_parsed_numbers_and_gets_the_same_features() -> None:
    items = [dict(EXAMPLE_RECORDS[i % 2], ID=12_100_001 + i) for i in range(20)]
    items[5]["Client_Income"], items[6]["Credit_Amount"] = "$", " 1234.5 "  # junk and spaces
    valid = schemas.validate_batch(items)
    assert valid.numbers is not None
    reused = GoldColumns.of(valid.records, APPLICATION_COLUMNS, valid.numbers)
    parsed = GoldColumns.of(valid.records, APPLICATION_COLUMNS)
    assert reused.columns.keys() == parsed.columns.keys()
    for name, values in parsed.columns.items():
        assert repr(list(reused.columns[name])) == repr(list(values)), name
    assert math.isnan(reused.columns["client_income"][5])
    assert reused.columns["credit_amount"][6] == 1234.5
