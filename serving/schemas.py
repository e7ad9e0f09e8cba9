"""Request and response models, built from the published schema (loanops.schema).

Values are kept exactly as sent (numbers or text), because the feature definition cleans
text the way dbt cleans the landed CSV: junk tokens become missing and are accepted, while
a number outside its published range rejects the application (422 naming the field).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    create_model,
)

from loanops.features import frame, spec
from loanops.schema import APPLICATION_COLUMNS, BY_NAME, Kind, raw_name

Number = StrictInt | StrictFloat | StrictStr | None
Flag = StrictInt | StrictFloat | StrictStr | StrictBool | None
Text = StrictStr | StrictInt | StrictFloat | None
_RULES = {rule.source: rule for rule in spec.NUMBERS}


def _in_range(rule: spec.NumberRule) -> AfterValidator:
    """A validator that rejects a value whose cleaned number lies outside the rule's range."""
    low, high, message, parse = rule.low, rule.high, rule.range_message, frame.parse_number

    def check(value: Any) -> Any:
        number = parse(value)
        if number < low or number > high:
            raise ValueError(message)
        return value

    return AfterValidator(check)


def _bounds(rule: spec.NumberRule) -> Any:
    """Add the published range to the numeric branches of a field's JSON schema."""

    def extra(schema: dict[str, Any]) -> None:
        for branch in schema.get("anyOf", []):
            if branch.get("type") in ("integer", "number"):
                branch.update(minimum=rule.low, maximum=rule.high)

    return extra


def _field(name: str) -> tuple[Any, Any]:
    """The pydantic type and Field of one published column."""
    column = BY_NAME[name]
    alias = AliasChoices(name, raw_name(name))
    info = Field(None, validation_alias=alias, serialization_alias=name)
    if column.kind == Kind.NUMBER:
        rule = _RULES[name]
        info = Field(
            None,
            validation_alias=alias,
            serialization_alias=name,
            description=f"{column.description} Number or text; junk text counts as missing.",
            json_schema_extra=_bounds(rule),
        )
        return Annotated[Number, _in_range(rule)], info
    info.description = column.description
    return (Flag if column.kind == Kind.FLAG else Text), info


Application = create_model(  # type: ignore[call-overload]
    "Application",
    __config__=ConfigDict(extra="ignore", populate_by_name=False),
    __doc__="One loan application: the published fields (or their snake_case names), all optional.",
    **{name: _field(name) for name in APPLICATION_COLUMNS},
)


def raw_record(application: BaseModel) -> dict[str, Any]:
    """The application keyed by published names, values as sent."""
    return application.model_dump(by_alias=True)


class BatchRequest(BaseModel):
    """Many applications scored and recorded together."""

    model_config = ConfigDict(extra="ignore")
    applications: list[Application] = Field(min_length=1)  # type: ignore[valid-type]


class _Scored(BaseModel):
    """What every prediction record says (answered and stored)."""

    prediction_id: str
    request_id: str
    client_id: str | None
    probability_of_default: float
    predicted_class: int
    decision: str = Field(description="'decline' when the class is 1 (default), else 'approve'.")
    threshold: float
    reason_codes: list[Any]
    model_name: str
    model_version: str
    run_id: str | None
    prediction_timestamp: str


class Prediction(_Scored):
    """One scored, recorded application."""

    reason_method: str = Field(
        description=(
            "How the reason codes were computed: 'saabas' (tree path attribution), 'treeshap' "
            "(exact TreeSHAP, tree champions packaged before the scoring fast path) or "
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
    loaded_at: str


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
