"""Ingest fixtures: a landing folder, small hand-built CSV files and a warehouse per engine."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path

import psycopg
import pytest

from loanops import settings as settings_module
from loanops import warehouse
from loanops.schema import INPUT_COLUMNS
from loanops.settings import Settings

ENGINES = ["duckdb", "postgres"]
_database_numbers = itertools.count(1)

# Values that must land exactly as sent: junk tokens, numbers as strings, quoting, non-ASCII.
TRICKY = {
    "Client_Income": "$",
    "Credit_Amount": "12500.0",
    "Loan_Annuity": "#NA",
    "Type_Organization": 'Business Entity, "Type" 3',
    "Client_Occupation": "Zoë's café",
    "Client_Gender": "XNA",
    "Client_Permanent_Match_Tag": "Yes",
    "Phone_Change": " 12 ",
}


def application_row(number: int) -> dict[str, str]:
    """One application's fields as text; row 2 carries the tricky values, row 3 empties."""
    row = {"ID": str(12_100_000 + number)}
    row.update({name: f"{i}.{number}" for i, name in enumerate(INPUT_COLUMNS)})
    if number == 2:
        row.update(TRICKY)
    if number == 3:
        row.update({"Own_House_Age": "", "Score_Source_1": ""})
    return row


def _field(value: str, delimiter: str) -> str:
    """CSV-quote a value when it needs it (as any CSV writer would)."""
    if any(ch in value for ch in (delimiter, '"', "\n", "\r")):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_text(columns: Sequence[str], rows: Sequence[dict[str, str]], delimiter: str = ",") -> str:
    """A CSV document with a header and one line per row, each ending in a newline."""
    lines = [delimiter.join(columns)]
    lines += [delimiter.join(_field(row[c], delimiter) for c in columns) for row in rows]
    return "\n".join(lines) + "\n"


def write_book(
    folder: Path, name: str, columns: Sequence[str], first: int = 1, count: int = 5
) -> Path:
    """Write `count` rows (numbers `first`...) with the given columns; labels alternate 0/1."""
    rows = []
    for number in range(first, first + count):
        row = application_row(number)
        row["Default"] = str(number % 2)
        rows.append(row)
    path = folder / name
    path.write_text(csv_text(columns, rows), encoding="utf-8", newline="")
    return path


@pytest.fixture
def landing(data_dir: Path) -> Path:
    """An empty landing folder under the test's data folder."""
    folder = data_dir / "landing"
    folder.mkdir()
    return folder


@pytest.fixture(params=ENGINES)
def target(request: pytest.FixtureRequest, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs on DuckDB and on a fresh database of the real PostgreSQL server."""
    name = request.param
    monkeypatch.setenv("LOANOPS_TARGET", name)
    if name == "postgres":
        server = request.getfixturevalue("postgres")
        for key, value in server.env.items():
            monkeypatch.setenv(key, value)
        database = f"ingest_{next(_database_numbers)}"
        with psycopg.connect(settings_module.postgres_dsn(), autocommit=True) as conn:
            conn.execute(f"drop database if exists {database}")
            conn.execute(f"create database {database}")
        monkeypatch.setenv("LOANOPS_PG_DATABASE", database)
    return name


@pytest.fixture
def settings(target: str, data_dir: Path) -> Settings:
    """The settings the environment now gives (target, data folder)."""
    return settings_module.load()


@pytest.fixture
def query(settings: Settings) -> Iterator:
    """Run a query on the test's warehouse and return a DataFrame."""
    yield lambda sql: warehouse.read_frame(settings, sql)
