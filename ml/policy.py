"""The decision policy: approve, refer (to a person) or decline, versioned with the model.

A decision is `refer` when the application lacks information the policy requires (a required
field is missing, or too small a share of the model's most important features is present) or
when the PD falls in the grey zone around the threshold; otherwise `decline` when PD is at or
above the threshold and `approve` below it. Nothing is approved or declined on what was not
sent: a missing required field refers the application whatever its PD.

"Missing" is judged on what the model reads, after the one cleaning definition: a field that
was absent, null, a junk token or a placeholder is missing; a category counts as missing when
it cleaned to 'unknown'. The policy is chosen at training time (the defaults below, overridable
by the training config), packaged with the scorer, tagged on the registered version, and
stored with every decision.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from loanops.features import spec

APPROVE, REFER, DECLINE = "approve", "refer", "decline"
DECISIONS = (APPROVE, REFER, DECLINE)
# Rules a referral names in its reasons.
MISSING_REQUIRED = "missing_required_fields"
FEW_IMPORTANT = "too_few_important_features"
GREY_ZONE = "grey_zone"

# The defaults, in one place. A lender cannot price a loan without income, amount, annuity,
# age and employment: an application without one of them goes to a person.
REQUIRED_FIELDS: tuple[str, ...] = (
    "Client_Income", "Credit_Amount", "Loan_Annuity", "Age_Days", "Employed_Days",
)  # fmt: skip
GREY_ZONE_WIDTH = 0.01  # PD within threshold +/- this is referred
IMPORTANT_COUNT = 10  # the champion's most important features (mean |contribution| on test)
MINIMUM_IMPORTANT_SHARE = 0.5  # at least half of them must be present

TRAINED = "trained"  # chosen at training time and packaged with the model
DEFAULT = "default"  # the defaults above around a threshold, for a scorer built without one


@dataclass(frozen=True)
class PolicySettings:
    """What training chooses the policy from (every field settable from the training config)."""

    required_fields: tuple[str, ...] = REQUIRED_FIELDS
    grey_zone: float = GREY_ZONE_WIDTH
    important_count: int = IMPORTANT_COUNT
    minimum_important_share: float = MINIMUM_IMPORTANT_SHARE

    def validate(self) -> None:
        """Raise ValueError naming the setting to change when one is out of range."""
        for name in self.required_fields:
            field_columns(name)  # raises on an unknown or unusable field
        if not 0.0 <= self.grey_zone < 0.5:
            raise ValueError(f"grey_zone must be in [0, 0.5) (a PD width); got {self.grey_zone}")
        if self.important_count < 0:
            raise ValueError(f"important_count must be 0 or more; got {self.important_count}")
        if not 0.0 <= self.minimum_important_share <= 1.0:
            raise ValueError(
                f"minimum_important_share must be in [0, 1]; got {self.minimum_important_share}"
            )

    def as_params(self) -> dict[str, Any]:
        """The settings as MLflow parameters."""
        return {
            "policy_required_fields": ",".join(self.required_fields),
            "policy_grey_zone": self.grey_zone,
            "policy_important_count": self.important_count,
            "policy_minimum_important_share": self.minimum_important_share,
        }


@dataclass(frozen=True)
class Policy:
    """One model's decision policy (immutable, so a stored copy explains a decision later)."""

    threshold: float
    grey_zone: float = GREY_ZONE_WIDTH
    required_fields: tuple[str, ...] = REQUIRED_FIELDS
    important_features: tuple[str, ...] = ()
    minimum_important_share: float = 0.0
    source: str = TRAINED

    @property
    def low(self) -> float:
        """The lowest PD of the grey zone (referred from here)."""
        return max(0.0, round(self.threshold - self.grey_zone, 12))  # 0.10 - 0.01 is 0.09

    @property
    def high(self) -> float:
        """The lowest PD declined outright (the grey zone ends just below it)."""
        return min(1.0, round(self.threshold + self.grey_zone, 12))

    @property
    def version(self) -> str:
        """A short digest of the policy's rules: equal rules, equal version."""
        text = json.dumps(self._rules(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]

    def _rules(self) -> dict[str, Any]:
        """What decides (everything but the provenance)."""
        return {
            "threshold": self.threshold,
            "grey_zone": self.grey_zone,
            "required_fields": list(self.required_fields),
            "important_features": list(self.important_features),
            "minimum_important_share": self.minimum_important_share,
        }

    def as_dict(self) -> dict[str, Any]:
        """The policy as JSON-ready data: shown by GET /v1/model and stored with each decision."""
        return {"version": self.version, **self._rules(), "source": self.source}

    def columns_needed(self) -> list[str]:
        """The gold columns the policy reads."""
        needed = [column for name in self.required_fields for column, _ in field_columns(name)]
        return list(dict.fromkeys([*needed, *self.important_features]))

    def decide(self, probability: np.ndarray, columns: Mapping[str, Any]) -> Decisions:
        """Decisions and referral reasons for rows with these PDs and gold columns.

        `columns` maps each of `columns_needed()` to the rows' values (an array or list; None,
        NaN and the category 'unknown' are missing). Every rule is one operation per column.
        """
        pd_ = np.asarray(probability, dtype="float64")
        rows = len(pd_)
        present = {name: _present(columns[name], rows) for name in self.columns_needed()}
        missing = np.zeros((rows, len(self.required_fields)), dtype=bool)
        for j, name in enumerate(self.required_fields):
            has = np.zeros(rows, dtype=bool)
            for column, how in field_columns(name):
                has |= present[column] if how == PRESENT else _is_one(columns[column], rows)
            missing[:, j] = ~has
        lacks = missing.any(axis=1)
        share = np.ones(rows)
        if self.important_features:
            counts = np.sum([present[c] for c in self.important_features], axis=0)
            share = counts / len(self.important_features)
        few = share < self.minimum_important_share
        grey = (pd_ >= self.low) & (pd_ < self.high)
        refer = lacks | few | grey
        decision = np.where(refer, REFER, np.where(pd_ >= self.threshold, DECLINE, APPROVE))
        reasons: list[list[dict[str, Any]]] = [[] for _ in range(rows)]
        for i in np.flatnonzero(refer).tolist():  # only referred rows need words
            reasons[i] = self._reasons(i, missing, share, bool(lacks[i]), bool(few[i]), grey)
        return Decisions(decision.astype(object).tolist(), reasons)

    def _reasons(
        self,
        i: int,
        missing: np.ndarray,
        share: np.ndarray,
        lacks: bool,
        few: bool,
        grey: np.ndarray,
    ) -> list[dict[str, Any]]:
        """Why row i is referred, rule by rule."""
        out: list[dict[str, Any]] = []
        if lacks:
            names = [n for n, m in zip(self.required_fields, missing[i], strict=True) if m]
            out.append({
                "rule": MISSING_REQUIRED, "fields": names,
                "message": "required fields missing: " + ", ".join(names),
            })  # fmt: skip
        if few:
            out.append({
                "rule": FEW_IMPORTANT,
                "message": f"only {share[i]:.0%} of the model's {len(self.important_features)} "
                f"most important features present (at least "
                f"{self.minimum_important_share:.0%} required)",
            })  # fmt: skip
        if grey[i]:
            out.append({
                "rule": GREY_ZONE,
                "message": f"PD within the grey zone [{self.low:.4f}, {self.high:.4f}) around "
                f"the threshold {self.threshold:.4f}",
            })  # fmt: skip
        return out


@dataclass(frozen=True)
class Decisions:
    """One decision and its referral reasons per row (reasons empty unless referred)."""

    decision: list[str]
    referral_reasons: list[list[dict[str, Any]]]


PRESENT, IS_ONE = "present", "is_one"


@cache
def field_columns(name: str) -> tuple[tuple[str, str], ...]:
    """The gold columns that carry a published field, and how each shows it was given.

    Employed_Days is given when the years in employment are known or the 'not employed'
    sentinel was sent (its flag is 1). Protected attributes and the ID cannot be required:
    they are not model features.
    """
    for rule in spec.NUMBERS:
        if rule.source == name:
            out = [(_gold_of(rule.name), PRESENT)]
            if rule.sentinel_flag:
                out.append((rule.sentinel_flag, IS_ONE))
            return tuple(out)
    for rule in (*spec.FLAGS, *spec.CATEGORIES):
        if rule.source == name and rule.name in spec.MODEL_FEATURES:
            return ((rule.name, PRESENT),)
    usable = [r.source for r in (*spec.NUMBERS, *spec.FLAGS, *spec.CATEGORIES)
              if r.name in spec.SILVER_COLUMNS and r.name not in spec.PROTECTED]  # fmt: skip
    raise ValueError(
        f"{name!r} cannot be a required field: use a published application field that the "
        f"model reads ({', '.join(usable)})"
    )


def _gold_of(silver: str) -> str:
    """The gold feature that carries a silver numeric column."""
    for feature in spec.NUMERIC_FEATURES:
        if isinstance(feature, spec.Passthrough) and feature.name == silver:
            return feature.name
        if isinstance(feature, spec.DaysToYears) and feature.days == silver:
            return feature.name
    raise ValueError(f"no gold feature carries {silver}")  # the spec changed: fix field_columns


def _present(values: Any, rows: int) -> np.ndarray:
    """Where a column holds a value: not None/NaN, and not the category 'unknown'."""
    array = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    if array.dtype.kind == "f":
        return ~np.isnan(array)
    if array.dtype.kind in "iub":
        return np.ones(rows, dtype=bool)
    array = array.astype(object)
    return np.asarray(pd.notna(array) & (array != spec.UNKNOWN), dtype=bool)


def _is_one(values: Any, rows: int) -> np.ndarray:
    """Where a 0/1 flag column is 1."""
    array = np.asarray(values, dtype=object)
    return np.asarray(pd.notna(array) & (array == 1), dtype=bool).reshape(rows)


def gold_columns(gold: Any, names: Sequence[str]) -> dict[str, Any]:
    """Named columns of gold features (a DataFrame or a mapping of columns)."""
    out: dict[str, Any] = {}
    for name in names:
        column = gold[name]
        out[name] = column.to_numpy() if isinstance(column, pd.Series) else column
    return out


def record_columns(records: Sequence[Mapping[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    """Named columns of feature records (dicts keyed by gold name, None for missing)."""
    return {name: [record.get(name) for record in records] for name in names}


def build(
    settings: PolicySettings, threshold: float, importance: pd.Series | None = None
) -> Policy:
    """The policy training packages: the settings, its threshold and its top features."""
    settings.validate()
    top: tuple[str, ...] = ()
    if importance is not None and settings.important_count > 0:
        ranked = importance.sort_values(ascending=False, kind="stable")
        top = tuple(str(n) for n in ranked.index[: settings.important_count])
    return Policy(
        threshold=float(threshold),
        grey_zone=settings.grey_zone,
        required_fields=tuple(settings.required_fields),
        important_features=top,
        minimum_important_share=settings.minimum_important_share if top else 0.0,
    )


def from_dict(data: Mapping[str, Any]) -> Policy:
    """A policy back from `as_dict` (a stored decision's or a version tag's)."""
    return Policy(
        threshold=float(data["threshold"]),
        grey_zone=float(data["grey_zone"]),
        required_fields=tuple(data["required_fields"]),
        important_features=tuple(data["important_features"]),
        minimum_important_share=float(data["minimum_important_share"]),
        source=str(data.get("source", TRAINED)),
    )
