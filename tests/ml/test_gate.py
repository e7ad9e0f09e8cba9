"""The gate's rules on their own: the bar is the best champion, calibration, four fifths."""

import numpy as np
import pandas as pd
import pytest

from loanops.features import spec
from ml import gate


def test_the_bar_is_the_best_champion_so_promotions_cannot_walk_downhill():
    settings = gate.GateSettings()
    # v1 0.800; v2 0.797 passed against v1; v3 at 0.794 is within the tolerance of v2 but not
    # of the best champion, v1: a gate against the last champion would let it through.
    assert gate.passed(gate.auc_rules(0.797, 0.800, "1", settings))
    rules = gate.auc_rules(0.794, 0.800, "1", settings)
    assert not gate.passed(rules)
    failed = next(r for r in rules if r.verdict == gate.FAIL)
    assert failed.rule == "auc_vs_champions" and failed.limit == pytest.approx(0.795)
    assert "version 1" in failed.message
    assert not gate.passed(gate.auc_rules(0.59, None, None, settings))  # the floor, alone
    assert gate.passed(gate.auc_rules(0.75, None, None, settings))


def test_a_miscalibrated_model_fails_the_calibration_rule():
    rng = np.random.default_rng(0)
    true = rng.uniform(0.01, 0.3, 20_000)
    y = (rng.random(true.size) < true).astype(int)
    settings = gate.GateSettings()
    assert gate.calibration_rule(y, true, settings).verdict == gate.PASS
    doubled = gate.calibration_rule(y, np.minimum(true * 2, 1), settings)
    assert doubled.verdict == gate.FAIL and doubled.value > 0.05
    assert doubled.limit < 0.03  # 20,000 rows: chance adds little to the limit


def test_on_few_rows_the_calibration_limit_allows_for_chance():
    rng = np.random.default_rng(3)
    true = rng.uniform(0.01, 0.3, 300)
    y = (rng.random(true.size) < true).astype(int)  # calibrated by construction
    rule = gate.calibration_rule(y, true, gate.GateSettings())
    assert rule.value > 0.02  # the single figure would reject a calibrated model here
    assert rule.verdict == gate.PASS and "300 rows" in rule.message
    assert rule.limit == pytest.approx(0.02 + gate.chance_ece(true))


def _groups(rows: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Women approved half as often as men at the same threshold."""
    gender = np.array(["Male", "Female"] * (rows // 2))
    marital = np.array(["M"] * rows)
    pd_ = np.where((gender == "Female") & (np.arange(rows) % 4 < 2), 0.5, 0.05)
    y = (pd_ > 0.3).astype(int)
    return pd.DataFrame({"gender": gender, "marital_status": marital}), y, pd_


def test_the_four_fifths_rule_warns_by_default_and_blocks_when_asked():
    groups, y, pd_ = _groups(1000)
    assert set(spec.PROTECTED) == set(groups.columns)
    warned = gate.fairness_rules(groups, y, pd_, 0.1, gate.GateSettings())
    gender = next(r for r in warned if r.rule == "fairness_gender")
    assert gender.verdict == gate.WARN and gender.value == pytest.approx(0.5)
    assert gate.passed(warned)  # a warning does not block
    assert "warning: gender Female" in gate.reason(
        gate.auc_rules(0.8, None, None, gate.GateSettings()) + warned
    )
    blocked = gate.fairness_rules(groups, y, pd_, 0.1, gate.GateSettings(fairness="block"))
    assert not gate.passed(blocked)
    marital = next(r for r in blocked if r.rule == "fairness_marital_status")
    assert marital.verdict == gate.PASS and "nothing to compare" in marital.message


def test_small_groups_are_not_judged():
    groups, y, pd_ = _groups(150)  # 75 a group: below the 100 rows a group needs
    rules = gate.fairness_rules(groups, y, pd_, 0.1, gate.GateSettings(fairness="block"))
    assert gate.passed(rules)


def test_bad_gate_settings_are_named():
    with pytest.raises(ValueError, match="fairness rule is 'strict'"):
        gate.GateSettings(fairness="strict")
    with pytest.raises(ValueError, match="floor must be in"):
        gate.GateSettings(floor=1.5)


def test_the_live_shadow_record_never_blocks():
    none = gate.live_rule(None)
    assert none.verdict == gate.INFO and "no live application" in none.message
    live = {"shadowed": 1200.0, "decision_agreement": 0.2, "champion_approval_rate": 0.8,
            "shadow_approval_rate": 0.3, "mean_absolute_pd_difference": 0.2}  # fmt: skip
    record = gate.live_rule(live)
    assert gate.passed([record]) and "20.0% of the time" in record.message
