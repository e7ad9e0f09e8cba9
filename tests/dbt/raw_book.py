"""Small raw books with every junk token, landed straight into raw tables (raw_tables layout).

The dbt tests use this instead of the generator and ingest so they exercise each cleaning
rule on purpose: junk numbers, Yes/No flags, placeholders, rare categories, the
Employed_Days sentinel, out-of-range values, junk ids and later loads of the same id.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from loanops import raw_tables as rt
from loanops.features import spec
from loanops.schema import APPLICATION_COLUMNS, BY_NAME, OUTCOME_COLUMNS, Kind

JUNK_NUMBERS = ("$", "#", "@", "&", "x", "#NA", "", "1e5", "1,000", "-", ".")
JUNK_FLAGS = ("maybe", "2", "", "#")
FLAG_SPELLINGS = ("1", "0", "1.0", "0.0", "Yes", "No", "yes", "NO", " 1 ", "Y", "n", "true")
PLACEHOLDERS = ("XNA", "#NA", "", "  ", "na", "?", "##")
RARE = ("Student", "Unemployed", "Maternity leave", "Kids", "Group", "Other_B")


@dataclass
class RawBook:
    """Raw applications and outcomes with published column names, all values text or None."""

    applications: pd.DataFrame
    outcomes: pd.DataFrame


def _number(rng: random.Random, name: str) -> str | None:
    column = BY_NAME[name]
    low, high = column.low or 0.0, column.high or 1.0
    roll = rng.random()
    if roll < 0.05:
        return None
    if roll < 0.10:
        return rng.choice(JUNK_NUMBERS)
    if name == "Employed_Days" and roll < 0.20:
        return rng.choice(("365243", "365243.0"))
    if rng.random() < 0.003:  # out of range: rejects the row
        return rng.choice((str(-1 - rng.randint(0, 9)), repr(high * 2 + 1)))
    span = min(high - low, 50_000.0)
    if high <= 100:
        value = rng.randint(int(low), int(high)) if high > 1 else round(rng.uniform(low, high), 6)
    else:
        value = round(rng.uniform(low, low + span), rng.choice((0, 1, 2)))
    text = repr(float(value)) if isinstance(value, float) else str(value)
    style = rng.random()
    if style < 0.1:
        return f" {text} "
    if style < 0.2 and isinstance(value, int):
        return f"{value}.0"
    return text


def _category(rng: random.Random, rule: spec.CategoryRule) -> str | None:
    roll = rng.random()
    if roll < 0.04:
        return None
    if roll < 0.08:
        return rng.choice(PLACEHOLDERS)
    if roll < 0.10:
        return rng.choice(RARE)
    spelling = rng.choice(sorted(rule.values))
    canonical = rule.values[spelling]
    if spelling == "post grad":
        return "Post Grad"
    return rng.choice((canonical, canonical.upper(), f" {canonical} ", spelling))


def generate(rows: int, seed: int, first_id: int = 12_100_001) -> RawBook:
    """`rows` applications (about 1 % junk ids, some repeated ids) and outcomes for most."""
    rng = random.Random(seed)
    categories = {r.source: r for r in spec.CATEGORIES}
    applications = []
    for i in range(rows):
        record: dict[str, str | None] = {}
        for name in APPLICATION_COLUMNS:
            kind = BY_NAME[name].kind
            if kind == Kind.ID:
                record[name] = str(first_id + i)
            elif kind == Kind.NUMBER:
                record[name] = _number(rng, name)
            elif kind == Kind.FLAG:
                roll = rng.random()
                record[name] = rng.choice(JUNK_FLAGS) if roll < 0.05 else rng.choice(FLAG_SPELLINGS)
            else:
                record[name] = _category(rng, categories[name])
        roll = rng.random()
        if roll < 0.01:
            record["ID"] = rng.choice(("abc", "", None, "12.5", "-3", "x12"))
        elif roll < 0.03:
            record["ID"] = f" {record['ID']} "
        applications.append(record)
    # A few exact resends of earlier rows in the same file: the later row (higher source_row) wins.
    for _ in range(max(1, rows // 100)):
        applications.append(dict(rng.choice(applications)))
    outcomes = []
    for record in applications[:rows]:
        if rng.random() < 0.8:
            label = rng.choice(("0", "1", "0.0", "1.0", "0", "0"))
            if rng.random() < 0.02:
                label = rng.choice(("2", "yes", "", None, "#NA"))
            outcomes.append({"ID": record["ID"], "Default": label})
    for i in range(max(1, rows // 200)):  # outcomes whose application has not landed yet
        outcomes.append({"ID": str(first_id + rows + 10_000 + i), "Default": "1"})
    return RawBook(pd.DataFrame(applications), pd.DataFrame(outcomes, columns=OUTCOME_COLUMNS))


def write_csvs(book: RawBook, folder: Path, name: str) -> None:
    """Write the book as landing CSVs in the published layouts (what ingest reads)."""
    folder.mkdir(parents=True, exist_ok=True)
    book.applications.to_csv(folder / f"{name}-applications.csv", index=False)
    book.outcomes.to_csv(folder / f"{name}-outcomes.csv", index=False)


def raw_rows(frame: pd.DataFrame, source_file: str, load_id: int) -> pd.DataFrame:
    """A raw table's rows for one file load: snake_case text columns plus load metadata."""
    out = pd.DataFrame(
        {BY_NAME[c].raw: frame[c].astype(object).where(frame[c].notna(), None) for c in frame}
    )
    out[rt.SOURCE_FILE] = source_file
    out[rt.SOURCE_ROW] = range(1, len(frame) + 1)
    out[rt.LOADED_AT] = datetime.now(UTC).replace(tzinfo=None)
    out[rt.LOAD_ID] = load_id
    return out


def _ddl(table: str, columns: tuple[str, ...]) -> str:
    text_columns = ", ".join(f"{c} varchar(256)" for c in columns)
    return (
        f"create table if not exists {rt.RAW_SCHEMA}.{table} ({text_columns}, "
        f"{rt.SOURCE_FILE} varchar(256), {rt.SOURCE_ROW} integer, "
        f"{rt.LOADED_AT} timestamp, {rt.LOAD_ID} integer)"
    )


_LOAD_LOG_DDL = (
    f"create table if not exists {rt.RAW_SCHEMA}.{rt.LOAD_LOG_TABLE} "
    "(load_id integer, file_name varchar(256), checksum varchar(256), layout varchar(64), "
    "rows bigint, loaded_at timestamp, status varchar(32), message varchar(4000))"
)


def _tables(book: RawBook, name: str, load_id: int) -> list[tuple[str, pd.DataFrame, int]]:
    applications = raw_rows(book.applications, f"{name}-applications.csv", load_id)
    outcomes = raw_rows(book.outcomes, f"{name}-outcomes.csv", load_id + 1)
    return [
        (rt.APPLICATIONS_TABLE, applications, load_id),
        (rt.OUTCOMES_TABLE, outcomes, load_id + 1),
    ]


def land_duckdb(path: str, book: RawBook, name: str, load_id: int) -> None:
    """Land a book into a DuckDB file (applications get `load_id`, outcomes `load_id + 1`)."""
    import duckdb

    with duckdb.connect(path) as con:
        con.execute(f"create schema if not exists {rt.RAW_SCHEMA}")
        con.execute(_ddl(rt.APPLICATIONS_TABLE, rt.APPLICATION_RAW_COLUMNS))
        con.execute(_ddl(rt.OUTCOMES_TABLE, rt.OUTCOME_RAW_COLUMNS))
        con.execute(_LOAD_LOG_DDL)
        for table, rows, table_load_id in _tables(book, name, load_id):
            con.register("landing", rows)
            con.execute(f"insert into {rt.RAW_SCHEMA}.{table} by name select * from landing")
            con.unregister("landing")
            con.execute(
                f"insert into {rt.RAW_SCHEMA}.{rt.LOAD_LOG_TABLE} "
                "values (?, ?, '-', ?, ?, now(), 'loaded', null)",
                [table_load_id, rows[rt.SOURCE_FILE].iloc[0], table, len(rows)],
            )


def land_postgres(dsn: str, book: RawBook, name: str, load_id: int) -> None:
    """Land a book into PostgreSQL (applications get `load_id`, outcomes `load_id + 1`)."""
    import psycopg

    with psycopg.connect(dsn) as con, con.cursor() as cur:
        cur.execute(f"create schema if not exists {rt.RAW_SCHEMA}")
        cur.execute(_ddl(rt.APPLICATIONS_TABLE, rt.APPLICATION_RAW_COLUMNS))
        cur.execute(_ddl(rt.OUTCOMES_TABLE, rt.OUTCOME_RAW_COLUMNS))
        cur.execute(_LOAD_LOG_DDL)
        for table, rows, table_load_id in _tables(book, name, load_id):
            columns = ", ".join(rows.columns)
            with cur.copy(f"copy {rt.RAW_SCHEMA}.{table} ({columns}) from stdin") as copy:
                for record in rows.itertuples(index=False):
                    copy.write_row(record)
            cur.execute(
                f"insert into {rt.RAW_SCHEMA}.{rt.LOAD_LOG_TABLE} "
                "values (%s, %s, '-', %s, %s, now(), 'loaded', null)",
                (table_load_id, rows[rt.SOURCE_FILE].iloc[0], table, len(rows)),
            )
