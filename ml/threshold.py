"""The decision threshold: decline (class 1) when PD >= threshold.

Two documented rules:
- expected_loss (default): decline when the expected loss of lending, PD x LGD x exposure, is
  larger than the expected margin on a repaid loan, (1 - PD) x margin x exposure. Exposure
  cancels for one loan, so the threshold is margin / (LGD + margin); exposure (the credit
  amount) is still used to report the expected loss of the approved book.
- approval_rate: decline the riskiest applicants so that a target share is approved, set on the
  validation split's PDs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

EXPECTED_LOSS = "expected_loss"
APPROVAL_RATE = "approval_rate"
RULES = (EXPECTED_LOSS, APPROVAL_RATE)


@dataclass(frozen=True)
class ThresholdRule:
    """Which rule and its settings."""

    rule: str = EXPECTED_LOSS
    lgd: float = 0.45  # loss given default: Basel's foundation figure for senior unsecured
    margin: float = 0.05  # what a repaid loan earns, as a share of the exposure
    approval_rate: float = 0.85

    def describe(self) -> str:
        """One sentence for the model card."""
        if self.rule == EXPECTED_LOSS:
            return (
                f"expected loss: decline when PD x LGD > (1 - PD) x margin, with LGD={self.lgd} "
                f"and margin={self.margin}, i.e. PD >= margin / (LGD + margin)"
            )
        share = f"{self.approval_rate:.0%}"
        return f"approval rate: approve the {share} lowest-PD applicants (validation split)"

    def as_params(self) -> dict[str, object]:
        """Settings as MLflow parameters."""
        return {f"threshold_{key}": value for key, value in asdict(self).items()}


def choose(rule: ThresholdRule, validation_pd: np.ndarray) -> float:
    """The threshold the rule gives (validation PDs are only used by the approval-rate rule)."""
    if rule.rule == EXPECTED_LOSS:
        if not (0 < rule.lgd <= 1 and rule.margin > 0):
            raise ValueError("LGD must be in (0, 1] and margin > 0")
        return rule.margin / (rule.lgd + rule.margin)
    if rule.rule == APPROVAL_RATE:
        if not 0 < rule.approval_rate < 1:
            raise ValueError("approval rate must be in (0, 1)")
        return float(np.quantile(validation_pd, rule.approval_rate))
    raise ValueError(f"unknown threshold rule {rule.rule!r}: choose from {', '.join(RULES)}")


def expected_loss(pd_: np.ndarray, exposure: np.ndarray, lgd: float, approved: np.ndarray) -> float:
    """Sum of PD x LGD x exposure over approved applications (missing exposure counts 0)."""
    return float(np.nansum(pd_[approved] * lgd * exposure[approved]))
