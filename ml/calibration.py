"""Turn a classifier's scores into a probability of default, fitted on the validation split.

Class weights shift the scores away from true frequencies, so the scores are recalibrated.
Platt scaling on the score's logit (the default) keeps the ranking, hence the ROC-AUC, exactly;
isotonic regression is more flexible but ties scores into steps. Both are increasing maps, so a
model whose risk is monotone in a feature stays monotone once calibrated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

PLATT = "platt"
ISOTONIC = "isotonic"
METHODS = (PLATT, ISOTONIC)
_EPS = 1e-12


def _logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)) with p clipped away from 0 and 1."""
    p = np.clip(np.asarray(p, dtype="float64"), _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


@dataclass
class Calibrator:
    """A fitted map from raw score to PD."""

    method: str
    slope: float = 1.0
    intercept: float = 0.0
    isotonic: IsotonicRegression | None = None

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        """The calibrated PD of each raw score."""
        if self.method == ISOTONIC:
            assert self.isotonic is not None
            return np.asarray(self.isotonic.predict(np.asarray(scores, dtype="float64")))
        z = self.slope * _logit(scores) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


def fit(scores: np.ndarray, y: np.ndarray, method: str = PLATT) -> Calibrator:
    """Fit a calibrator on validation scores and labels."""
    if method == ISOTONIC:
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        iso.fit(np.asarray(scores, dtype="float64"), y)
        return Calibrator(ISOTONIC, isotonic=iso)
    if method != PLATT:
        raise ValueError(f"unknown calibration {method!r}: choose from {', '.join(METHODS)}")
    # A large C: Platt scaling is a two-parameter fit that needs no shrinkage.
    lr = LogisticRegression(C=1e6, max_iter=1000)
    lr.fit(_logit(scores).reshape(-1, 1), y)
    slope = float(lr.coef_[0, 0])
    if slope <= 0:
        # Scores that do not rank defaults (a useless model): the best increasing map is the
        # constant base rate; a negative slope would reverse the ranking and every direction.
        rate = float(np.clip(np.mean(y), _EPS, 1 - _EPS))
        return Calibrator(PLATT, slope=0.0, intercept=float(np.log(rate / (1 - rate))))
    return Calibrator(PLATT, slope=slope, intercept=float(lr.intercept_[0]))
