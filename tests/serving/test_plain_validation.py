"""The fast validation path accepts exactly what the full check accepts, with the same values;
the OpenAPI document's request schemas accept exactly the same bodies."""

from __future__ import annotations

import math
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from loanops.features import columns, spec
from loanops.schema import APPLICATION_COLUMNS, raw_name
from ml.packaging import EXAMPLE_RECORDS
from serving import openapi, schemas

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
        elif where == 11:  # both spellings: the same field twice, rejected
            item[name], item[raw_name(name)] = value, draw(_SCALARS)
    if draw(st.integers(0, 3)) == 0:  # an unknown key, a misspelling or a second spelling
        key = draw(st.sampled_from(["Unknown_Column", "Client_Incme", "Client_City_Rating",
                                    "client_income", "application"]))  # fmt: skip
        item[key] = draw(_SCALARS)
    return item


def _expected(items: list[Any]) -> list[dict[str, Any]]:
    """The records the contract promises: published names, missing fields None, values as sent."""
    blank = dict.fromkeys(APPLICATION_COLUMNS)
    return [blank | {schemas.FIELD_NAMES[k]: v for k, v in item.items()} for item in items]


def _problems(items: list[Any]) -> list[dict[str, str]]:
    return [
        problem
        for i, item in enumerate(items)
        for problem in schemas.check_application(item, f"applications.{i}.", batch=True)
    ]


def _typed(records: list[dict[str, Any]]) -> list[list[tuple[str, type, Any]]]:
    """Records with every value's exact type, so that 1, 1.0 and True differ."""
    return [[(k, type(v), repr(v)) for k, v in r.items()] for r in records]


@settings(max_examples=300, deadline=None)
@given(st.lists(_application(), min_size=1, max_size=6))
def test_fast_path_agrees_with_the_full_check(items: list[Any]) -> None:
    problems = _problems(items)
    if problems:
        with pytest.raises(schemas.InvalidRequestError) as caught:
            schemas.validate_batch(items)
        assert caught.value.details == problems
        for item in items:
            single = schemas.check_application(item)
            if single:  # the single endpoint names the same problems, without the prefix
                with pytest.raises(schemas.InvalidRequestError) as one:
                    schemas.validate_application(item)
                assert one.value.details == single
        return
    valid = schemas.validate_batch(items)
    expected = _expected(items)
    assert _typed(valid.records) == _typed(expected)
    for item, record in zip(items, expected, strict=True):
        assert _typed([schemas.validate_application(item)]) == _typed([record])
    if valid.numbers is not None:  # the fast path's parsed numbers are what scoring would parse
        raw = columns.from_records(valid.records, APPLICATION_COLUMNS)
        parsed = columns.parse_number_columns(raw, len(valid.records))
        assert valid.numbers.keys() == parsed.keys()
        for name, values in parsed.items():
            assert valid.numbers[name].tobytes() == values.tobytes(), name


def _json_like(value: Any) -> bool:
    """Whether a generated value is something a JSON body can carry."""
    if isinstance(value, dict):
        return all(_json_like(v) for v in value.values())
    if isinstance(value, list):
        return all(_json_like(v) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return not isinstance(value, bytes)


_DOCUMENT = openapi.document(max_batch=50)
_BATCH = jsonschema_rs.Draft202012Validator(
    {"$ref": "#/components/schemas/BatchRequest", "components": _DOCUMENT["components"]}
)
_ONE = jsonschema_rs.Draft202012Validator(_DOCUMENT["components"]["schemas"]["Application"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_application(), min_size=1, max_size=4))
def test_the_openapi_document_accepts_exactly_what_the_api_accepts(items: list[Any]) -> None:
    assume(_json_like(items))
    for item in items:
        assert _ONE.is_valid(item) == (not schemas.check_application(item)), item
    assert _BATCH.is_valid({"applications": items}) == (not _problems(items))


@pytest.mark.parametrize(
    "text",
    ["0", "50", "50.000", "-0", "+7", " 12 ", ".5", "000000000000050", "0000000000000050", "50.01",
     "51", "-1", "1e1", "$", "", "7\n", "\t7", "+.5", "-.0", "5.", "49.999999999"],
)  # fmt: skip
def test_a_numeric_field_text_is_accepted_exactly_when_the_schema_says(text: str) -> None:
    accepted = not schemas.check_application({"Child_Count": text})
    assert _ONE.is_valid({"Child_Count": text}) == accepted
    rule = schemas.RULES["Child_Count"]
    parsed = columns.parse_number(text)
    assert accepted == (math.isnan(parsed) or rule.low <= parsed <= rule.high)


def test_plain_batches_skip_the_full_check(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [dict(EXAMPLE_RECORDS[i % 2], ID=12_100_001 + i) for i in range(50)]
    items[3] = {raw_name(k): v for k, v in items[3].items()}  # snake_case keys are plain too
    items[4].pop("Client_Income")  # so is a missing field
    items[5]["Client_City_Rating"] = items[5].pop("Cleint_City_Rating")  # and the alias
    expected = _expected(items)

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("the full check was called for a plain batch")

    monkeypatch.setattr(schemas, "check_application", refuse)
    assert _typed(schemas.validate_batch(items).records) == _typed(expected)
    assert expected[4]["Client_Income"] is None
    assert _typed([schemas.validate_application(items[3])]) == _typed([expected[3]])


def test_out_of_range_and_wrong_types_are_each_named_once() -> None:
    items = [dict(EXAMPLE_RECORDS[0]) for _ in range(4)]
    items[1]["Age_Days"] = 10**6  # beyond the published range
    items[2]["Car_Owned"] = [1]  # not a scalar
    items[2]["Client_Income"] = True  # bool is not a number here
    items[3]["Child_Count"] = 2.7e307  # a number the text rule would read as junk: its value counts
    with pytest.raises(schemas.InvalidRequestError) as caught:
        schemas.validate_batch(items)
    assert caught.value.details == [
        {"field": "applications.1.Age_Days", "message": "`Age_Days` must be between 0 and 43830"},
        {"field": "applications.2.Client_Income",
         "message": "`Client_Income` must be a number or text, got true"},
        {"field": "applications.2.Car_Owned",
         "message": "`Car_Owned` must be 0/1, true/false, a number or text, got an array"},
        {"field": "applications.3.Child_Count",
         "message": "`Child_Count` must be between 0 and 50"},
    ]  # fmt: skip
    low, high = _RANGES["Age_Days"]
    assert low <= 13957 <= high


def test_scoring_reuses_the_parsed_numbers_and_gets_the_same_features() -> None:
    items = [dict(EXAMPLE_RECORDS[i % 2], ID=12_100_001 + i) for i in range(20)]
    items[5]["Client_Income"], items[6]["Credit_Amount"] = "$", " 1234.5 "  # junk and spaces
    valid = schemas.validate_batch(items)
    assert valid.numbers is not None
    raw = columns.from_records(valid.records, APPLICATION_COLUMNS)
    reused = columns.gold_from_raw(raw, len(items), valid.numbers)
    parsed = columns.gold_from_raw(raw, len(items))
    assert reused.keys() == parsed.keys()
    for name, values in parsed.items():
        assert repr(list(reused[name])) == repr(list(values)), name
    assert math.isnan(reused["client_income"][5])
    assert reused["credit_amount"][6] == 1234.5
