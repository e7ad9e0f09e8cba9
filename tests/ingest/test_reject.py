"""A bad file is rejected whole, says why, and leaves no rows; good files beside it still land."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from loanops.ingest import ingest_folder
from loanops.schema import APPLICATION_COLUMNS, OUTCOME_COLUMNS, PUBLISHED_COLUMNS
from tests.ingest.conftest import application_row, csv_text

GOOD = csv_text(APPLICATION_COLUMNS, [application_row(n) for n in range(1, 60)])
GOOD_LINES = GOOD.splitlines(keepends=True)


def _with_line(line_number: int, text: str) -> str:
    """The good applications file with one physical line replaced."""
    lines = list(GOOD_LINES)
    lines[line_number - 1] = text
    return "".join(lines)


BAD_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "missing column": (
        lambda: csv_text(
            APPLICATION_COLUMNS[:-1], [application_row(n) for n in range(1, 4)]
        ).encode(),
        "missing columns: Credit_Bureau",
    ),
    "unknown column": (
        lambda: GOOD.replace("Credit_Bureau", "Credit_Bureaux", 1).encode(),
        "unknown columns: Credit_Bureaux",
    ),
    "misspelt column": (
        lambda: GOOD.replace("Client_Income,", "Client_Incme,", 1).encode(),
        "unknown columns: Client_Incme (did you mean Client_Income?)",
    ),
    "semicolons": (
        lambda: csv_text(OUTCOME_COLUMNS, [{"ID": "1", "Default": "0"}], delimiter=";").encode(),
        "separated by ';'",
    ),
    "tabs": (
        lambda: csv_text(OUTCOME_COLUMNS, [{"ID": "1", "Default": "0"}], delimiter="\t").encode(),
        "separated by tab",
    ),
    "empty file": (lambda: b"", "empty"),
    "header only": (lambda: GOOD_LINES[0].encode(), "no data rows"),
    "short line": (
        lambda: _with_line(57, "1,2,3,4,5,6,7,8,9,10,11,12\n").encode(),
        "line 57 has 12 fields, expected 39",
    ),
    "long line": (
        lambda: _with_line(30, GOOD_LINES[29].rstrip("\n") + ",extra\n").encode(),
        "line 30 has 40 fields, expected 39",
    ),
    "unclosed quote": (
        lambda: _with_line(40, GOOD_LINES[39].replace(",", ',"', 1)).encode(),
        "line 40: a quoted field is never closed",
    ),
    "text after quote": (
        lambda: _with_line(12, '"12"x' + GOOD_LINES[11][8:]).encode(),
        "line 12: broken quoting",
    ),
    "invalid utf-8": (
        lambda: GOOD.encode().replace(b"Zo\xc3\xab", b"Zo\xeb"),
        "line 3 is not valid UTF-8",
    ),
    "truncated mid-row": (lambda: GOOD.encode()[: len(GOOD) - 150], "truncated"),
    "truncated mid-field": (lambda: GOOD.encode()[:-3], "truncated"),
}


def _table_counts(query: Callable) -> tuple[int, int]:
    """Rows in raw.applications and raw.outcomes."""
    row = query(
        "select (select count(*) from raw.applications) as a, "
        "(select count(*) from raw.outcomes) as o"
    ).iloc[0]
    return int(row["a"]), int(row["o"])


@pytest.mark.parametrize("kind", BAD_FILES)
def test_bad_file_is_rejected_whole(kind, landing, settings, query):
    content, reason = BAD_FILES[kind]
    (landing / "applications_b2.csv").write_bytes(content())
    (landing / "applications_a1.csv").write_text(GOOD, newline="")  # lands before the bad one

    good, bad = ingest_folder(settings)

    assert good.status == "loaded" and good.rows == 59
    assert bad.status == "rejected", bad
    assert reason in bad.reason
    assert bad.message.startswith("applications_b2.csv: rejected: ")
    assert _table_counts(query) == (59, 0)  # only the good file's rows
    log = query("select * from raw.load_log order by load_id")
    assert list(log["status"]) == ["loaded", "rejected"]
    assert log["message"][1].startswith("applications_b2.csv: ")
    assert reason in log["message"][1]


def test_bad_row_late_in_a_published_file_lands_nothing(landing, settings, query):
    rows = [dict(application_row(n), Default="0") for n in range(1, 200)]
    lines = csv_text(PUBLISHED_COLUMNS, rows).splitlines(keepends=True)
    lines[180] = lines[180].replace(",", ",,", 1)  # one field too many on line 181
    (landing / "book.csv").write_text("".join(lines), newline="")

    [result] = ingest_folder(settings)

    assert result.status == "rejected"
    assert result.reason == "line 181 has 41 fields, expected 40"
    assert _table_counts(query) == (0, 0)


def test_rejected_file_is_retried_only_when_asked(landing, settings, query):
    path: Path = landing / "outcomes.csv"
    path.write_text("ID,Default\n1,0\n2,1")  # no line end: looks truncated
    [first] = ingest_folder(settings)
    [second] = ingest_folder(settings)
    assert first.status == "rejected"
    assert second.status == "skipped" and "--retry-rejected" in second.reason

    [third] = ingest_folder(settings, retry_rejected=True)
    assert third.status == "rejected" and third.load_id == 2

    path.write_text("ID,Default\n1,0\n2,1\n")  # sent again, complete: new checksum
    [fourth] = ingest_folder(settings)
    assert (fourth.status, fourth.rows, fourth.load_id) == ("loaded", 2, 3)
    assert _table_counts(query) == (0, 2)


def test_postgres_error_after_batches_were_copied_lands_nothing(
    landing, postgres, monkeypatch, data_dir
):
    from loanops import settings as settings_module
    from loanops import warehouse
    from loanops.ingest import postgres_engine

    monkeypatch.setattr(postgres_engine, "_BATCH_ROWS", 20)  # several COPY writes before line 181
    monkeypatch.setenv("LOANOPS_TARGET", "postgres")
    for key, value in postgres.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("LOANOPS_PG_DATABASE", "postgres")  # a database no other test lands in
    rows = [application_row(n) for n in range(1, 200)]
    lines = csv_text(APPLICATION_COLUMNS, rows).splitlines(keepends=True)
    lines[180] = "12,13\n"
    (landing / "late.csv").write_text("".join(lines), newline="")
    settings = settings_module.load()

    [result] = ingest_folder(settings)

    assert result.reason == "line 181 has 2 fields, expected 39"
    frame = warehouse.read_frame(settings, "select count(*) as n from raw.applications")
    assert frame["n"][0] == 0
