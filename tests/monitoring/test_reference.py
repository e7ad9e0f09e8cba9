"""The reference profile: decile bins with a missing bin, categories with unseen, the PSI."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml import reference


def _train(rows: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(9.6, 0.5, rows)
    income[rng.random(rows) < 0.1] = np.nan
    return pd.DataFrame({
        "client_income": income,
        "has_car": rng.integers(0, 2, rows).astype(float),
        "education": rng.choice(["secondary", "graduation", "unknown"], rows, p=[0.7, 0.25, 0.05]),
    })  # fmt: skip


def test_profile_bins_and_shares():
    train = _train()
    scores = np.random.default_rng(1).random(len(train))
    profile = reference.build(train, scores, ["client_income", "has_car"], ["education"])
    shares = profile.groupby("feature_name")["training_share"].sum()
    assert np.allclose(shares, 1.0)
    income = profile[profile["feature_name"] == "client_income"]
    assert income["bin_index"].tolist() == list(range(11))  # missing + 10 deciles
    assert abs(income.loc[income["is_missing_bin"] == 1, "training_share"].item() - 0.1) < 0.03
    assert income["lower_edge"].isna().sum() == 2 and income["upper_edge"].isna().sum() == 2
    education = profile[profile["feature_name"] == "education"]
    assert set(education["bin_label"]) == {
        "missing",
        "unseen",
        "secondary",
        "graduation",
        "unknown",
    }
    assert (
        education.loc[education["bin_index"] == reference.UNSEEN_BIN, "training_rows"].item() == 0
    )
    assert set(profile["feature_kind"]) == {"numeric", "category", "score"}


def test_psi_is_small_for_the_same_population_and_large_for_a_shift():
    train = _train()
    profile = reference.build(train, np.zeros(len(train)), ["client_income", "has_car"],
                              ["education"])  # fmt: skip
    same = _train(seed=2).assign(probability_of_default=0.0)
    shifted = same.assign(client_income=same["client_income"] * 1.6, education="postgrad")
    assert max(reference.psi_by_feature(profile, same).values()) < 0.02
    psi = reference.psi_by_feature(profile, shifted)
    assert psi["client_income"] > 0.25 and psi["education"] > 1.0 and psi["has_car"] < 0.02


def test_values_on_an_edge_go_to_the_upper_bin():
    assert reference.numeric_bin(np.array([np.nan, 0.5, 1.0, 2.0, 3.0]), [1.0, 2.0]).tolist() == [
        0,
        1,
        2,
        3,
        3,
    ]
    assert reference.psi([0.5, 0.5], [0.5, 0.5]) == 0.0
