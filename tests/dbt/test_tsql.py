"""Every model and test compiles for Azure SQL without a server, into portable T-SQL.

`dbt compile --target azure_sql --no-introspect --no-populate-cache --vars
'{offline_compile: true}'` renders the SQL that dbt-sqlserver would run (is_incremental() is
overridden offline). Each file must parse with sqlglot's T-SQL reader, and, because that reader
is lenient, the tokens and the tree are checked for what the portable SQL rules forbid.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

from loanops.settings import REPO_ROOT
from tests.dbt.conftest import make_project

FORBIDDEN_TOKENS = {
    TokenType.DCOLON: "::",
    TokenType.LIMIT: "LIMIT",
    TokenType.ILIKE: "ILIKE",
    TokenType.QUALIFY: "QUALIFY",
    TokenType.TRUE: "true",
    TokenType.FALSE: "false",
}
BOOLEAN_EXPRESSIONS = (
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.And, exp.Or, exp.Not, exp.Is,
    exp.In, exp.Like, exp.ILike, exp.Between, exp.Exists, exp.Boolean,
)  # fmt: skip


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("dbt-azure-sql")
    project = make_project(tmp, {"LOANOPS_TARGET": "azure_sql"})
    project.run(
        "compile", "--no-introspect", "--no-populate-cache", "--vars", "{offline_compile: true}"
    )
    folder = project.target_path / "compiled" / "loanops"
    files = {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*.sql"))}
    assert sum(
        "/models/" in name and "/models/" in name and name.endswith(".sql") for name in files
    )
    return files


def test_every_model_and_test_is_compiled(compiled: dict[str, str]) -> None:
    models = {
        Path(n).stem for n in compiled if n.startswith("dbt_project/models/") and n.count("/") == 3
    }
    assert {
        "bronze_applications", "bronze_outcomes", "silver_application_loads", "silver_applications",
        "silver_outcome_loads", "silver_outcomes", "silver_rejected_rows",
        "gold_application_features", "gold_scoring_features",
    } <= models  # fmt: skip
    generic = [Path(n).stem for n in compiled if ".yml/" in n]
    assert len(generic) >= 30  # generic tests
    assert {
        "silver_applications_column_rules", "silver_outcomes_column_rules",
        "silver_rejected_rows_column_rules", "gold_application_features_column_rules",
    } <= set(generic)  # fmt: skip
    assert any("reconcile_applications" in n for n in compiled)
    # The offline compile includes the incremental filter (the larger shape of bronze).
    bronze = compiled["dbt_project/models/bronze/bronze_applications.sql"]
    assert '"bronze"."bronze_applications"' in bronze


def _problems(sql: str) -> list[str]:
    problems = []
    for token in sqlglot.tokenize(sql, read="tsql"):
        if token.token_type in FORBIDDEN_TOKENS:
            problems.append(f"{FORBIDDEN_TOKENS[token.token_type]} at line {token.line}")
    statements = sqlglot.parse(sql, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)
    for statement in statements:
        if statement is None:
            continue
        withs = list(statement.find_all(exp.With))
        if len(withs) > 1:
            problems.append(f"{len(withs)} WITH clauses (nested CTEs)")
        for select in statement.find_all(exp.Select):
            for projection in select.expressions:
                value = projection.this if isinstance(projection, exp.Alias) else projection
                if isinstance(value, BOOLEAN_EXPRESSIONS):
                    problems.append(f"boolean select expression: {projection.sql('tsql')}")
    return problems


def test_compiled_sql_is_portable_tsql(compiled: dict[str, str]) -> None:
    failures = {name: _problems(sql) for name, sql in compiled.items()}
    failures = {name: found for name, found in failures.items() if found}
    assert not failures


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select a::int as b from t", "::"),
        ("select a from t limit 5", "LIMIT"),
        ("select a from t where a ilike 'x%'", "ILIKE"),
        ("select a, a > 1 as is_big from t", "boolean select expression"),
        ("select true as flag", "true"),
        ("with a as (with b as (select 1 as x) select x from b) select x from a", "WITH"),
    ],
)
def test_the_checker_catches_each_forbidden_form(sql: str, expected: str) -> None:
    assert any(expected in problem for problem in _problems(sql))


def test_generated_macros_are_current() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "loanops"), "features", "render", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
