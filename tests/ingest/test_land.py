"""Each layout lands as text with load metadata; files land once; later files add rows."""

from __future__ import annotations

import pandas as pd
import pytest

from loanops.ingest import ingest_folder
from loanops.schema import APPLICATION_COLUMNS, BY_NAME, OUTCOME_COLUMNS, PUBLISHED_COLUMNS
from tests.ingest.conftest import TRICKY, write_book

LAYOUTS = {
    "applications": (APPLICATION_COLUMNS, 1, 0),
    "outcomes": (OUTCOME_COLUMNS, 0, 1),
    "published": (PUBLISHED_COLUMNS, 1, 1),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_layout_lands(layout, landing, settings, query):
    columns, in_applications, in_outcomes = LAYOUTS[layout]
    write_book(landing, f"{layout}_1.csv", columns, count=5)

    [result] = ingest_folder(settings)

    assert (result.status, result.rows, result.layout, result.load_id) == ("loaded", 5, layout, 1)
    counts = query(
        "select (select count(*) from raw.applications) as a, "
        "(select count(*) from raw.outcomes) as o"
    ).iloc[0]
    assert (counts["a"], counts["o"]) == (5 * in_applications, 5 * in_outcomes)


def test_values_land_exactly_as_text(landing, settings, query):
    write_book(landing, "book.csv", PUBLISHED_COLUMNS, count=3)
    ingest_folder(settings)

    apps = query("select * from raw.applications order by _source_row")
    tricky = apps.iloc[1]
    for name, value in TRICKY.items():
        assert tricky[BY_NAME[name].raw] == value, name
    assert tricky["id"] == "12100002"
    assert tricky["client_city_rating"] == "26.2"  # the published typo is fixed in raw
    empty = apps.iloc[2]
    assert pd.isna(empty["own_house_age"]) and pd.isna(empty["score_source_1"])
    assert list(apps["_source_row"]) == [1, 2, 3]
    assert set(apps["_source_file"]) == {"book.csv"}
    assert set(apps["_load_id"]) == {1}
    outcomes = query("select * from raw.outcomes order by _source_row")
    assert list(outcomes["loan_default"]) == ["1", "0", "1"]
    assert list(outcomes["id"]) == ["12100001", "12100002", "12100003"]
    # The load's timestamp is the log's, in UTC, on every row of both tables.
    log = query("select * from raw.load_log").iloc[0]
    assert set(apps["_loaded_at"]) == {log["loaded_at"]} == set(outcomes["_loaded_at"])
    assert (log["status"], log["layout"], log["rows"], len(log["checksum"])) == (
        "loaded",
        "published",
        3,
        64,
    )


def test_rerun_is_a_no_op_and_new_files_add_only_their_rows(landing, settings, query):
    write_book(landing, "applications_1.csv", APPLICATION_COLUMNS, first=1, count=4)
    ingest_folder(settings)
    [again] = ingest_folder(settings)
    assert again.status == "skipped" and "already loaded (load 1" in again.reason

    write_book(landing, "applications_2.csv", APPLICATION_COLUMNS, first=5, count=3)
    results = ingest_folder(settings)

    assert [(r.file_name, r.status, r.load_id) for r in results] == [
        ("applications_1.csv", "skipped", 1),
        ("applications_2.csv", "loaded", 2),
    ]
    per_load = query(
        "select _load_id, _source_file, count(*) as n, min(_source_row) as lo, "
        "max(_source_row) as hi from raw.applications group by 1, 2 order by 1"
    )
    assert per_load.values.tolist() == [
        [1, "applications_1.csv", 4, 1, 4],
        [2, "applications_2.csv", 3, 1, 3],
    ]
    assert query("select count(*) as n from raw.load_log")["n"][0] == 2


def test_same_content_under_a_new_name_is_skipped(landing, settings):
    write_book(landing, "a.csv", OUTCOME_COLUMNS)
    ingest_folder(settings)
    (landing / "b.csv").write_bytes((landing / "a.csv").read_bytes())
    results = ingest_folder(settings)
    assert [r.status for r in results] == ["skipped", "skipped"]


def test_only_csv_files_directly_in_the_folder(landing, settings):
    write_book(landing, "outcomes.csv", OUTCOME_COLUMNS)
    (landing / "truth").mkdir()
    write_book(landing / "truth", "hidden.csv", OUTCOME_COLUMNS, first=10)
    (landing / "readme.txt").write_text("not data")
    assert [r.file_name for r in ingest_folder(settings)] == ["outcomes.csv"]
