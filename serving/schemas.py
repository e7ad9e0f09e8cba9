"""Request validation and the response models.

An application is a JSON object of published fields (or their snake_case names, or a declared
alias), at least one of them, each at most once. Values are kept exactly as sent (numbers or
text), because the feature definition cleans text the way dbt cleans the landed CSV: junk text
becomes missing and is accepted, while a number outside its published range (sent as a number
or as text) rejects the application. Every problem is reported once per field, in plain words.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from loanops.features import columns as feature_columns
from loanops.features import spec
from loanops.schema import (
    ACCEPTED_NAMES,
    APPLICATION_COLUMNS,
    BY_NAME,
    LABEL_NAMES,
    Kind,
    same_field,
    unknown_name,
)

# Every name a client may use for a field, mapped to the published name (the shared rules).
FIELD_NAMES: dict[str, str] = ACCEPTED_NAMES
# The exact Python types (as JSON decoding gives them) each kind of field takes, and how the
# error message says so. bool is not a number here: `true` means something only for a flag.
_NONE = type(None)
TYPES: dict[Kind, frozenset[type]] = {
    Kind.NUMBER: frozenset({int, float, str, _NONE}),
    Kind.FLAG: frozenset({int, float, str, bool, _NONE}),
    Kind.CATEGORY: frozenset({str, int, float, _NONE}),
    Kind.ID: frozenset({str, int, float, _NONE}),
}
_EXPECTED = {
    Kind.NUMBER: "a number or text",
    Kind.FLAG: "0/1, true/false, a number or text",
    Kind.CATEGORY: "text or a number",
    Kind.ID: "text or a number",
}
_JSON_TYPES = {dict: "an object", list: "an array", str: "text", _NONE: "null"}
RULES: dict[str, spec.NumberRule] = {rule.source: rule for rule in spec.NUMBERS}
SHAPE = 'one application: a JSON object of its fields, such as {"Client_Income": 6750}'
BATCH_SHAPE = '{"applications": [...]}: a JSON object whose `applications` lists the applications'


class InvalidRequestError(ValueError):
    """The body is not what the endpoint takes: one {field, message} per problem."""

    def __init__(self, message: str, details: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


def _json_type(value: Any) -> str:
    """How a JSON value's type reads in an error message."""
    if type(value) is bool:
        return "true" if value else "false"
    return _JSON_TYPES.get(type(value), "a number")


def _bound(value: float) -> str:
    """A range bound as a lender writes it (100000000, not 1e+08)."""
    return str(int(value)) if value.is_integer() else repr(value)


def outside(rule: spec.NumberRule, value: Any) -> bool:
    """Whether a sent value lies outside the rule's range.

    Text is read as the feature definition reads it (junk is missing, never outside); a JSON
    number by its value, whatever text it would print as; NaN and infinities, which JSON lacks
    but some encoders write, count as missing.
    """
    kind = type(value)
    if kind is str:
        number = feature_columns.parse_number(value)
    elif kind is int or (kind is float and math.isfinite(value)):
        number = value
    else:
        return False
    return number < rule.low or number > rule.high


def _unknown(key: str, value: Any, batch: bool) -> str:
    """Why a key is not a field, with the published name it most resembles."""
    if not batch and key == "applications":
        return "`applications` is not a field; POST several applications to /v1/predictions/batch"
    if type(value) is dict and key not in LABEL_NAMES:
        return (
            f"`{key}` is not a field; send the application's fields at the top level of the "
            f"body, not wrapped in `{key}`"
        )
    return unknown_name(key, " (see /openapi.json for the fields)")


def _field_problem(key: str, name: str, value: Any) -> str | None:
    """What is wrong with one field's value, or None."""
    kind = BY_NAME[name].kind
    if type(value) not in TYPES[kind]:
        return f"`{key}` must be {_EXPECTED[kind]}, got {_json_type(value)}"
    rule = RULES.get(name)
    if rule is not None and outside(rule, value):
        return f"`{key}` must be between {_bound(rule.low)} and {_bound(rule.high)}"
    return None


def check_application(item: Any, where: str = "", batch: bool = False) -> list[dict[str, str]]:
    """Every problem of one application, one per field; empty when it is valid.

    `where`: the prefix of the field paths ("applications.3." in a batch).
    """
    if type(item) is not dict:
        hint = " (several go to /v1/predictions/batch)" if type(item) is list and not batch else ""
        field = where.rstrip(".") or "body"
        return [{"field": field, "message": f"expected {SHAPE}; got {_json_type(item)}{hint}"}]
    if not item:
        field = where.rstrip(".") or "body"
        return [{"field": field, "message": "an application needs at least one field; got {}"}]
    problems, seen = [], {}
    for key, value in item.items():
        name = FIELD_NAMES.get(key)
        if name is None:
            problem = _unknown(key, value, batch)
        elif name in seen:
            problem = same_field(key, seen[name])
        else:
            seen[name] = key
            problem = _field_problem(key, name, value)
        if problem is not None:
            problems.append({"field": f"{where}{key}", "message": problem})
    return problems


def _record(item: dict[str, Any]) -> dict[str, Any]:
    """A valid application keyed by published names (missing fields None), values as sent."""
    by_name = {FIELD_NAMES[key]: value for key, value in item.items()}
    return {name: by_name.get(name) for name in _NAMES}


# The fast path: an application whose keys are all published names (or all known, each field
# once) and whose values all have accepted types, within range, is valid as it stands; anything
# else goes to `check_application`, which decides and names every problem. It costs a set
# comparison and a type scan, about 5x less than a general validator for a batch of 1,000.
_PLAIN = frozenset({int, float, str, _NONE})
_PLAIN_OR_BOOL = _PLAIN | {bool}
_NAMES = tuple(APPLICATION_COLUMNS)
_PUBLISHED = frozenset(_NAMES)
_KNOWN = frozenset(FIELD_NAMES)
_BOOL_OK = frozenset(i for i, n in enumerate(_NAMES) if BY_NAME[n].kind == Kind.FLAG)
_ALL_PUBLISHED = operator.itemgetter(*_NAMES)
_NUMBER_RULES = tuple((_NAMES.index(r.source), r) for r in spec.NUMBERS)
_NUMERIC = frozenset({int, float})
_BOUNDS = tuple((index, rule.low, rule.high) for index, rule in _NUMBER_RULES)


def _plain_values(item: Any) -> tuple[Any, ...] | None:
    """One application's values in published order if it is plainly valid bar ranges; else None."""
    if type(item) is not dict or not item:
        return None
    keys = item.keys()
    if keys <= _PUBLISHED:
        try:  # the common case: every published name present
            values = _ALL_PUBLISHED(item)
        except KeyError:
            values = tuple(map(item.get, _NAMES))
    elif keys <= _KNOWN and len({FIELD_NAMES[key] for key in keys}) == len(keys):
        by_name = {FIELD_NAMES[key]: value for key, value in item.items()}
        values = tuple(map(by_name.get, _NAMES))
    else:
        return None
    kinds = set(map(type, values))
    if kinds <= _PLAIN:
        return values
    if kinds <= _PLAIN_OR_BOOL and all(
        i in _BOOL_OK for i, value in enumerate(values) if type(value) is bool
    ):
        return values
    return None


def _numbers_in_range(columns: list[tuple[Any, ...]]) -> dict[str, np.ndarray] | None:
    """The numeric columns as the feature definition parses them, or None if any is out of range.

    Scoring reuses them (`columns.parse_number_columns` gives the same arrays), so a batch's
    numbers are parsed once. A JSON number the parse reads as missing (exponent form, 16+
    digits) is checked by its value, as `outside` does.
    """
    numbers: dict[str, np.ndarray] = {}
    for index, rule in _NUMBER_RULES:
        column = columns[index]
        values = feature_columns.parse_numbers(column)
        if rule.outside(values).any():
            return None
        for row in np.flatnonzero(np.isnan(values)):
            if type(column[row]) in _NUMERIC and outside(rule, column[row]):
                return None
        numbers[rule.source] = values
    return numbers


def _row_in_range(row: tuple[Any, ...]) -> bool:
    """`outside` over one application's numbers, inlined: the single-request path runs it."""
    parse = feature_columns.parse_number
    for index, low, high in _BOUNDS:
        value = row[index]
        if value is None:
            continue
        if type(value) is str:
            value = parse(value)  # NaN for junk, which no comparison below holds for
        if (value < low or value > high) and -math.inf < value < math.inf:
            return False
    return True


@dataclass(frozen=True)
class Validated:
    """Valid applications as raw records, with their numeric columns when already parsed."""

    records: list[dict[str, Any]]
    numbers: dict[str, np.ndarray] | None = None  # columns.parse_number_columns of the records


def batch_items(body: Any) -> list[Any]:
    """The list of applications of a batch body; InvalidRequestError says what shape is expected."""
    if type(body) is not dict:
        got = _json_type(body)
        raise InvalidRequestError(
            "the body is not a batch",
            [{"field": "body", "message": f"expected {BATCH_SHAPE}; got {got}"}],
        )
    details = [
        {"field": key, "message": f"`{key}` is not part of a batch; send {BATCH_SHAPE}"}
        for key in body
        if key != "applications"
    ]
    items = body.get("applications")
    if type(items) is not list or not items:
        got = "an empty array" if items == [] else _json_type(items)
        got = "got nothing" if "applications" not in body else f"got {got}"
        message = f"`applications` must be a non-empty array of applications; {got}"
        details.insert(0, {"field": "applications", "message": message})
    if details:
        raise InvalidRequestError("the body is not a batch", details)
    return items


def validate_batch(items: list[Any]) -> Validated:
    """Raw records (published names, values as sent) of valid applications.

    Raises InvalidRequestError, naming every problem of every application, when any is invalid.
    """
    rows = [_plain_values(item) for item in items]
    if rows and all(row is not None for row in rows):
        numbers = _numbers_in_range(list(zip(*rows, strict=True)))
        if numbers is not None:
            records = [dict(zip(_NAMES, row, strict=True)) for row in rows]  # type: ignore[arg-type]
            return Validated(records, numbers)
    problems = [
        problem
        for i, item in enumerate(items)
        for problem in check_application(item, f"applications.{i}.", batch=True)
    ]
    if problems:
        raise InvalidRequestError("some applications are invalid", problems)
    return Validated([_record(item) for item in items])


def validate_application(body: Any) -> dict[str, Any]:
    """The raw record of one valid application; InvalidRequestError names every problem."""
    row = _plain_values(body)
    if row is not None and _row_in_range(row):
        return dict(zip(_NAMES, row, strict=True))
    problems = check_application(body)
    if problems:
        raise InvalidRequestError("the body is not a valid application", problems)
    return _record(body)


class ReferralReason(BaseModel):
    """One rule of the decision policy that referred the application."""

    rule: str
    message: str
    fields: list[str] | None = None


class DecisionPolicy(BaseModel):
    """The decision policy packaged with the model version."""

    version: str
    threshold: float
    grey_zone: float
    required_fields: list[str]
    important_features: list[str]
    minimum_important_share: float
    source: str


class _Scored(BaseModel):
    """What every prediction record says (answered and stored)."""

    prediction_id: str
    request_id: str
    client_id: str | None
    probability_of_default: float
    points: int | None = Field(
        description="The PD as a score in points (higher is safer; 600 at odds 19:1 and 50 "
        "points to double the odds unless the lender's LOANOPS_POINTS_* settings say "
        "otherwise); null for decisions stored before points existed."
    )
    predicted_class: int
    decision: Literal["approve", "refer", "decline"] = Field(
        description="'refer' (to a person) when the application lacks what the model's policy "
        "requires or the PD is within the policy's grey zone around the threshold; otherwise "
        "'decline' when the class is 1 (default), else 'approve'."
    )
    referral_reasons: list[ReferralReason] = Field(
        description="Why the application was referred; empty unless the decision is 'refer'."
    )
    threshold: float
    reason_codes: list[Any]
    model_name: str
    model_version: str
    run_id: str | None
    prediction_timestamp: str


class Prediction(_Scored):
    """One scored, recorded application."""

    policy_version: str = Field(description="Version of the decision policy that decided.")

    reason_method: str = Field(
        description=(
            "How the reason codes were computed: 'saabas' (tree path attribution), 'treeshap' "
            "(exact TreeSHAP, tree champions packaged without the scoring fast path) or "
            "'coefficient_x_value' (logistic). The stored record does not repeat it: the model "
            "version identifies it."
        )
    )


class BatchResponse(BaseModel):
    """Predictions in request order."""

    model_name: str
    model_version: str
    count: int
    predictions: list[Prediction]


class StoredPrediction(_Scored):
    """A stored prediction with what the model saw."""

    input_raw_data: dict[str, Any]
    processed_data: dict[str, Any]
    latency_ms: float
    decision_policy: dict[str, Any] | None = Field(
        description="The whole policy that decided (null for decisions stored before policies)."
    )


class PdBand(BaseModel):
    """One band of the champion's PD band table."""

    band: int
    rows: int
    pd_min: float
    pd_max: float
    mean_pd: float
    default_rate: float
    defaults: int
    points_min: int
    points_max: int


class ModelInfo(BaseModel):
    """The champion currently serving."""

    name: str
    version: str
    run_id: str | None
    alias: str | None
    uri: str
    threshold: float
    metrics: dict[str, float]
    features: list[str]
    policy: DecisionPolicy
    loaded_at: str
    pd_bands: list[PdBand] | None = Field(
        description="The training run's test split in ten equal groups by PD: PD and points "
        "ranges, mean PD and the default rate seen (null for models trained without it)."
    )
    points_scale: dict[str, float] = Field(
        description="The points scale: base_points at base_odds (good:bad), pdo points to "
        "double the odds."
    )


class Health(BaseModel):
    """Liveness or readiness."""

    status: str
    model_version: str | None = None
    checks: dict[str, bool] = Field(default_factory=dict)


class ErrorDetail(BaseModel):
    """One invalid field."""

    field: str
    message: str


class Error(BaseModel):
    """Every error response."""

    error: str
    message: str
    request_id: str
    details: list[ErrorDetail] = Field(default_factory=list)
