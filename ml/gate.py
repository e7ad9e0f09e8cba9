"""The promotion gate's rules: every rule's value, limit and verdict, recorded on the version.

A challenger becomes champion only when every blocking rule passes:

- `evaluation_rows`: the frozen evaluation rows (the test split when the gate first ran, ids
  kept in MLflow) are still in gold, so every figure below is on the same rows as before;
- `auc_floor`: ROC-AUC at least the absolute floor;
- `auc_vs_champions`: ROC-AUC at least the best any champion ever had on these rows, less the
  tolerance: the bar is the best, not the last, so promotions cannot walk it downhill;
- `calibration`: expected calibration error at most the limit plus what chance alone gives a
  calibrated model on these rows (ECE is inflated by noise on small samples);
- `fairness_<attribute>`: for each protected attribute, the lowest approval-rate ratio between
  groups with enough rows is at least four fifths; blocking or a warning by setting.

Beside them, `live_shadow` records how the challenger decided live applications it shadowed
(monitoring_shadow_comparison): information for the people who approve it, never blocking.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from loanops.features import spec
from ml import fairness, metrics
from ml.fairness import FOUR_FIFTHS

PASS, FAIL, WARN, INFO = "pass", "fail", "warn", "info"  # info: recorded, never judged
FAIRNESS_MODES = ("block", "warn")
CHANCE_DRAWS = 200  # label draws behind the calibration rule's noise allowance
MIN_PRESENT_SHARE = 0.9  # of the frozen rows that must still be in gold
FLOOR = 0.60  # a champion must clearly beat a coin toss (0.5), whatever came before
TOLERANCE = 0.005  # ROC-AUC below the best champion's: about the noise of a 24k-row split


@dataclass(frozen=True)
class GateSettings:
    """The limits of the rules (the defaults are `loanops promote`'s)."""

    floor: float = FLOOR
    tolerance: float = TOLERANCE
    max_ece: float = 0.02
    fairness: str = "warn"  # "block" makes the four-fifths rule blocking
    four_fifths: float = FOUR_FIFTHS
    min_group_rows: int = 100  # smaller groups are too noisy to judge

    def __post_init__(self) -> None:
        if self.fairness not in FAIRNESS_MODES:
            raise ValueError(
                f"the fairness rule is {self.fairness!r}; use one of {', '.join(FAIRNESS_MODES)}"
            )
        if not 0 <= self.floor <= 1 or self.tolerance < 0 or self.max_ece <= 0:
            raise ValueError("the floor must be in [0, 1], the tolerance >= 0, the ECE limit > 0")


@dataclass(frozen=True)
class Rule:
    """One rule's outcome: what was measured, the limit, and whether it blocks."""

    rule: str
    value: float | None
    limit: float | None
    verdict: str  # pass, fail, warn (failed but not blocking) or info (a record, not a rule)
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The rule as recorded on the version (JSON-safe: NaN as null)."""
        out = asdict(self)
        for key in ("value", "limit"):
            if out[key] is not None and not math.isfinite(out[key]):
                out[key] = None
        return out


def digest(ids: np.ndarray) -> str:
    """A short fingerprint of a set of application ids (the evaluation rows)."""
    text = "\n".join(map(str, np.sort(np.asarray(ids, dtype="int64"))))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def rows_rule(frozen: int, present: int) -> Rule:
    """The frozen evaluation rows must still be (almost all) in gold."""
    share = present / frozen if frozen else 0.0
    ok = share >= MIN_PRESENT_SHARE
    return Rule(
        "evaluation_rows", share, MIN_PRESENT_SHARE, PASS if ok else FAIL,
        f"{present:,} of the {frozen:,} frozen evaluation rows are in gold"
        + ("" if ok else "; rebuild gold from the same landing files or refreeze the rows"),
    )  # fmt: skip


def auc_rules(
    auc: float, best: float | None, best_version: str | None, settings: GateSettings
) -> list[Rule]:
    """The floor, and the best champion's ROC-AUC on the same rows less the tolerance."""
    floor_ok = auc >= settings.floor
    rules = [Rule(
        "auc_floor", auc, settings.floor, PASS if floor_ok else FAIL,
        f"ROC-AUC {auc:.4f} {'>=' if floor_ok else '<'} floor {settings.floor}",
    )]  # fmt: skip
    if best is None:
        rules.append(Rule("auc_vs_champions", auc, None, PASS, "no champion scored these rows yet"))
        return rules
    bar = best - settings.tolerance
    ok = auc >= bar
    rules.append(Rule(
        "auc_vs_champions", auc, bar, PASS if ok else FAIL,
        f"ROC-AUC {auc:.4f} {'>=' if ok else '<'} {bar:.4f}: the best champion's (version "
        f"{best_version}, {best:.4f}) less the tolerance {settings.tolerance}",
    ))  # fmt: skip
    return rules


def chance_ece(pd_: np.ndarray, draws: int = CHANCE_DRAWS) -> float:
    """The ECE a perfectly calibrated model shows by chance on these rows (95th percentile).

    Labels are drawn from the PDs themselves (seeded), so every gap between PD and default
    rate is noise; on a few thousand rows that noise alone is about a hundredth.
    """
    rng = np.random.default_rng(0)
    pd_ = np.asarray(pd_, dtype="float64")
    eces = [
        metrics.expected_calibration_error((rng.random(pd_.size) < pd_).astype(int), pd_)
        for _ in range(draws)
    ]
    return float(np.percentile(eces, 95))


def calibration_rule(y: np.ndarray, pd_: np.ndarray, settings: GateSettings) -> Rule:
    """The expected calibration error at most the limit plus what chance adds on these rows."""
    ece = metrics.expected_calibration_error(y, pd_)
    chance = chance_ece(pd_)
    limit = settings.max_ece + chance
    ok = ece <= limit
    return Rule(
        "calibration", ece, limit, PASS if ok else FAIL,
        f"expected calibration error {ece:.4f} {'<=' if ok else '>'} {limit:.4f}: the limit "
        f"{settings.max_ece} plus {chance:.4f}, what a calibrated model shows by chance on "
        f"{len(pd_):,} rows",
    )  # fmt: skip


def fairness_rules(
    groups: pd.DataFrame, y: np.ndarray, pd_: np.ndarray, threshold: float, settings: GateSettings
) -> list[Rule]:
    """Per protected attribute, the lowest approval-rate ratio against four fifths."""
    table = fairness.report(groups, y, pd_, threshold)
    big = table[table["rows"] >= settings.min_group_rows]
    failing = FAIL if settings.fairness == "block" else WARN
    rules = []
    for attribute in spec.PROTECTED:
        part = big[big["attribute"] == attribute].dropna(subset=["approval_ratio"])
        name = f"fairness_{attribute}"
        if len(part) < 2:
            rules.append(Rule(
                name, None, settings.four_fifths, PASS,
                f"fewer than two {attribute} groups with {settings.min_group_rows}+ rows: "
                "nothing to compare",
            ))  # fmt: skip
            continue
        worst = part.loc[part["approval_ratio"].idxmin()]
        ratio = float(worst["approval_ratio"])
        ok = ratio >= settings.four_fifths
        rules.append(Rule(
            name, ratio, settings.four_fifths, PASS if ok else failing,
            f"{attribute} {worst['group']!s}: approval rate {ratio:.3f} of the best group's "
            f"({'meets' if ok else 'below'} the four-fifths rule"
            + ("" if ok or settings.fairness == "block" else "; a warning by setting") + ")",
        ))  # fmt: skip
    return rules


def live_rule(live: dict[str, float] | None) -> Rule:
    """What shadow scoring saw on live traffic: recorded beside the rules, never blocking.

    Live applications have no outcomes yet, so agreement says how different the challenger is,
    not whether it is better.
    """
    if not live or not live.get("shadowed"):
        return Rule("live_shadow", None, None, INFO, "no live application shadow-scored yet")
    return Rule(
        "live_shadow", live["decision_agreement"], None, INFO,
        f"on {int(live['shadowed']):,} live applications the challenger decided as the "
        f"champion did {live['decision_agreement']:.1%} of the time (approval rate "
        f"{live['shadow_approval_rate']:.3f} vs the champion's "
        f"{live['champion_approval_rate']:.3f}; mean |PD difference| "
        f"{live['mean_absolute_pd_difference']:.4f})",
    )  # fmt: skip


def table(rules: list[Rule] | tuple[Rule, ...]) -> str:
    """The rules as a markdown table: rule, value, limit, verdict, message."""

    def number(value: float | None) -> str:
        return "-" if value is None or not math.isfinite(value) else f"{value:.4f}"

    lines = ["| rule | value | limit | verdict | why |", "| --- | --- | --- | --- | --- |"]
    lines += [
        f"| {r.rule} | {number(r.value)} | {number(r.limit)} | {r.verdict} | {r.message} |"
        for r in rules
    ]
    return "\n".join(lines)


def passed(rules: list[Rule]) -> bool:
    """True when no rule failed (warnings do not block)."""
    return all(rule.verdict != FAIL for rule in rules)


def reason(rules: list[Rule]) -> str:
    """One line: the failed rules' messages, else the AUC rules' (and any warning)."""
    failed = [r.message for r in rules if r.verdict == FAIL]
    if failed:
        return "; ".join(failed)
    said = [r.message for r in rules if r.rule.startswith("auc_")]
    said += [f"warning: {r.message}" for r in rules if r.verdict == WARN]
    return "; ".join(said)
