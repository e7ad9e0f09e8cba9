"""Headers are matched ignoring case, padding and a BOM, with the known alias; the rest rejects."""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
import pytest

from loanops import raw_tables as rt
from loanops import warehouse
from loanops.ingest import ingest_folder
from loanops.ingest.loadlog import LOAD_LOG_COLUMNS
from loanops.schema import NAME_ALIASES, PUBLISHED_COLUMNS
from tests.ingest.conftest import application_row, csv_text

ALIAS = next(iter(NAME_ALIASES))  # the correct spelling of the published typo
# Header as a lender's tool may write it: lower, upper and mixed case, padding, the alias.
SENT_AS = {
    "ID": " id ",
    "Client_Income": "CLIENT_INCOME",
    "Credit_Amount": "credit_amount",
    "Loan_Annuity": "\tLoan_Annuity",
    "Client_Gender": "client_GENDER  ",
    NAME_ALIASES[ALIAS]: ALIAS,
    "Default": "default",
}
METADATA = list(rt.METADATA_COLUMNS)


def _rows(count: int = 6) -> list[dict[str, str]]:
    """Application rows with a label, keyed by published name (tricky values included)."""
    return [dict(application_row(n), Default=str(n % 2)) for n in range(1, count + 1)]


def _sent_header_file(rows: list[dict[str, str]]) -> bytes:
    """The published book with SENT_AS headers, a UTF-8 BOM and CRLF line ends."""
    sent = [SENT_AS.get(name, name) for name in PUBLISHED_COLUMNS]
    body = csv_text(PUBLISHED_COLUMNS, rows).split("\n", 1)[1]
    return ("\ufeff" + ",".join(sent) + "\n" + body).replace("\n", "\r\n").encode("utf-8")


def _landed(query: Callable, table: str, load_id: int) -> list[dict[str, object]]:
    """One load's raw rows, without the load metadata, in file order."""
    frame = query(f"select * from raw.{table} where _load_id = {load_id} order by _source_row")
    frame = frame.drop(columns=METADATA)
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def test_forgiven_headers_land_the_same_rows_and_log_the_mapping(landing, settings, query):
    rows = _rows()
    (landing / "a_published.csv").write_text(csv_text(PUBLISHED_COLUMNS, rows), newline="")
    (landing / "b_as_sent.csv").write_bytes(_sent_header_file(rows))

    published, sent = ingest_folder(settings)

    assert (published.status, published.load_id, published.rows) == ("loaded", 1, 6)
    assert (sent.status, sent.load_id, sent.rows, sent.layout) == ("loaded", 2, 6, "published")
    assert sent.header_mapping == {as_sent: name for name, as_sent in SENT_AS.items()}
    assert "headers read as published: ' id ' as ID" in sent.message
    assert "and 4 more" in sent.message
    for table in ("applications", "outcomes"):
        first = _landed(query, table, 1)
        assert len(first) == 6
        assert _landed(query, table, 2) == first, table
    city = query("select client_city_rating from raw.applications where _load_id = 2")
    assert list(city["client_city_rating"]) == [r[NAME_ALIASES[ALIAS]] for r in rows]
    log = query("select load_id, header_mapping from raw.load_log order by load_id")
    assert pd.isna(log["header_mapping"][0])  # every header was the published name
    recorded = json.loads(log["header_mapping"][1])
    assert recorded == {as_sent: name for name, as_sent in SENT_AS.items()}
    assert list(recorded) == [SENT_AS[n] for n in PUBLISHED_COLUMNS if n in SENT_AS]  # file order


def test_misspelt_header_is_rejected_whole_naming_it(landing, settings, query):
    good = csv_text(PUBLISHED_COLUMNS, _rows())
    (landing / "misspelt.csv").write_text(good.replace("Client_Income,", "client_incme,", 1))

    [result] = ingest_folder(settings)

    assert result.status == "rejected"
    assert result.reason == (
        "missing columns: Client_Income; "
        "unknown columns: client_incme (did you mean Client_Income?)"
    )
    counts = query(
        "select (select count(*) from raw.applications) as a, "
        "(select count(*) from raw.outcomes) as o"
    ).iloc[0]
    assert (counts["a"], counts["o"]) == (0, 0)
    log = query("select status, message, header_mapping from raw.load_log").iloc[0]
    assert log["status"] == "rejected"
    assert "client_incme (did you mean Client_Income?)" in log["message"]
    assert pd.isna(log["header_mapping"])


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (
            ["ID", "Default", "Loan_Default"],
            "unknown columns: Loan_Default",
        ),
        (["ID"], "missing columns: Default"),
        (["ID", " Defualt "], "unknown columns: ' Defualt ' (did you mean Default?)"),
        (["ID", "Default", "id"], "duplicate columns: 'ID' and 'id' both name ID"),
        (["ID", "Default", "Client Income"], "unknown columns: Client Income"),
    ],
)
def test_other_header_differences_still_reject(header, reason, landing, settings, query):
    rows = [{"ID": "1", "Default": "0", **{c: "x" for c in header}}]
    (landing / "outcomes.csv").write_text(
        ",".join(header) + "\n" + ",".join(rows[0][c] for c in header) + "\n"
    )

    [result] = ingest_folder(settings)

    assert result.status == "rejected"
    assert reason in result.reason
    assert query("select count(*) as n from raw.outcomes")["n"][0] == 0


def test_alias_beside_the_published_name_is_a_duplicate(landing, settings):
    header = [*PUBLISHED_COLUMNS, ALIAS]
    rows = [dict(r, **{ALIAS: "2"}) for r in _rows(2)]
    (landing / "both.csv").write_text(csv_text(header, rows), newline="")

    [result] = ingest_folder(settings)

    assert result.status == "rejected"
    assert result.reason == (
        f"duplicate columns: '{NAME_ALIASES[ALIAS]}' and '{ALIAS}' both name {NAME_ALIASES[ALIAS]}"
    )


def test_an_older_load_log_gains_the_mapping_column(landing, settings, query):
    conn = warehouse.connect(settings)
    try:
        conn.execute("create schema raw")
        conn.execute(
            "create table raw.load_log (load_id integer not null primary key, "
            "file_name text not null, checksum text not null, layout text, rows bigint, "
            "loaded_at timestamp not null, status text not null, message text)"
        )
        conn.execute(
            "insert into raw.load_log values "
            "(1, 'old.csv', 'abc', 'outcomes', 3, '2024-01-02 03:04:05', 'loaded', null)"
        )
        conn.commit()
    finally:
        conn.close()
    sent = csv_text(["ID", "Default"], [{"ID": "1", "Default": "0"}])
    (landing / "outcomes.csv").write_text(sent.replace("Default", " DEFAULT", 1))

    [result] = ingest_folder(settings)

    assert (result.status, result.load_id) == ("loaded", 2)
    log = query("select * from raw.load_log order by load_id")
    assert list(log.columns) == list(LOAD_LOG_COLUMNS)
    assert log["file_name"].tolist() == ["old.csv", "outcomes.csv"]
    assert pd.isna(log["header_mapping"][0])
    assert json.loads(log["header_mapping"][1]) == {" DEFAULT": "Default"}
