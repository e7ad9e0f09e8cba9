"""The published data set's shares, as data: category mixes, missing rates, junk tokens.

Figures come from docs/generator.md (which summarises the NBFI profile). Labels are the
spellings written to the file; the cleaning rules in loanops.features.spec decide what
each spelling means, so placeholders such as "XNA" and "##" are listed here on purpose.
"""

from __future__ import annotations

import numpy as np

from loanops.features import spec

TARGET_DEFAULT_RATE = 0.0808

# Share of empty fields per published column (before cleaning).
MISSING_RATE: dict[str, float] = {
    "Own_House_Age": 0.657, "Score_Source_1": 0.565, "Social_Circle_Default": 0.508,
    "Client_Occupation": 0.340, "Score_Source_3": 0.221, "Credit_Bureau": 0.152,
    "ID_Days": 0.049, "Score_Source_2": 0.047, "Population_Region_Relative": 0.040,
    "Loan_Annuity": 0.040, "Client_Income_Type": 0.030, "Client_Housing_Type": 0.030,
    "Phone_Change": 0.030, "House_Own": 0.030, "Application_Process_Hour": 0.030,
    "Employed_Days": 0.030, "Loan_Contract_Type": 0.030, "Client_Education": 0.030,
    "Child_Count": 0.030, "Active_Loan": 0.030, "Credit_Amount": 0.030, "Bike_Owned": 0.030,
    "Registration_Days": 0.030, "Type_Organization": 0.030, "Client_Income": 0.030,
    "Age_Days": 0.030, "Car_Owned": 0.030, "Client_Marital_Status": 0.030,
    "Application_Process_Day": 0.020, "Client_Gender": 0.020, "Client_Family_Members": 0.020,
    "Cleint_City_Rating": 0.020, "Accompany_Client": 0.014,
}  # fmt: skip

# Share of the present numeric cells replaced by a junk token, and the tokens each column
# receives (the public file's money columns carry "$", days columns "x", and so on).
JUNK_RATE = 0.008
JUNK_TOKENS: dict[str, tuple[str, ...]] = {
    "Client_Income": ("$",), "Credit_Amount": ("$",), "Loan_Annuity": ("$", "#NA"),
    "Population_Region_Relative": ("@", "#"), "Age_Days": ("x",), "Employed_Days": ("x",),
    "Registration_Days": ("x",), "ID_Days": ("x",), "Phone_Change": ("x", "#NA"),
    "Score_Source_1": ("&",), "Score_Source_2": ("&", "#"), "Score_Source_3": ("&",),
    "Social_Circle_Default": ("#NA", "&"), "Own_House_Age": ("#NA", "@"),
    "Credit_Bureau": ("#NA", "$"), "Child_Count": ("#NA", "x"),
    "Client_Family_Members": ("#NA", "x"), "Cleint_City_Rating": ("#", "@"),
    "Application_Process_Day": ("#NA",), "Application_Process_Hour": ("#NA", "#"),
}  # fmt: skip

# (label as written, weight). Weights need not sum to one.
ACCOMPANY = (
    ("Alone", 99_109), ("Relative", 15_741), ("Partner", 4_514), ("Kids", 1_150),
    ("Other", 1_000), ("Group", 186), ("##", 100),
)  # fmt: skip
# Income types of people who are not retired; retirement is drawn from age.
WORKING_INCOME_TYPES = (
    ("Service", 64_700), ("Commercial", 27_751), ("Govt Job", 8_300), ("Student", 5),
    ("Unemployed", 5), ("Maternity leave", 4), ("Businessman", 3),
)  # fmt: skip
NOT_EMPLOYED_INCOME_TYPES = frozenset({"Retired", "Unemployed"})
EDUCATION = (
    ("Secondary", 87_521), ("Graduation", 28_700), ("Post Grad", 167),
    ("Graduation dropout", 3_957), ("Junior secondary", 1_455),
)  # fmt: skip
GENDER = (("Male", 80_800), ("Female", 40_955), ("XNA", 45))
MARITAL = (("M", 0.715), ("S", 0.148), ("D", 0.085), ("W", 0.052))
CONTRACT = (("CL", 0.905), ("RL", 0.095))
HOUSING = (
    ("Home", 0.887), ("Family", 0.048), ("Municipal", 0.036), ("Rental", 0.016),
    ("Office", 0.0085), ("Shared", 0.0045),
)  # fmt: skip
CHILDREN = ((0, 0.700), (1, 0.199), (2, 0.087), (3, 0.012), (4, 0.0014), (5, 0.0003), (6, 0.0002))

# Organisation shares among the employed (per mille, after the public data set); every
# spelling known to the cleaning rules appears, "XNA" is written for the not employed.
_ORGANIZATION_PER_MILLE = {
    "Business Entity Type 3": 270, "Self-employed": 153, "Other": 66, "Medicine": 44,
    "Business Entity Type 2": 42, "Government": 42, "School": 35, "Trade: type 7": 31,
    "Kindergarten": 27, "Construction": 27, "Business Entity Type 1": 23,
    "Transport: type 4": 22, "Trade: type 3": 14, "Industry: type 9": 13,
    "Industry: type 3": 13, "Security": 13, "Housing": 12, "Industry: type 11": 11,
    "Military": 11, "Bank": 10, "Agriculture": 10, "Police": 9, "Transport: type 2": 9,
    "Postal": 9, "Security Ministries": 8, "Trade: type 2": 8, "Restaurant": 7,
    "Services": 6, "University": 5, "Industry: type 7": 5, "Transport: type 3": 5,
    "Industry: type 1": 4, "Hotel": 4, "Electricity": 4, "Industry: type 4": 3.5,
    "Trade: type 6": 2.6, "Industry: type 5": 2.3, "Insurance": 2.3, "Telecom": 2.3,
    "Emergency": 2.2, "Industry: type 2": 1.8, "Advertising": 1.7, "Realtor": 1.6,
    "Culture": 1.5, "Industry: type 12": 1.5, "Trade: type 1": 1.4, "Mobile": 1.2,
    "Legal Services": 1.2, "Cleaning": 1.0, "Transport: type 1": 0.8, "Industry: type 6": 0.5,
    "Industry: type 10": 0.5, "Religion": 0.4, "Industry: type 13": 0.3, "Trade: type 4": 0.3,
    "Trade: type 5": 0.3, "Industry: type 8": 0.2,
}  # fmt: skip
assert set(_ORGANIZATION_PER_MILLE) == set(spec.ORGANIZATION_TYPES)
ORGANIZATION = tuple(_ORGANIZATION_PER_MILLE.items())
NOT_EMPLOYED_ORGANIZATION = "XNA"

OCCUPATION = (
    ("Laborers", 179), ("Sales", 104), ("Core", 90), ("Managers", 69), ("Drivers", 60),
    ("High skill tech", 37), ("Accountants", 32), ("Medicine", 28), ("Security", 22),
    ("Cooking", 19), ("Cleaning", 15), ("Private service", 8.6), ("Low-skill Laborers", 6.8),
    ("Waiters/barmen", 4.4), ("Secretaries", 4.2), ("Realty agents", 2.4), ("HR", 1.8),
    ("IT", 1.7),
)  # fmt: skip
assert {label for label, _ in OCCUPATION} == set(spec.OCCUPATIONS)

# Yes/No tags: share of "Yes" (an address mismatch, as the schema describes the tags).
PERMANENT_MISMATCH_SHARE = 0.08
WORK_MISMATCH_SHARE = 0.18


def labels(table: tuple[tuple[object, float], ...]) -> np.ndarray:
    """The labels of a (label, weight) table, as an array."""
    return np.array([label for label, _ in table], dtype=object)


def weights(table: tuple[tuple[object, float], ...]) -> np.ndarray:
    """The weights of a (label, weight) table, normalised to sum to one."""
    raw = np.array([weight for _, weight in table], dtype="float64")
    return raw / raw.sum()


def regions(shifted: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fixed 81 regions: relative population, city rating and share of applicants.

    The table is a formula, not a draw, so every seed sees the same regions. The largest
    region (the capital) takes 2.7 % of applicants; the shifted population comes mostly
    from small, average-rated regions.
    """
    steps = np.arange(80) / 79
    population = np.round(np.append(0.00029 + 0.045 * steps**1.5, 0.0725), 6)
    share = population ** (-0.4 if shifted else 0.15)
    share[-1] = 0.0
    capital = 0.010 if shifted else 0.027
    share = share / share.sum() * (1 - capital)
    share[-1] = capital
    # Ratings follow population under the unshifted mix: the most populated tenth of
    # applicants live in "3" (best) regions, the least populated 16 % in "1" (average).
    order = np.argsort(-population)
    base = population**0.15
    base[-1] = 0.0
    base = base / base.sum() * 0.973
    base[-1] = 0.027
    reached = np.cumsum(base[order])
    rating = np.full(population.shape, 2.0)
    rating[order[reached <= 0.105 + 1e-9]] = 3.0
    rating[order[reached > 0.843]] = 1.0
    return population, rating, share
