"""The published NBFI loan layout: one source of truth for column names, kinds and ranges.

The generator writes these columns, ingest checks files against them, the feature
specification cleans them and the API validates requests with them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import get_close_matches
from enum import StrEnum


class Kind(StrEnum):
    """How a raw text value is interpreted by the cleaning rules."""

    ID = "id"
    NUMBER = "number"
    FLAG = "flag"
    CATEGORY = "category"
    LABEL = "label"


@dataclass(frozen=True)
class Column:
    """One published column of the applications file."""

    name: str
    kind: Kind
    description: str
    low: float | None = None
    high: float | None = None
    protected: bool = False

    @property
    def raw(self) -> str:
        """The name in raw and bronze tables: lowercase snake_case, the published typo fixed."""
        return raw_name(self.name)


# `default` is a reserved word in every SQL dialect we target, so the label lands renamed.
_RAW_OVERRIDES = {"Default": "loan_default"}


def raw_name(name: str) -> str:
    """Turn a published column name into its raw/bronze warehouse name."""
    if name in _RAW_OVERRIDES:
        return _RAW_OVERRIDES[name]
    fixed = name.replace("Cleint", "Client")
    return re.sub(r"[^a-z0-9]+", "_", fixed.lower()).strip("_")


_DAYS_MAX = 43_830.0  # 120 years: anything older is not a person's history
EMPLOYED_DAYS_SENTINEL = 365_243.0  # "not employed", as in the public data set

COLUMNS: tuple[Column, ...] = (
    Column("ID", Kind.ID, "Loan application id (the primary key)."),
    Column("Client_Income", Kind.NUMBER, "Client income in dollars.", 0, 1e8),
    Column("Car_Owned", Kind.FLAG, "Client owned a car before applying (1 yes, 0 no)."),
    Column("Bike_Owned", Kind.FLAG, "Client owns a bike (1 yes, 0 no)."),
    Column("Active_Loan", Kind.FLAG, "Client had another active loan when applying (1 yes, 0 no)."),
    Column("House_Own", Kind.FLAG, "Client owns a house (1 yes, 0 no)."),
    Column("Child_Count", Kind.NUMBER, "Number of children of the client.", 0, 50),
    Column("Credit_Amount", Kind.NUMBER, "Credit amount of the loan in dollars.", 0, 1e8),
    Column("Loan_Annuity", Kind.NUMBER, "Loan annuity (periodic repayment) in dollars.", 0, 1e7),
    Column("Accompany_Client", Kind.CATEGORY, "Who accompanied the client when applying."),
    Column("Client_Income_Type", Kind.CATEGORY, "The client's type of income."),
    Column("Client_Education", Kind.CATEGORY, "Highest level of education the client reached."),
    Column(
        "Client_Marital_Status",
        Kind.CATEGORY,
        "Marital status (D divorced, S single, M married, W widowed).",
        protected=True,
    ),
    Column("Client_Gender", Kind.CATEGORY, "Gender of the client.", protected=True),
    Column("Loan_Contract_Type", Kind.CATEGORY, "Loan type (CL cash loan, RL revolving loan)."),
    Column("Client_Housing_Type", Kind.CATEGORY, "The client's housing situation."),
    Column(
        "Population_Region_Relative",
        Kind.NUMBER,
        "Relative population of the client's region (higher is more populated).",
        0,
        1,
    ),
    Column("Age_Days", Kind.NUMBER, "Age of the client in days at application.", 0, _DAYS_MAX),
    Column(
        "Employed_Days",
        Kind.NUMBER,
        "Days before the application the client started earning (365243: not employed).",
        0,
        EMPLOYED_DAYS_SENTINEL,
    ),
    Column(
        "Registration_Days",
        Kind.NUMBER,
        "Days before the application the client changed registration.",
        0,
        _DAYS_MAX,
    ),
    Column(
        "ID_Days",
        Kind.NUMBER,
        "Days before the application the client changed the identity document used.",
        0,
        _DAYS_MAX,
    ),
    Column("Own_House_Age", Kind.NUMBER, "Age of the client's house in years.", 0, 200),
    Column("Mobile_Tag", Kind.FLAG, "Client gave a mobile number (1 yes, 0 no)."),
    Column("Homephone_Tag", Kind.FLAG, "Client gave a home phone number (1 yes, 0 no)."),
    Column("Workphone_Working", Kind.FLAG, "Work phone number was reachable (1 yes, 0 no)."),
    Column("Client_Occupation", Kind.CATEGORY, "The client's occupation."),
    Column("Client_Family_Members", Kind.NUMBER, "Number of family members.", 0, 60),
    Column("Cleint_City_Rating", Kind.NUMBER, "City rating (3 best, 2 good, 1 average).", 1, 3),
    Column(
        "Application_Process_Day",
        Kind.NUMBER,
        "Day of the week of the application (0 Sunday to 6 Saturday).",
        0,
        6,
    ),
    Column("Application_Process_Hour", Kind.NUMBER, "Hour of the day of the application.", 0, 23),
    Column(
        "Client_Permanent_Match_Tag",
        Kind.FLAG,
        "Contact address does not match the permanent address (Yes/No).",
    ),
    Column(
        "Client_Contact_Work_Tag",
        Kind.FLAG,
        "Work address does not match the contact address (Yes/No).",
    ),
    Column("Type_Organization", Kind.CATEGORY, "Type of organisation the client works for."),
    Column("Score_Source_1", Kind.NUMBER, "External credit score 1, normalised to [0, 1].", 0, 1),
    Column("Score_Source_2", Kind.NUMBER, "External credit score 2, normalised to [0, 1].", 0, 1),
    Column("Score_Source_3", Kind.NUMBER, "External credit score 3, normalised to [0, 1].", 0, 1),
    Column(
        "Social_Circle_Default",
        Kind.NUMBER,
        "Share of the client's social circle that defaulted in the last 60 days.",
        0,
        1,
    ),
    Column(
        "Phone_Change",
        Kind.NUMBER,
        "Days before the application the client changed phone.",
        0,
        _DAYS_MAX,
    ),
    Column("Credit_Bureau", Kind.NUMBER, "Credit bureau enquiries in the last year.", 0, 100),
    Column("Default", Kind.LABEL, "1 if the client defaulted on the loan, 0 otherwise."),
)

BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
ID_COLUMN = "ID"
LABEL_COLUMN = "Default"
FIRST_ID = 12_100_001

# Other names accepted for a published column, mapped to it: the correct spelling of the
# published typo. Files and requests may use either; everything downstream sees the published
# name (and its raw name, which already fixes the typo).
NAME_ALIASES: dict[str, str] = {"Client_City_Rating": "Cleint_City_Rating"}

PUBLISHED_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS)
APPLICATION_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind != Kind.LABEL)
INPUT_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in COLUMNS if c.kind not in (Kind.ID, Kind.LABEL)
)
OUTCOME_COLUMNS: tuple[str, ...] = (ID_COLUMN, LABEL_COLUMN)

# Every name an application field may be sent under, mapped to its published name: the
# published name, its snake_case (raw) name and a declared alias. The API, the web form and the
# packaged model's `predict` all read names through these rules, so they accept and refuse alike.
ACCEPTED_NAMES: dict[str, str] = {
    **{name: name for name in APPLICATION_COLUMNS},
    **{raw_name(name): name for name in APPLICATION_COLUMNS},
    **{alias: name for alias, name in NAME_ALIASES.items() if name in APPLICATION_COLUMNS},
}
# The outcome under its published and raw names: named as such, never suggested as a field.
LABEL_NAMES: frozenset[str] = frozenset({LABEL_COLUMN, raw_name(LABEL_COLUMN)})
# Every accepted name lowercased, for suggestions (a misspelling is often a case slip too).
_LOWERED: dict[str, str] = {name.lower(): published for name, published in ACCEPTED_NAMES.items()}


def suggestion(name: str) -> str | None:
    """The published field name closest to an unknown name, or None when none is close."""
    close = get_close_matches(name.lower(), _LOWERED, n=1, cutoff=0.75)
    return _LOWERED[close[0]] if close else None


def unknown_name(name: str, where_listed: str = "") -> str:
    """Why a name is not an application field, suggesting the published name it resembles.

    `where_listed`: appended when nothing is close, to say where the fields are listed.
    """
    if name in LABEL_NAMES:
        return f"`{name}` is the outcome the model predicts, not part of an application"
    close = suggestion(name)
    if close is not None:
        return f"`{name}` is not a field; did you mean `{close}`?"
    return f"`{name}` is not a field of an application{where_listed}"


def same_field(name: str, first: str) -> str:
    """Why a second name for an already sent field is refused."""
    return f"`{name}` and `{first}` are the same field; send it once"


def name_problems(names: Iterable[str], where_listed: str = "") -> list[tuple[str, str]]:
    """(name, message) for each name that is not a field or repeats one; empty when all pass."""
    problems, seen = [], {}
    for name in names:
        published = ACCEPTED_NAMES.get(name)
        if published is None:
            problems.append((name, unknown_name(name, where_listed)))
        elif published in seen:
            problems.append((name, same_field(name, seen[published])))
        else:
            seen[published] = name
    return problems
