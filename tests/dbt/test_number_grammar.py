"""Every warehouse's compiled number rules accept exactly the spec's grammar, value by value.

The `typed` step of silver_application_loads is compiled for each target and run on one corpus
of texts (the spec tests' values, the edges of NUMBER_PATTERN and ID_PATTERN, and seeded random
strings), each text landed in every bronze column. DuckDB's and PostgreSQL's SQL runs on the real
engines and must give Python's numbers bit for bit. SQL Server is not available here, so the
compiled T-SQL is transpiled with sqlglot and run on DuckDB, with the three constructs whose
T-SQL meaning DuckDB does not share rewritten to that documented meaning: LIKE's patterns (with
[...] classes, whole-string, trailing blanks of the text ignored), LEN (trailing blanks not
counted) and COLLATE (a binary collation: code points compared). This proves the T-SQL text's
accept/reject decisions equal the spec's; it cannot prove SQL Server's own parse of an accepted
text (try_cast's float), nor how a real server's collations treat the text.
"""

from __future__ import annotations

import math
import random
import re
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import psycopg
import pytest
import sqlglot
from sqlglot import exp

from loanops import settings as settings_module
from loanops.features import columns, spec
from tests.dbt.conftest import make_project
from tests.postgres_server import PostgresServer

MODEL = "dbt_project/models/silver/silver_application_loads.sql"
TYPED = re.compile(r"\btyped as\s+(?:materialized\s+)?\(")


def _corpus() -> list[str]:
    """Texts around every edge of the two grammars, plus seeded random strings."""
    digits = "123456789012345678901234567890"
    edges = [
        # the spec tests' own values (tests/features/test_frame.py)
        "12500.0", " 7 ", "+3", ".5", "5.", "$", "#", "@", "&", "x", "#NA", "", "1e5", "1,000",
        "1234567890123456", " ", "1", " 1 ", "1.0", "Yes", "no", "+.5", "１２", "-0",
        # signs, dots and digits in every wrong place
        ".", "+", "-", "+.", "-.", "..5", "1..2", "1.2.3", "+-1", "--1", "1-", "1+1", "+ 1", "1 2",
        "\t12", "12\t", "²", "1²", "٣", "0x10", "inf", "-Infinity", "nan", "1E5", "1e-3", "$5",
        # the 15-digit bound, before and after the dot, with signs and padding
        digits[:15], digits[:16], "+" + digits[:15], "-" + digits[:16], digits[:15] + ".",
        digits[:16] + ".", digits[:15] + "." + digits, "." + digits[:15], "." + digits[:16],
        "+." + digits[:15], "-." + digits[:16], "0" * 15 + ".5", "0" * 16 + ".5",
        " " * 20 + "12", "12" + " " * 20, " " * 20 + digits[:15] + " " * 3, "0." + digits,
        # the 18-digit bound of ids
        digits[:18], digits[:19], " " + digits[:18] + " ", "12100001", "+12100001", "5.0",
    ]  # fmt: skip
    rng = random.Random(7)
    alphabet = "0123456789" * 3 + ".+- e"
    randoms = ["".join(rng.choices(alphabet, k=rng.randint(0, 22))) for _ in range(3000)]
    return list(dict.fromkeys(edges + randoms))


CORPUS = _corpus()


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """silver_application_loads as compiled (offline) for each target."""
    models = {}
    for target in ("duckdb", "postgres", "azure_sql"):
        tmp = tmp_path_factory.mktemp(f"grammar-{target}")
        project = make_project(tmp, {"LOANOPS_TARGET": target})
        project.run(
            "compile", "--no-introspect", "--no-populate-cache", "--select",
            "silver_application_loads", "--vars", "{offline_compile: true}",
        )  # fmt: skip
        models[target] = (project.target_path / "compiled" / "loanops" / MODEL).read_text()
    return models


def _typed_cte(sql: str) -> str:
    """The text of the model's `typed` CTE (name, keyword and body), exactly as compiled."""
    start = TYPED.search(sql)
    assert start, "the model has no `typed` CTE"
    end = sql.index("\nchecked as", start.start())
    return sql[start.start() : end].rstrip().rstrip(",")


def _bronze_columns(sql: str, dialect: str) -> list[str]:
    """Every column the `typed` CTE reads from bronze."""
    tree = sqlglot.parse_one(f"with {_typed_cte(sql)} select 1 as one", read=dialect)
    return sorted({column.name for column in tree.find_all(exp.Column)})


def _query(typed: str) -> str:
    """A query of the typed columns over the corpus table instead of bronze."""
    return (
        f"with new_bronze as (select * from grammar_values), {typed} "
        "select * from typed order by source_row"
    )


def _values_rows(columns: list[str]) -> list[tuple[Any, ...]]:
    """One row per corpus text, the text in every column (source_row numbers the rows)."""
    return [
        tuple(i if c == "source_row" else (0 if c == "load_id" else text) for c in columns)
        for i, text in enumerate(CORPUS)
    ]


def _ddl(columns: list[str]) -> str:
    """The corpus table: text everywhere but the bookkeeping columns."""
    types = {"source_row": "bigint", "load_id": "integer", "loaded_at": "varchar(64)"}
    return ", ".join(f"{c} {types.get(c, 'varchar(256)')}" for c in columns)


def _run_duckdb(sql: str, columns: list[str]) -> list[dict[str, Any]]:
    """Run a query over the corpus on an in-memory DuckDB."""
    with duckdb.connect() as con:
        con.execute(f"create table grammar_values ({_ddl(columns)})")
        marks = ", ".join("?" for _ in columns)
        con.executemany(f"insert into grammar_values values ({marks})", _values_rows(columns))
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _run_postgres(server: PostgresServer, sql: str, columns: list[str]) -> list[dict[str, Any]]:
    """Run a query over the corpus on the real PostgreSQL server."""
    with psycopg.connect(settings_module.postgres_dsn(server.env)) as con:
        con.execute(f"create temporary table grammar_values ({_ddl(columns)})")
        with con.cursor() as cursor:
            marks = ", ".join("%s" for _ in columns)
            cursor.executemany(
                f"insert into grammar_values values ({marks})", _values_rows(columns)
            )
            cursor.execute(sql)
            names = [d.name for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _like_regex(pattern: str) -> str:
    """A T-SQL LIKE pattern as an anchored regular expression (%, _ and [...] / [^...])."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        elif char == "[":
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            members = "".join(
                c if c == "-" and 0 < k < len(body) - 1 else re.escape(c)
                for k, c in enumerate(body)
            )
            out.append(f"[{'^' if negate else ''}{members}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "^(?s:" + "".join(out) + ")$"


def _rtrim_spaces(node: exp.Expression) -> exp.Expression:
    """rtrim(node, ' '): what T-SQL ignores at the end of a string in LEN and LIKE."""
    return exp.Anonymous(this="rtrim", expressions=[node, exp.Literal.string(" ")])


def _tsql_meaning(node: exp.Expression) -> exp.Expression:
    """Rewrite the constructs whose T-SQL meaning DuckDB does not share (see the docstring)."""
    if isinstance(node, exp.Collate):
        return node.this  # a binary collation: the regular expressions compare code points
    if isinstance(node, exp.Like):
        # a replaced node's children are not visited again: rewrite them here
        text = node.this.transform(_tsql_meaning)
        pattern = node.expression
        assert isinstance(pattern, exp.Literal), f"non-literal LIKE pattern: {node.sql('tsql')}"
        regex = exp.Literal.string(_like_regex(pattern.this))
        match = exp.Anonymous(this="regexp_full_match", expressions=[_rtrim_spaces(text), regex])
        return exp.Not(this=match) if node.args.get("negate") else match
    if isinstance(node, exp.Length):
        return exp.Length(this=_rtrim_spaces(node.this.transform(_tsql_meaning)))
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.FLOAT:
        return exp.DataType.build("double")  # T-SQL's float is float(53), 8 bytes
    return node


def _tsql_on_duckdb(sql: str) -> str:
    """The compiled T-SQL `typed` CTE with its T-SQL meaning, as DuckDB SQL."""
    tree = sqlglot.parse_one(_query(_typed_cte(sql)), read="tsql")
    assert tree.find(exp.Like), "the T-SQL number rule no longer uses LIKE: update this check"
    return tree.transform(_tsql_meaning).sql("duckdb")


def _expected() -> tuple[list[int | None], list[float]]:
    """Python's ids and numbers for the corpus (the one definition)."""
    return [columns.parse_id(t) for t in CORPUS], [columns.parse_number(t) for t in CORPUS]


def _same(a: Any, b: float) -> bool:
    """Bitwise float equality; None and NaN both mean missing."""
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return math.isnan(b)
    return np.float64(a).tobytes() == np.float64(b).tobytes()


def _mismatches(rows: list[dict[str, Any]], values: bool) -> list[str]:
    """Corpus texts where the SQL's id or numbers differ from Python's (decisions or values)."""
    ids, numbers = _expected()
    found = []
    for row, text, id_, number in zip(rows, CORPUS, ids, numbers, strict=True):
        got_id = row[spec.ID_NAME]
        if (got_id is None) != (id_ is None) or (values and got_id is not None and got_id != id_):
            found.append(f"{spec.ID_NAME} {text!r}: sql {got_id!r}, spec {id_!r}")
        for rule in spec.NUMBERS:
            expected = math.nan if number == rule.sentinel else number
            got = row[rule.name]
            decided = (got is None) == math.isnan(expected)
            if not decided or (values and not _same(got, expected)):
                found.append(f"{rule.name} {text!r}: sql {got!r}, spec {expected!r}")
    return found


def test_corpus_covers_both_decisions() -> None:
    ids, numbers = _expected()
    accepted = sum(not math.isnan(n) for n in numbers)
    assert 200 < accepted < len(CORPUS) - 200
    assert sum(i is not None for i in ids) > 100
    # the edges that split the engines apart before: 16+ integer digits, long fractions
    assert math.isnan(columns.parse_number("1234567890123456"))
    assert columns.parse_number("1." + "0" * 30) == 1.0


def test_duckdb_numbers_equal_the_spec(compiled: dict[str, str]) -> None:
    sql = compiled["duckdb"]
    rows = _run_duckdb(_query(_typed_cte(sql)), _bronze_columns(sql, "duckdb"))
    assert len(rows) == len(CORPUS)
    assert _mismatches(rows, values=True) == []


def test_postgres_numbers_equal_the_spec(
    compiled: dict[str, str], postgres: PostgresServer
) -> None:
    sql = compiled["postgres"]
    rows = _run_postgres(postgres, _query(_typed_cte(sql)), _bronze_columns(sql, "postgres"))
    assert len(rows) == len(CORPUS)
    assert _mismatches(rows, values=True) == []


def test_tsql_decisions_equal_the_spec(compiled: dict[str, str]) -> None:
    sql = compiled["azure_sql"]
    rows = _run_duckdb(_tsql_on_duckdb(sql), _bronze_columns(sql, "tsql"))
    assert len(rows) == len(CORPUS)
    assert _mismatches(rows, values=False) == []


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("%[^0123456789.]%", "12.5", False),
        ("%[^0123456789.]%", "1e5", True),
        ("%[^0-9]%", "123", False),
        ("%.%.%", "1.2.3", True),
        ("%.%.%", "1.23", False),
        (".%", ".5", True),
        ("_%[+-]%", "+1", False),
        ("_%[+-]%", "1-", True),
    ],
)
def test_like_translation_follows_tsql(pattern: str, text: str, matches: bool) -> None:
    assert bool(re.match(_like_regex(pattern), text)) is matches


def test_old_tsql_rule_is_caught(tmp_path: Path) -> None:
    """The check fails on the rule it replaced (16-32 characters accepted)."""
    old = (
        "typed as (select case when len(trim(client_income)) between 1 and 32 "
        "and trim(client_income) not like '%[^0-9.+-]%' "
        "then try_cast(trim(client_income) as float) end as client_income, "
        "source_row from new_bronze)\nchecked as (select 1 as x)"
    )
    tree = sqlglot.parse_one(_query(_typed_cte(old)), read="tsql")
    rows = _run_duckdb(tree.transform(_tsql_meaning).sql("duckdb"), ["client_income", "source_row"])
    accepted = {t for t, r in zip(CORPUS, rows, strict=True) if r["client_income"] is not None}
    assert "1234567890123456" in accepted
    assert math.isnan(columns.parse_number("1234567890123456"))
