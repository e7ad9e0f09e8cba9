import numpy as np

from ml import split


def test_split_is_stable_as_the_book_grows():
    first = np.arange(12_100_001, 12_103_001)
    grown = np.arange(12_100_001, 12_106_001)
    before = split.assign(first)
    after = split.assign(grown)
    assert (after[: len(first)] == before).all()


def test_split_shares_are_close_to_the_settings():
    names = split.assign(np.arange(1, 20_001))
    shares = {n: (names == n).mean() for n in (split.TRAIN, split.VALIDATION, split.TEST)}
    assert abs(shares[split.TEST] - split.TEST_SHARE) < 0.015
    assert abs(shares[split.VALIDATION] - split.VALIDATION_SHARE) < 0.015


def test_split_depends_on_the_id_alone():
    assert split.assign([12_100_005])[0] == split.assign([7, 12_100_005, 9])[1]
