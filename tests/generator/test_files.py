"""Writing books: layouts, the truth folder, late outcomes, continuation and determinism."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from loanops.generator import next_id, write_book, write_late_outcomes
from loanops.schema import APPLICATION_COLUMNS, PUBLISHED_COLUMNS


def _read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def test_split_layout_writes_applications_and_outcomes_and_keeps_truth_apart(tmp_path):
    landing = tmp_path / "data" / "landing"
    written = write_book(landing, 3_000, seed=4, name="day1")
    apps = _read(landing / "applications_day1.csv")
    outcomes = _read(landing / "outcomes_day1.csv")
    assert list(apps.columns) == list(APPLICATION_COLUMNS)
    assert list(outcomes.columns) == ["ID", "Default"]
    assert apps["ID"].tolist() == outcomes["ID"].tolist()
    assert sorted(p.name for p in landing.iterdir()) == [
        "applications_day1.csv",
        "outcomes_day1.csv",
    ]
    assert written.truth == tmp_path / "data" / "truth" / "true_pd_day1.csv"
    truth = pd.read_csv(written.truth)
    assert truth["ID"].astype(str).tolist() == apps["ID"].tolist()
    assert truth["true_pd"].between(0, 1).all()
    record = json.loads((tmp_path / "data" / "truth" / "book_day1.json").read_text())
    assert record["seed"] == 4 and record["last_id"] == written.last_id


def test_published_layout_has_the_same_rows_as_the_split_one(tmp_path):
    write_book(tmp_path / "a" / "in", 1_000, seed=9, first_id=100, name="b")
    write_book(tmp_path / "b" / "in", 1_000, seed=9, first_id=100, name="b", layout="published")
    published = _read(tmp_path / "b" / "in" / "b.csv")
    assert list(published.columns) == list(PUBLISHED_COLUMNS)
    split = _read(tmp_path / "a" / "in" / "applications_b.csv").merge(
        _read(tmp_path / "a" / "in" / "outcomes_b.csv"), on="ID"
    )
    pd.testing.assert_frame_equal(published, split[list(PUBLISHED_COLUMNS)])
    assert (published.fillna("") != "").any().all()  # no column is empty throughout


def test_same_seed_rows_and_first_id_give_byte_identical_files(tmp_path):
    first = write_book(tmp_path / "1" / "in", 2_500, seed=5, first_id=7, name="x")
    second = write_book(tmp_path / "2" / "in", 2_500, seed=5, first_id=7, name="x")
    for a, b in zip((*first.files, first.truth), (*second.files, second.truth), strict=True):
        assert a.read_bytes() == b.read_bytes()


def test_late_outcomes_are_held_back_then_landed(tmp_path):
    landing = tmp_path / "landing"
    written = write_book(landing, 1_000, seed=2, name="d", outcome_share=0.7)
    now = _read(landing / "outcomes_d.csv")
    assert len(now) == 700
    assert now["ID"].astype(int).max() < written.first_id + 700  # the oldest mature first
    assert written.pending_outcomes is not None
    assert written.pending_outcomes.parent == tmp_path / "truth"
    late_path = write_late_outcomes(landing, "d")
    late = _read(late_path)
    assert late_path.name == "outcomes_d_late.csv"
    ids = set(now["ID"]) | set(late["ID"])
    assert len(late) == 300 and not set(now["ID"]) & set(late["ID"])
    assert ids == set(_read(landing / "applications_d.csv")["ID"])
    with pytest.raises(FileNotFoundError, match="no held-back outcomes"):
        write_late_outcomes(landing, "unknown")


def test_successive_batches_continue_after_the_highest_id(tmp_path):
    landing = tmp_path / "landing"
    assert next_id(landing) == 12_100_001
    first = write_book(landing, 500, seed=1)
    second = write_book(landing, 500, seed=1)
    assert first.name == "12100001_12100500"
    assert second.first_id == first.last_id + 1
    first_rows = _read(first.files[0]).drop(columns="ID")
    assert not first_rows.equals(_read(second.files[0]).drop(columns="ID"))


def test_refuses_to_overwrite_and_to_put_truth_in_landing(tmp_path):
    landing = tmp_path / "landing"
    write_book(landing, 100, seed=1, name="n")
    with pytest.raises(FileExistsError, match="--overwrite"):
        write_book(landing, 100, seed=1, name="n")
    write_book(landing, 100, seed=1, name="n", overwrite=True)
    with pytest.raises(ValueError, match="must not be inside the landing folder"):
        write_book(landing, 100, seed=1, name="m", truth_dir=landing / "truth")
    with pytest.raises(ValueError, match="split layout"):
        write_book(landing, 100, seed=1, name="m", layout="published", outcome_share=0.5)
