"""The points scale: 600 at odds 19:1, 50 points double the odds, settings checked."""

from __future__ import annotations

import numpy as np
import pytest

from loanops import settings
from loanops.points import Scale, scale_from


def test_the_base_odds_give_the_base_points_and_pdo_doubles_the_odds():
    scale = Scale()
    assert int(scale.points(0.05)) == 600  # odds 19:1
    assert int(scale.points(1 / 39)) == 650  # odds 38:1, twice as good
    assert int(scale.points(1 / 10.5)) == 550  # odds 9.5:1, half as good
    pds = np.linspace(0.001, 0.999, 500)
    assert (np.diff(scale.points(pds)) <= 0).all()  # a higher PD never scores more points


def test_pds_of_zero_and_one_score_finite_points():
    points = Scale().points(np.array([0.0, 1.0]))
    assert points[0] > 1000 and points[1] < 0


def test_the_scale_comes_from_the_environment_and_bad_values_are_named():
    scale = scale_from({"LOANOPS_POINTS_BASE": "700", "LOANOPS_POINTS_BASE_ODDS": "30",
                        "LOANOPS_POINTS_PDO": "20"})  # fmt: skip
    assert scale == Scale(700.0, 30.0, 20.0)
    assert settings.load({"LOANOPS_POINTS_PDO": "40"}).points.pdo == 40.0
    with pytest.raises(ValueError, match="LOANOPS_POINTS_PDO='fifty' is not a number"):
        scale_from({"LOANOPS_POINTS_PDO": "fifty"})
    with pytest.raises(ValueError, match=r"points to double the odds must be positive.*PDO=-5"):
        scale_from({"LOANOPS_POINTS_PDO": "-5"})
    with pytest.raises(ValueError, match="base odds must be a positive number"):
        scale_from({"LOANOPS_POINTS_BASE_ODDS": "0"})
