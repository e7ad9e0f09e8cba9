"""A PD as a score in points (points-to-double-the-odds scaling), the way credit teams read it.

points = base_points + pdo / ln 2 x ln(good:bad odds / base_odds), good:bad odds = (1 - PD) / PD.
With the defaults, PD 5 % (odds 19:1) is 600 points and each 50 points doubles the odds of
repaying; a higher score is a safer applicant. The scale is a lending convention, the same for
every model version, so scores stay comparable across versions; it is read from the
environment once (LOANOPS_POINTS_BASE, LOANOPS_POINTS_BASE_ODDS, LOANOPS_POINTS_PDO).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

# PDs are clipped here before the log odds: a PD of exactly 0 or 1 (isotonic calibration can
# give one) would be infinitely many points.
PD_LIMIT = 1e-6


@dataclass(frozen=True)
class Scale:
    """Points at the base odds, and points that double the odds."""

    base_points: float = 600.0
    base_odds: float = 19.0  # good:bad, i.e. PD = 1 / (1 + 19) = 5 %
    pdo: float = 50.0

    def __post_init__(self) -> None:
        if not (self.base_odds > 0 and math.isfinite(self.base_odds)):
            raise ValueError(f"the base odds must be a positive number; got {self.base_odds}")
        if not (self.pdo > 0 and math.isfinite(self.pdo)):
            raise ValueError(f"points to double the odds must be positive; got {self.pdo}")
        if not math.isfinite(self.base_points):
            raise ValueError(f"the base points must be a number; got {self.base_points}")

    def points(self, pd_: Any) -> np.ndarray:
        """Integer points of each PD (an array or a float)."""
        p = np.clip(np.asarray(pd_, dtype="float64"), PD_LIMIT, 1 - PD_LIMIT)
        odds = np.log1p(-p) - np.log(p)
        factor = self.pdo / math.log(2.0)
        raw = self.base_points + factor * (odds - math.log(self.base_odds))
        return np.rint(raw).astype("int64")

    def as_dict(self) -> dict[str, float]:
        """The scale as stored beside a band table or shown by the API."""
        return asdict(self)


VARIABLES = {
    "base_points": "LOANOPS_POINTS_BASE",
    "base_odds": "LOANOPS_POINTS_BASE_ODDS",
    "pdo": "LOANOPS_POINTS_PDO",
}


def scale_from(environ: Mapping[str, str] | None = None) -> Scale:
    """The scale the environment sets (defaults where unset); ValueError names a bad variable."""
    env = os.environ if environ is None else environ
    values: dict[str, float] = {}
    for field, variable in VARIABLES.items():
        text = env.get(variable)
        if text is None or text == "":
            continue
        try:
            values[field] = float(text)
        except ValueError:
            raise ValueError(f"{variable}={text!r} is not a number") from None
    try:
        return Scale(**values)
    except ValueError as exc:
        names = ", ".join(f"{VARIABLES[f]}={v:g}" for f, v in values.items())
        raise ValueError(f"{exc} ({names or 'defaults'})") from None
