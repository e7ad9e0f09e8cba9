"""The one definition of cleaning and features, shared by dbt and serving.

Every rule here is data. `loanops.features.sql` renders it into the dbt macros that the
silver and gold models call; `loanops.features.frame` applies it to a pandas frame for the
API and the packaged model. Change a rule here, run `loanops features render`, and both
sides change together; a parity test proves they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loanops.schema import BY_NAME, EMPLOYED_DAYS_SENTINEL, Kind

# A number as a lender writes it: optional sign, up to 15 integer digits, optional decimals.
# No exponents or thousands separators; anything else is a junk token and becomes missing.
NUMBER_PATTERN = r"[+-]?([0-9]{1,15}([.][0-9]*)?|[.][0-9]{1,15})"
ID_PATTERN = r"[0-9]{1,18}"
TRUE_TOKENS = ("1", "1.0", "yes", "y", "true")
FALSE_TOKENS = ("0", "0.0", "no", "n", "false")
LABEL_TOKENS = {"0": 0, "0.0": 0, "1": 1, "1.0": 1}
UNKNOWN = "unknown"
OTHER = "other"
# Placeholders that mean "not given" in the published file; compared lowercased and trimmed.
PLACEHOLDERS = ("", "xna", "na", "n/a", "#na", "nan", "null", "none", "##", "#", "?", "-")
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class NumberRule:
    """A numeric column: junk text becomes missing, values outside [low, high] reject the row."""

    source: str
    name: str
    sentinel: float | None = None
    sentinel_flag: str | None = None

    @property
    def low(self) -> float:
        """Lowest accepted value (from the schema)."""
        return float(BY_NAME[self.source].low)  # type: ignore[arg-type]

    @property
    def high(self) -> float:
        """Highest accepted value (from the schema)."""
        return float(BY_NAME[self.source].high)  # type: ignore[arg-type]

    def outside(self, numbers: Any) -> Any:
        """Where parsed numbers (a float or an array) fall outside [low, high]; NaN never does."""
        return (numbers < self.low) | (numbers > self.high)

    @property
    def range_message(self) -> str:
        """The rejection reason when a value falls outside the range."""
        return f"{self.name} is outside [{_fmt(self.low)}, {_fmt(self.high)}]"


@dataclass(frozen=True)
class FlagRule:
    """A 0/1 column sent as 0/1, 1.0/0.0 or Yes/No; anything else becomes missing."""

    source: str
    name: str


@dataclass(frozen=True)
class CategoryRule:
    """A category: placeholders and missing become 'unknown', unlisted values 'other'."""

    source: str
    name: str
    values: dict[str, str] = field(default_factory=dict)  # lowercased spelling -> canonical


def _categories(*canonical: str, **aliases: str) -> dict[str, str]:
    """Map each canonical value (and each alias) from its lowercase spelling."""
    mapping = {value.lower(): value for value in canonical}
    mapping.update({alias.lower().replace("_", " "): value for alias, value in aliases.items()})
    return mapping


def _fmt(value: float) -> str:
    """Print a bound without a trailing .0 so messages read naturally."""
    return str(int(value)) if float(value).is_integer() else repr(value)


ORGANIZATION_TYPES = (
    "Business Entity Type 1", "Business Entity Type 2", "Business Entity Type 3",
    "Self-employed", "Other", "Government", "School", "Kindergarten", "University",
    "Medicine", "Military", "Police", "Security Ministries", "Emergency", "Security",
    "Postal", "Transport: type 1", "Transport: type 2", "Transport: type 3",
    "Transport: type 4", "Construction", "Housing", "Electricity", "Agriculture",
    "Restaurant", "Hotel", "Culture", "Religion", "Bank", "Insurance", "Mobile",
    "Legal Services", "Advertising", "Cleaning", "Telecom", "Realtor", "Services",
    "Trade: type 1", "Trade: type 2", "Trade: type 3", "Trade: type 4", "Trade: type 5",
    "Trade: type 6", "Trade: type 7", "Industry: type 1", "Industry: type 2",
    "Industry: type 3", "Industry: type 4", "Industry: type 5", "Industry: type 6",
    "Industry: type 7", "Industry: type 8", "Industry: type 9", "Industry: type 10",
    "Industry: type 11", "Industry: type 12", "Industry: type 13",
)  # fmt: skip

OCCUPATIONS = (
    "Laborers", "Sales", "Core", "Managers", "Drivers", "High skill tech", "Accountants",
    "Medicine", "Security", "Cooking", "Cleaning", "Private service", "Low-skill Laborers",
    "Waiters/barmen", "Secretaries", "Realty agents", "HR", "IT",
)  # fmt: skip

ID_NAME = "application_id"
LABEL_NAME = "is_default"

NUMBERS: tuple[NumberRule, ...] = (
    NumberRule("Client_Income", "client_income"),
    NumberRule("Credit_Amount", "credit_amount"),
    NumberRule("Loan_Annuity", "loan_annuity"),
    NumberRule("Child_Count", "child_count"),
    NumberRule("Client_Family_Members", "family_members"),
    NumberRule("Population_Region_Relative", "region_population_relative"),
    NumberRule("Age_Days", "age_days"),
    NumberRule("Employed_Days", "employed_days", EMPLOYED_DAYS_SENTINEL, "is_not_employed"),
    NumberRule("Registration_Days", "registration_days"),
    NumberRule("ID_Days", "id_change_days"),
    NumberRule("Phone_Change", "phone_change_days"),
    NumberRule("Own_House_Age", "house_age_years"),
    NumberRule("Cleint_City_Rating", "city_rating"),
    NumberRule("Application_Process_Day", "application_weekday"),
    NumberRule("Application_Process_Hour", "application_hour"),
    NumberRule("Score_Source_1", "score_source_1"),
    NumberRule("Score_Source_2", "score_source_2"),
    NumberRule("Score_Source_3", "score_source_3"),
    NumberRule("Social_Circle_Default", "social_circle_default_ratio"),
    NumberRule("Credit_Bureau", "credit_bureau_enquiries"),
)

FLAGS: tuple[FlagRule, ...] = (
    FlagRule("Car_Owned", "has_car"),
    FlagRule("Bike_Owned", "has_bike"),
    FlagRule("Active_Loan", "has_active_loan"),
    FlagRule("House_Own", "has_house"),
    FlagRule("Mobile_Tag", "has_mobile"),
    FlagRule("Homephone_Tag", "has_homephone"),
    FlagRule("Workphone_Working", "is_workphone_reachable"),
    FlagRule("Client_Permanent_Match_Tag", "is_permanent_address_mismatch"),
    FlagRule("Client_Contact_Work_Tag", "is_work_address_mismatch"),
)

CATEGORIES: tuple[CategoryRule, ...] = (
    CategoryRule(
        "Accompany_Client", "accompany_client", _categories("Alone", "Relative", "Partner")
    ),
    CategoryRule(
        "Client_Income_Type",
        "income_type",
        _categories("Service", "Commercial", "Retired", "Govt Job"),
    ),
    CategoryRule(
        "Client_Education",
        "education",
        _categories(
            "Secondary",
            "Graduation",
            "Graduation dropout",
            "Junior secondary",
            Post_Grad="Graduation",
        ),
    ),
    CategoryRule("Client_Marital_Status", "marital_status", _categories("M", "S", "D", "W")),
    CategoryRule("Client_Gender", "gender", _categories("Male", "Female")),
    CategoryRule("Loan_Contract_Type", "contract_type", _categories("CL", "RL")),
    CategoryRule(
        "Client_Housing_Type",
        "housing_type",
        _categories("Home", "Family", "Rental", "Municipal", "Office", "Shared"),
    ),
    CategoryRule("Client_Occupation", "occupation", _categories(*OCCUPATIONS)),
    CategoryRule("Type_Organization", "organization_type", _categories(*ORGANIZATION_TYPES)),
)

PROTECTED = tuple(r.name for r in CATEGORIES if BY_NAME[r.source].protected)

for _rule in (*NUMBERS, *FLAGS, *CATEGORIES):  # the spec must cover the schema exactly
    assert _rule.source in BY_NAME, _rule.source
assert {r.source for r in (*NUMBERS, *FLAGS, *CATEGORIES)} == {
    c.name for c in BY_NAME.values() if c.kind in (Kind.NUMBER, Kind.FLAG, Kind.CATEGORY)
}


# ---- gold features, computed from the silver columns -------------------------------------


@dataclass(frozen=True)
class Passthrough:
    """A silver column used as it is."""

    name: str
    description: str


@dataclass(frozen=True)
class DaysToYears:
    """A count of days expressed in years (days / 365.25)."""

    name: str
    days: str
    description: str


@dataclass(frozen=True)
class Ratio:
    """numerator / denominator, missing when the denominator is 0 or missing."""

    name: str
    numerator: str
    denominator: str
    description: str


NUMERIC_FEATURES: tuple[Passthrough | DaysToYears | Ratio, ...] = (
    Passthrough("client_income", "Client income in dollars."),
    Passthrough("credit_amount", "Credit amount of the loan in dollars."),
    Passthrough("loan_annuity", "Loan annuity in dollars."),
    Passthrough("child_count", "Number of children."),
    Passthrough("family_members", "Number of family members."),
    Passthrough("region_population_relative", "Relative population of the client's region."),
    DaysToYears("age_years", "age_days", "Age of the client in years."),
    DaysToYears(
        "employed_years", "employed_days", "Years in employment (missing if not employed)."
    ),
    DaysToYears("registration_years", "registration_days", "Years since the registration changed."),
    DaysToYears("id_change_years", "id_change_days", "Years since the identity document changed."),
    DaysToYears("phone_change_years", "phone_change_days", "Years since the phone changed."),
    Passthrough("house_age_years", "Age of the client's house in years."),
    Passthrough("city_rating", "City rating (3 best, 1 average)."),
    Passthrough("application_weekday", "Day of the week of the application (0 Sunday)."),
    Passthrough("application_hour", "Hour of the day of the application."),
    Passthrough("score_source_1", "External credit score 1 in [0, 1]."),
    Passthrough("score_source_2", "External credit score 2 in [0, 1]."),
    Passthrough("score_source_3", "External credit score 3 in [0, 1]."),
    Passthrough("social_circle_default_ratio", "Share of the social circle that defaulted."),
    Passthrough("credit_bureau_enquiries", "Credit bureau enquiries in the last year."),
    Ratio("credit_to_income_ratio", "credit_amount", "client_income", "Credit amount / income."),
    Ratio("annuity_to_income_ratio", "loan_annuity", "client_income", "Annuity / income."),
    Ratio("annuity_to_credit_ratio", "loan_annuity", "credit_amount", "Annuity / credit amount."),
    Ratio(
        "income_per_family_member", "client_income", "family_members", "Income / family members."
    ),
)

# The direction of risk where lending practice knows it: +1 when a higher value means a higher
# PD, -1 when it means a lower one. Training enforces these (monotone constraints for the
# trees, coefficient signs for the logistic model) and reason codes word them this way.
# Credit-to-income is left free: in this book its risk peaks near 3.5x income and falls on
# both sides, so a one-way constraint would misstate it.
RISK_DIRECTIONS: dict[str, int] = {
    "score_source_1": -1,
    "score_source_2": -1,
    "score_source_3": -1,
    "employed_years": -1,
    "annuity_to_income_ratio": 1,
    "credit_bureau_enquiries": 1,
    "social_circle_default_ratio": 1,
}

FLAG_FEATURES: tuple[str, ...] = (*(r.name for r in FLAGS), "is_not_employed")
CATEGORY_FEATURES: tuple[str, ...] = tuple(r.name for r in CATEGORIES if r.name not in PROTECTED)
NUMERIC_FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in NUMERIC_FEATURES)
MODEL_FEATURES: tuple[str, ...] = (*NUMERIC_FEATURE_NAMES, *FLAG_FEATURES, *CATEGORY_FEATURES)
SILVER_COLUMNS: tuple[str, ...] = (
    *(r.name for r in NUMBERS),
    *(r.sentinel_flag for r in NUMBERS if r.sentinel_flag),
    *(r.name for r in FLAGS),
    *(r.name for r in CATEGORIES),
)
assert set(RISK_DIRECTIONS) <= set(NUMERIC_FEATURE_NAMES), "directions are for numeric features"
assert set(RISK_DIRECTIONS.values()) <= {-1, 1}
