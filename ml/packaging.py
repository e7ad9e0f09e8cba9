"""The packaged model: an MLflow pyfunc whose input is the raw application (published names).

It carries the one feature definition: `loanops` and `ml` travel as code_paths,
so any MLflow server (`mlflow models serve`, Azure ML) builds the same features as dbt's gold
model and returns PD, class, the policy's decision (approve / refer / decline) with its
referral reasons, and reason codes. The policy travels inside the pickled scorer.

The model implements the scoring contract (`loanops.scoring_contract`) and records its version
in the model's metadata; `load` is the one way this project's code opens a packaged model, and
it refuses a model packaged under another contract version.

Its input follows the application contract the API follows (`loanops.schema`'s name rules): a
column that is not a field is refused by name, with the published name it resembles, and the
snake_case names and the declared alias are read as the published ones.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

import joblib
import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.types.schema import AnyType, Array, ColSpec, DataType, Schema

from loanops import scoring_contract
from loanops.features import columns, frame
from loanops.schema import ACCEPTED_NAMES, APPLICATION_COLUMNS, name_problems
from loanops.scoring_contract import TOP_REASONS, GoldColumns, Scores
from loanops.settings import REPO_ROOT
from ml.scorer import Scorer

ARTIFACT_KEY = "scorer"
CODE_PATHS = [str(REPO_ROOT / "loanops"), str(REPO_ROOT / "ml")]
# Distributions the model needs at load time (named as pip knows them).
REQUIREMENTS = ("mlflow", "scikit-learn", "lightgbm", "xgboost-cpu", "pandas", "numpy", "joblib")
WHERE_LISTED = " (the model's input example lists the published fields)"
EXPECTED = (
    "a frame of applications: one column per field, under its published name (such as "
    "`Client_Income`), its snake_case name or a declared alias"
)


class LoanDefaultModel(mlflow.pyfunc.PythonModel):
    """Raw applications in; PD, class (1 = PD >= threshold), decision and reasons out.

    Beside MLflow's `predict` it is the scoring contract's `ApplicationScorer` for this
    project's own code (serving, batch scoring, the promotion gate).
    """

    def load_context(self, context: Any) -> None:
        """Load the fitted scorer from the model's artifacts."""
        self._scorer: Scorer = joblib.load(context.artifacts[ARTIFACT_KEY])
        self.threshold = float(self._scorer.threshold)
        self.features = self._scorer.features
        self.reason_method = self._scorer.reason_method
        self.policy_record = self._scorer.policy_record

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict | None = None
    ) -> pd.DataFrame:
        """Build gold features from raw applications and score them."""
        raw = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        named = applications(raw)
        return self._scorer.predict(columns.gold_from_raw(frame.columns_of(named), len(named)))

    def predict_columns(self, gold: GoldColumns, top_reasons: int = TOP_REASONS) -> Scores:
        """The scoring contract: PD, class, decision and reasons of rows of gold features."""
        return self._scorer.predict_columns(gold, top_reasons)


def load(uri: str) -> scoring_contract.ApplicationScorer:
    """The packaged model at `uri` as the scoring contract; refuses other contract versions."""
    metadata = mlflow.models.get_model_info(uri).metadata or {}  # read before unpickling
    scoring_contract.check(metadata.get(scoring_contract.METADATA_KEY), uri)
    scorer: LoanDefaultModel = mlflow.pyfunc.load_model(uri).unwrap_python_model()
    return scorer


def applications(raw: pd.DataFrame) -> pd.DataFrame:
    """The frame under published column names; refuses unknown and repeated fields by name.

    The refusal is an MlflowException with INVALID_PARAMETER_VALUE, which `mlflow models serve`
    answers as a 400 carrying the message.
    """
    names = [str(column) for column in raw.columns]
    problems = name_problems(names, WHERE_LISTED)
    if problems:
        listed = "; ".join(message for _, message in problems)
        raise MlflowException.invalid_parameter_value(f"{listed}. Expected {EXPECTED}.")
    if not names:
        raise MlflowException.invalid_parameter_value(f"Expected {EXPECTED}; got no columns.")
    return raw.set_axis([ACCEPTED_NAMES[name] for name in names], axis=1).reset_index(drop=True)


def signature() -> ModelSignature:
    """PD/class/decision/reasons out; the input is checked by `predict`, not by the signature.

    MLflow enforces a column-based input schema before `predict` runs by dropping every column
    it does not declare, with only a log warning, so a misspelt field would silently become a
    missing one; the declared columns would all be optional and of any type, so the schema
    would check nothing else. The input example documents the published columns instead, and
    `predict` lets numbers, numeric text and junk tokens ('$', '#NA') all reach the cleaning
    rules, which decide what they mean, exactly as dbt's silver model does for landed text.
    """
    outputs = Schema(
        [
            ColSpec(DataType.double, "pd"),
            ColSpec(DataType.long, "class"),
            ColSpec(DataType.string, "decision"),
            # objects {rule, message, fields?}; empty unless the decision is refer
            ColSpec(AnyType(), "referral_reasons"),
            ColSpec(Array(DataType.string), "reasons"),
        ]
    )
    return ModelSignature(inputs=None, outputs=outputs)


def requirements() -> list[str]:
    """Pinned pip requirements (explicit, so MLflow does not spawn a process to infer them)."""
    return [f"{name}=={importlib.metadata.version(name)}" for name in REQUIREMENTS]


# Two raw applications as clients send them: numbers as text or numbers, Yes/No flags, a junk
# token ('$') and a placeholder ('XNA'), which the cleaning rules turn into missing values.
EXAMPLE_RECORDS: list[dict[str, Any]] = [
    {
        "ID": "12100001", "Client_Income": "6750", "Car_Owned": "0", "Bike_Owned": "0",
        "Active_Loan": "1", "House_Own": "0", "Child_Count": "0", "Credit_Amount": "61190.55",
        "Loan_Annuity": "3416.85", "Accompany_Client": "Alone", "Client_Income_Type": "Commercial",
        "Client_Education": "Secondary", "Client_Marital_Status": "M", "Client_Gender": "Male",
        "Loan_Contract_Type": "CL", "Client_Housing_Type": "Home",
        "Population_Region_Relative": "0.028663", "Age_Days": "13957", "Employed_Days": "1062",
        "Registration_Days": "6123", "ID_Days": "383", "Own_House_Age": None, "Mobile_Tag": "1",
        "Homephone_Tag": "1", "Workphone_Working": "0", "Client_Occupation": "Sales",
        "Client_Family_Members": "2", "Cleint_City_Rating": "2", "Application_Process_Day": "6",
        "Application_Process_Hour": "17", "Client_Permanent_Match_Tag": "Yes",
        "Client_Contact_Work_Tag": "Yes", "Type_Organization": "Self-employed",
        "Score_Source_1": "0.568066", "Score_Source_2": "0.478787", "Score_Source_3": None,
        "Social_Circle_Default": "0.0186", "Phone_Change": "63", "Credit_Bureau": None,
    },
    {
        "ID": 12100002, "Client_Income": "$", "Car_Owned": 1, "Bike_Owned": 0, "Active_Loan": 0,
        "House_Own": None, "Child_Count": 1, "Credit_Amount": 15282.0, "Loan_Annuity": "#",
        "Accompany_Client": "Relative", "Client_Income_Type": "Service",
        "Client_Education": "Graduation", "Client_Marital_Status": "S", "Client_Gender": "XNA",
        "Loan_Contract_Type": "CL", "Client_Housing_Type": "Family",
        "Population_Region_Relative": 0.008019, "Age_Days": 14162, "Employed_Days": 365243,
        "Registration_Days": 4129, "ID_Days": 2740, "Own_House_Age": 12, "Mobile_Tag": 1,
        "Homephone_Tag": 0, "Workphone_Working": 0, "Client_Occupation": None,
        "Client_Family_Members": 3, "Cleint_City_Rating": 2, "Application_Process_Day": 3,
        "Application_Process_Hour": 10, "Client_Permanent_Match_Tag": "No",
        "Client_Contact_Work_Tag": "No", "Type_Organization": "XNA", "Score_Source_1": None,
        "Score_Source_2": 0.215068, "Score_Source_3": 0.7, "Social_Circle_Default": None,
        "Phone_Change": 1255, "Credit_Bureau": 2,
    },
]  # fmt: skip


def input_example() -> pd.DataFrame:
    """The example applications, every value as text or None (how JSON clients send them)."""
    records = [{k: None if v is None else str(v) for k, v in r.items()} for r in EXAMPLE_RECORDS]
    return pd.DataFrame.from_records(records, columns=list(APPLICATION_COLUMNS))


def log(scorer: Scorer, folder: Path, registered_name: str | None) -> Any:
    """Log the scorer as a pyfunc model in the active run (and register it); the ModelInfo."""
    scorer.compile()  # proves the compiled path on probe rows; raises rather than package it
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scorer.joblib"
    joblib.dump(scorer, path)
    return mlflow.pyfunc.log_model(
        name="model",
        python_model=LoanDefaultModel(),
        artifacts={ARTIFACT_KEY: str(path)},
        code_paths=CODE_PATHS,
        signature=signature(),
        input_example=input_example(),
        pip_requirements=requirements(),
        registered_model_name=registered_name,
        metadata={scoring_contract.METADATA_KEY: scoring_contract.VERSION},
    )
