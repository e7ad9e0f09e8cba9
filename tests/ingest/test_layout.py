"""Layout detection from the header alone (no warehouse needed)."""

from __future__ import annotations

import pytest

from loanops.ingest import Layout, RejectedFileError, detect_layout, inspect_file
from loanops.ingest.layout import read_header
from loanops.schema import APPLICATION_COLUMNS, OUTCOME_COLUMNS, PUBLISHED_COLUMNS


@pytest.mark.parametrize(
    ("header", "layout"),
    [
        (list(APPLICATION_COLUMNS), Layout.APPLICATIONS),
        (list(reversed(APPLICATION_COLUMNS)), Layout.APPLICATIONS),  # a column set, any order
        (list(OUTCOME_COLUMNS), Layout.OUTCOMES),
        (list(PUBLISHED_COLUMNS), Layout.PUBLISHED),
    ],
)
def test_layouts_are_recognised_by_column_set(header, layout):
    assert detect_layout(header) == layout


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (["ID", "Default", "ID"], "duplicate columns: ID"),
        (["ID", "Default", "Score"], "unknown columns: Score"),
        (["ID"], "missing columns: Default"),
        (["ID|Default"], "separated by '|'"),
    ],
)
def test_bad_headers_say_what_is_wrong(header, message):
    with pytest.raises(RejectedFileError, match=message):
        detect_layout(header)


def test_byte_order_mark_and_crlf_are_accepted(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfID,Default\r\n1,0\r\n")
    assert inspect_file(path).layout == Layout.OUTCOMES


def test_case_padding_bom_and_alias_are_read_as_published():
    header = ["\ufeff id ", "DEFAULT"]
    assert read_header(header) == (["ID", "Default"], {"\ufeff id ": "ID", "DEFAULT": "Default"})
    assert detect_layout(header) == Layout.OUTCOMES
    applications = [
        ("client_city_rating" if c == "Cleint_City_Rating" else c) for c in APPLICATION_COLUMNS
    ]
    assert detect_layout(applications) == Layout.APPLICATIONS
