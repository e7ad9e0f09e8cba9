"""dbt build on DuckDB and on a real PostgreSQL: two batches through ingest, then the checks.

Each target gets one warehouse for the module: batch 1 is ingested and built, batch 2 (new
applications, corrected and broken resends of batch-1 applications, late and corrected outcomes
of batch-1 applications, and the applications of some batch-1 orphan outcomes) is ingested and
built incrementally. The tests then read the warehouse: build results, reconciliation,
incremental bronze, silver and gold (what the second build wrote), documentation coverage and
parity with the Python feature rules, which are computed over all raw rows at once, so an
incremental build must give what a full one would.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from loanops import raw_tables as rt
from loanops import settings as settings_module
from loanops.features import columns, frame, spec, sql
from loanops.ingest import ingest_folder
from loanops.schema import BY_NAME, FIRST_ID
from tests.dbt.conftest import DbtProject, DbtRun, make_project
from tests.dbt.raw_book import RawBook, generate, write_csvs

BATCH_1_ROWS = 2_000
BATCH_2_ROWS = 400
RESENDS = 60
BROKEN_RESENDS = 20  # later loads that break a rule: they supersede nothing
LATE_OUTCOMES = 50  # outcomes of batch-1 applications that had none
CORRECTED_OUTCOMES = 30  # batch-1 outcomes landed again with the other label
TO_PUBLISHED = {column.raw: name for name, column in BY_NAME.items()}
GOLD_BOOKKEEPING = [
    "is_default", "has_outcome", "application_load_id", "outcome_load_id", "dbt_invocation_id"
]  # fmt: skip
LAST_LOAD_SQL = (
    "select max(landed) as n from ("
    f"select max({rt.LOAD_ID}) as landed from {rt.RAW_SCHEMA}.{rt.APPLICATIONS_TABLE} union all "
    f"select max({rt.LOAD_ID}) as landed from {rt.RAW_SCHEMA}.{rt.OUTCOMES_TABLE}) as loads"
)


@dataclass
class Warehouse:
    """A built warehouse and how to query it."""

    target: str
    project: DbtProject
    builds: list[DbtRun]
    seconds: list[float]
    raw_counts: list[int]  # raw.applications rows after batch 1 and after batch 2
    last_load_ids: list[int]  # the largest load id after batch 1 and after batch 2

    def query(self, sql: str) -> pd.DataFrame:
        """Rows of one query as a DataFrame."""
        if self.target == "duckdb":
            import duckdb

            path = self.project.env["LOANOPS_DUCKDB_PATH"]
            with duckdb.connect(path, read_only=True) as con:
                return con.execute(sql).df()
        import psycopg

        with psycopg.connect(settings_module.postgres_dsn(self.project.env)) as con:
            cursor = con.execute(sql)
            return pd.DataFrame(cursor.fetchall(), columns=[d.name for d in cursor.description])

    def count(self, relation: str, where: str = "1 = 1") -> int:
        """count(*) of a relation."""
        return int(self.query(f"select count(*) as n from {relation} where {where}")["n"][0])


def _second_batch(first: RawBook) -> RawBook:
    """A later batch that touches batch 1 in every way an incremental build must handle."""
    book = generate(BATCH_2_ROWS, seed=2, first_id=FIRST_ID + BATCH_1_ROWS)
    earlier = first.applications.iloc[:BATCH_1_ROWS]
    resends = earlier.iloc[:RESENDS].copy()
    resends["Client_Income"] = "4321.5"
    broken = earlier.iloc[RESENDS : RESENDS + BROKEN_RESENDS].copy()
    broken["Client_Income"] = "-5"
    landed_ids = set(earlier["ID"].dropna())
    orphan_ids = [i for i in first.outcomes["ID"] if i not in landed_ids]
    orphans_landing = book.applications.iloc[: len(orphan_ids)].copy()
    orphans_landing["ID"] = orphan_ids
    with_outcome = set(first.outcomes["ID"].dropna())
    late = earlier[~earlier["ID"].isin(with_outcome) & earlier["ID"].notna()].iloc[:LATE_OUTCOMES]
    corrected = first.outcomes[first.outcomes["Default"].isin(["0", "1"])].iloc[:CORRECTED_OUTCOMES]
    applications = pd.concat([book.applications, resends, broken, orphans_landing])
    outcomes = pd.concat(
        [
            book.outcomes,
            pd.DataFrame({"ID": late["ID"], "Default": "1"}),
            corrected.assign(Default=corrected["Default"].map({"0": "1", "1": "0"})),
        ]
    )
    return RawBook(applications.reset_index(drop=True), outcomes.reset_index(drop=True))


def _ingest(env: dict[str, str], folder: Path) -> None:
    """The real ingest (loanops.ingest) of one landing folder into the target's raw tables."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            if key.startswith("LOANOPS_"):
                patch.setenv(key, value)
        results = ingest_folder(settings_module.load(env), folder)
    assert all(r.status == "loaded" for r in results), results


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def warehouse(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Warehouse]:
    target = request.param
    tmp = tmp_path_factory.mktemp(f"dbt-{target}")
    env = {"LOANOPS_TARGET": target, "LOANOPS_DUCKDB_PATH": str(tmp / "warehouse.duckdb")}
    if target == "postgres":
        server = request.getfixturevalue("postgres")
        database = f"dbt_{tmp.name.replace('-', '_').lower()}"
        import psycopg

        with psycopg.connect(settings_module.postgres_dsn(server.env), autocommit=True) as con:
            con.execute(f"create database {database}")
        env |= {**server.env, "LOANOPS_PG_DATABASE": database}
    project = make_project(tmp, env)
    first = generate(BATCH_1_ROWS, seed=1)
    builds, seconds, raw_counts, last_load_ids = [], [], [], []
    for name, book in (("batch1", first), ("batch2", _second_batch(first))):
        write_csvs(book, tmp / name, name)
        _ingest(project.env, tmp / name)
        started = time.perf_counter()
        builds.append(project.run("build"))
        seconds.append(time.perf_counter() - started)
        built = Warehouse(target, project, builds, seconds, raw_counts, last_load_ids)
        raw_counts.append(built.count(f"{rt.RAW_SCHEMA}.{rt.APPLICATIONS_TABLE}"))
        last_load_ids.append(int(built.query(LAST_LOAD_SQL)["n"][0]))
    print(f"\n{target}: dbt build {seconds[0]:.1f} s (batch 1), {seconds[1]:.1f} s (batch 2)")
    yield built


def test_build_passes_with_only_orphan_outcome_warnings(warehouse: Warehouse) -> None:
    for build in warehouse.builds:
        statuses = {r["unique_id"]: r["status"] for r in build.results}
        failing = {
            k: v for k, v in statuses.items() if v not in ("success", "pass", "warn", "no-op")
        }
        assert not failing
        warned = [k for k, v in statuses.items() if v == "warn"]
        assert all("relationships_silver_outcomes" in k for k in warned), warned
        assert sum(1 for k in statuses if k.startswith("unit_test.")) >= 9


def test_bronze_is_incremental(warehouse: Warehouse) -> None:
    first, second = warehouse.raw_counts
    assert warehouse.count("bronze.bronze_applications") == second
    # Every raw row exactly once: had batch 2's build re-read batch 1, rows would repeat.
    distinct = warehouse.query(
        "select count(*) as n from (select distinct load_id, source_row "
        "from bronze.bronze_applications) as landed"
    )["n"][0]
    assert distinct == second
    incremental = warehouse.builds[1].result("model.loanops.bronze_applications")
    assert incremental["status"] == "success"
    rows_affected = incremental["adapter_response"].get("rows_affected")
    if rows_affected is not None and rows_affected >= 0:
        assert rows_affected == second - first


@pytest.mark.parametrize("table", ["applications", "outcomes"])
def test_reconciliation(warehouse: Warehouse, table: str) -> None:
    bronze = warehouse.count(f"bronze.bronze_{table}")
    silver = warehouse.count(f"silver.silver_{table}")
    rejected = warehouse.count("silver.silver_rejected_rows", f"source_table = '{table}'")
    assert bronze == silver + rejected
    assert silver > 0
    assert rejected > 0


def test_latest_load_wins_across_batches(warehouse: Warehouse) -> None:
    resent = warehouse.query(
        "select count(*) as n from silver.silver_applications where client_income = 4321.5"
    )["n"][0]
    superseded = warehouse.count(
        "silver.silver_rejected_rows",
        "source_table = 'applications' and rejection_reason like 'superseded by a later load%'",
    )
    assert resent > RESENDS * 0.7  # resends of rows that were valid in batch 1 and still are
    assert superseded >= resent


def test_gold_has_one_row_per_silver_application(warehouse: Warehouse) -> None:
    silver = warehouse.count("silver.silver_applications")
    assert warehouse.count("gold.gold_application_features") == silver
    assert warehouse.count("gold.gold_scoring_features") == silver
    labelled = warehouse.count("gold.gold_application_features", "has_outcome = 1")
    assert labelled == warehouse.count("gold.gold_application_features", "is_default is not null")
    assert 0 < labelled < silver


def test_every_model_column_is_documented(warehouse: Warehouse) -> None:
    import json

    manifest = json.loads((warehouse.project.target_path / "manifest.json").read_text())
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        built = warehouse.query(
            "select column_name from information_schema.columns "
            f"where table_schema = '{node['schema']}' and table_name = '{node['name']}'"
        )["column_name"].tolist()
        assert built, node["name"]
        documented = {name for name, c in node["columns"].items() if c["description"]}
        assert set(built) == documented, node["name"]
        assert node["description"]


def test_incremental_builds_write_only_what_the_new_batch_touches(warehouse: Warehouse) -> None:
    """Each row carries the invocation that last wrote it: batch 2's build wrote only its own
    rows plus the earlier rows of the application ids it touched (silver), and only the
    applications whose application or outcome came from its loads (gold)."""
    first_build, second_build = (build.invocation_id for build in warehouse.builds)
    last_first_load = warehouse.last_load_ids[0]
    for loads in ("silver.silver_application_loads", "silver.silver_outcome_loads"):
        touched = (
            f"load_id > {last_first_load} or application_id in (select application_id from "
            f"{loads} where load_id > {last_first_load})"
        )
        rewritten = warehouse.count(loads, f"dbt_invocation_id = '{second_build}'")
        assert rewritten == warehouse.count(loads, touched), loads
        kept = warehouse.count(loads, f"dbt_invocation_id = '{first_build}'")
        assert kept + rewritten == warehouse.count(loads)
        assert 0 < rewritten < kept, loads
    gold = "gold.gold_application_features"
    changed = (
        f"application_load_id > {last_first_load} "
        f"or coalesce(outcome_load_id, 0) > {last_first_load}"
    )
    rewritten = warehouse.count(gold, f"dbt_invocation_id = '{second_build}'")
    assert rewritten == warehouse.count(gold, changed)
    assert warehouse.count(gold, f"dbt_invocation_id = '{first_build}'") == warehouse.count(
        gold, f"not ({changed})"
    )
    assert 0 < rewritten < warehouse.count(gold) / 2
    for model in ("silver_application_loads", "silver_outcome_loads", "gold_application_features"):
        assert warehouse.builds[1].result(f"model.loanops.{model}")["status"] == "success"


def test_gold_labels_follow_the_latest_valid_outcome(warehouse: Warehouse) -> None:
    """Late and corrected outcomes reach gold on the build after they land; an orphan outcome
    reaches gold once its application lands; the application row is the latest valid load."""
    raw = warehouse.query(f"select * from {rt.RAW_SCHEMA}.{rt.OUTCOMES_TABLE}")
    raw = raw.astype(object).where(raw.notna(), None).rename(columns=TO_PUBLISHED)
    ids = [columns.parse_id(v) for v in raw["ID"]]
    fates = _expected_fates(raw, frame.outcome_rejection_reasons(raw), ids)
    outcome = {
        ids[i]: (columns.parse_label(raw["Default"][i]), int(raw[rt.LOAD_ID][i]))
        for i, fate in enumerate(fates)
        if fate is None
    }
    apps = _raw_applications(warehouse)
    app_ids = [columns.parse_id(v) for v in apps["ID"]]
    app_fates = _expected_fates(apps, frame.rejection_reasons(apps), app_ids)
    app_load = {app_ids[i]: int(apps[rt.LOAD_ID][i]) for i, f in enumerate(app_fates) if f is None}
    gold = warehouse.query(
        "select application_id, is_default, has_outcome, application_load_id, outcome_load_id "
        "from gold.gold_application_features"
    )
    assert sorted(int(i) for i in gold["application_id"]) == sorted(app_load)
    for row in gold.itertuples(index=False):
        expected = outcome.get(int(row.application_id))
        assert int(row.application_load_id) == app_load[int(row.application_id)]
        if expected is None:
            assert row.has_outcome == 0 and _same(row.is_default, None)
            assert _same(row.outcome_load_id, None)
        else:
            assert row.has_outcome == 1 and int(row.is_default) == expected[0]
            assert int(row.outcome_load_id) == expected[1]
    labelled = {int(i) for i in gold.loc[gold["has_outcome"] == 1, "application_id"]}
    first = generate(BATCH_1_ROWS, seed=1)
    second = _second_batch(first)
    late = {columns.parse_id(v) for v in second.outcomes["ID"]} & {
        columns.parse_id(v) for v in first.applications["ID"]
    }
    assert len(late & labelled) >= (LATE_OUTCOMES + CORRECTED_OUTCOMES) * 0.8
    first_ids = {columns.parse_id(v) for v in first.applications["ID"]}
    orphans = {columns.parse_id(v) for v in first.outcomes["ID"]} - first_ids
    landed = orphans & set(app_load)  # their applications landed (valid) in batch 2
    assert landed and landed <= labelled


# ---- parity with the Python side of the one feature definition --------------------------


def _raw_applications(warehouse: Warehouse) -> pd.DataFrame:
    """raw.applications with published column names (what the API would receive)."""
    raw = warehouse.query(f"select * from {rt.RAW_SCHEMA}.{rt.APPLICATIONS_TABLE}")
    raw = raw.astype(object).where(raw.notna(), None)
    return raw.rename(columns=TO_PUBLISHED)


def _expected_fates(raw: pd.DataFrame, reasons: list[str | None], ids: list[int | None]) -> list:
    """Rejection reason per row, including 'superseded' for earlier valid loads of an id."""
    frame_ = pd.DataFrame(
        {"id": ids, "reason": reasons, "load": raw[rt.LOAD_ID], "row": raw[rt.SOURCE_ROW]}
    )
    valid = frame_[frame_["reason"].isna()].sort_values(["load", "row"], ascending=False)
    superseded = valid.index[valid.duplicated("id")]
    fates = list(reasons)
    for i in superseded:
        fates[i] = f"superseded by a later load of application {ids[i]}"
    return fates


def _same(left: Any, right: Any) -> bool:
    """Equal values, with missing equal to missing and floats to 1e-12 relative."""
    left_missing = left is None or left is pd.NA or (isinstance(left, float) and math.isnan(left))
    right_missing = (
        right is None or right is pd.NA or (isinstance(right, float) and math.isnan(right))
    )
    if left_missing or right_missing:
        return left_missing and right_missing
    if isinstance(left, str) or isinstance(right, str):
        return left == right
    return math.isclose(float(left), float(right), rel_tol=1e-12, abs_tol=0.0)


def _assert_frames_equal(built: pd.DataFrame, expected: pd.DataFrame, what: str) -> None:
    assert list(built.index) == list(expected.index), what
    for column in expected.columns:
        pairs = zip(built[column].tolist(), expected[column].tolist(), strict=True)
        bad = [(i, b, e) for i, (b, e) in zip(built.index, pairs, strict=False) if not _same(b, e)]
        assert not bad, f"{what}.{column}: {len(bad)} differ, first {bad[:3]}"


def test_silver_matches_python_rules(warehouse: Warehouse) -> None:
    raw = _raw_applications(warehouse)
    expected = frame.clean(raw)
    ids = [columns.parse_id(v) for v in raw["ID"]]
    expected.insert(0, "application_id", ids)
    expected["rejection_reason"] = _expected_fates(raw, frame.rejection_reasons(raw), ids)
    key = [rt.LOAD_ID, rt.SOURCE_ROW]
    expected.index = pd.MultiIndex.from_frame(raw[key].astype("int64"), names=["load", "row"])
    expected = expected.sort_index()
    built = warehouse.query("select * from silver.silver_application_loads")
    built.index = pd.MultiIndex.from_frame(
        built[["load_id", "source_row"]].astype("int64"), names=["load", "row"]
    )
    built = built.sort_index()
    _assert_frames_equal(built, expected, "silver_application_loads")
    used = expected[expected["rejection_reason"].isna()]
    assert len(used) == warehouse.count("silver.silver_applications")


def test_outcomes_match_python_rules(warehouse: Warehouse) -> None:
    raw = warehouse.query(f"select * from {rt.RAW_SCHEMA}.{rt.OUTCOMES_TABLE}")
    raw = raw.astype(object).where(raw.notna(), None).rename(columns=TO_PUBLISHED)
    ids = [columns.parse_id(v) for v in raw["ID"]]
    expected = pd.DataFrame(
        {
            "application_id": ids,
            "is_default": [columns.parse_label(v) for v in raw["Default"]],
            "rejection_reason": _expected_fates(raw, frame.outcome_rejection_reasons(raw), ids),
        }
    )
    expected.index = pd.MultiIndex.from_frame(raw[[rt.LOAD_ID, rt.SOURCE_ROW]].astype("int64"))
    built = warehouse.query("select * from silver.silver_outcome_loads")
    built.index = pd.MultiIndex.from_frame(built[["load_id", "source_row"]].astype("int64"))
    expected.index.names = built.index.names = ["load", "row"]
    _assert_frames_equal(built.sort_index(), expected.sort_index(), "silver_outcome_loads")


def test_gold_matches_python_features(warehouse: Warehouse) -> None:
    silver = warehouse.query("select * from silver.silver_applications")
    silver = silver.set_index("application_id").sort_index()
    for name in spec.SILVER_COLUMNS:  # nullable integers and decimals as the API sees them
        if name not in {r.name for r in spec.CATEGORIES}:
            silver[name] = pd.to_numeric(silver[name]).astype("float64")
    expected = frame.features(silver)
    gold = warehouse.query("select * from gold.gold_application_features")
    gold = gold.set_index("application_id").sort_index()
    assert list(gold.columns) == [*expected.columns, *GOLD_BOOKKEEPING]
    _assert_frames_equal(gold, expected, "gold_application_features")
    scoring = warehouse.query("select * from gold.gold_scoring_features")
    scoring = scoring.set_index("application_id").sort_index()
    assert list(scoring.columns) == list(expected.columns)
    _assert_frames_equal(scoring, expected, "gold_scoring_features")


def test_silver_from_raw_equals_python_end_to_end(warehouse: Warehouse) -> None:
    """Raw text -> gold through dbt equals raw text -> features through frame.build."""
    raw = _raw_applications(warehouse)
    ids = [columns.parse_id(v) for v in raw["ID"]]
    fates = _expected_fates(raw, frame.rejection_reasons(raw), ids)
    kept = raw[[fate is None for fate in fates]].copy()
    expected = frame.build(kept)
    expected.index = pd.Index([columns.parse_id(v) for v in kept["ID"]], name="application_id")
    gold = warehouse.query("select * from gold.gold_scoring_features")
    gold = gold.set_index("application_id")
    _assert_frames_equal(gold.sort_index(), expected.sort_index(), "raw -> gold")


def test_docs_generate(warehouse: Warehouse) -> None:
    import json

    warehouse.project.run("docs", "generate")
    catalog = json.loads((warehouse.project.target_path / "catalog.json").read_text())
    assert "model.loanops.gold_application_features" in catalog["nodes"]
    assert "source.loanops.raw.applications" in catalog["sources"]


# ---- the consolidated column rules fail, naming column and rule, when a rule breaks -----

# The table each rules test reads (through a view for silver), and how its rows are keyed.
PLANT_TABLES = {
    "silver_applications": ("silver.silver_application_loads", "rejection_reason is null"),
    "silver_outcomes": ("silver.silver_outcome_loads", "rejection_reason is null"),
    "gold_application_features": ("gold.gold_application_features", "1 = 1"),
}


def _rules_of(manifest: dict[str, Any], model: str) -> dict[str, Any]:
    """Every rule of a model's loanops_column_rules test: the rule sets generated from the
    feature definition that it names (`spec_rules`) merged with its own arguments."""
    name = f"{model}_column_rules"
    node = next(n for n in manifest["nodes"].values() if n["name"] == name)
    kwargs = node["test_metadata"]["kwargs"]
    named = kwargs.get("spec_rules") or []
    rules: dict[str, Any] = {"not_null": [], "accepted_values": {}, "value_between": {}}
    for rule_set in [named] if isinstance(named, str) else named:
        generated = sql.column_rules()[rule_set]
        rules["not_null"] += generated.get("not_null", [])
        rules["accepted_values"] |= generated.get("accepted_values", {})
        rules["value_between"] |= generated.get("value_between", {})
    rules["not_null"] += kwargs.get("not_null", [])
    rules["accepted_values"] |= kwargs.get("accepted_values", {})
    rules["value_between"] |= kwargs.get("value_between", {})
    return rules


def _violations(rules: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(column, rule, SQL value that breaks it) for every rule, both bounds of every range."""
    planted = [(column, "not null", "null") for column in rules.get("not_null", [])]
    for column, values in rules.get("accepted_values", {}).items():
        bad = "'not a listed value'" if isinstance(values[0], str) else "7"
        planted.append((column, "accepted values", bad))
    for column, (low, high) in rules.get("value_between", {}).items():
        planted.append((column, f"between {low} and {high}", str(low - 1)))
        planted.append((column, f"between {low} and {high}", str(high + 1)))
    return planted


def _copy_warehouse(warehouse: Warehouse, tmp: Path) -> DbtProject:
    """The built warehouse copied (a DuckDB file, a PostgreSQL database from it as template)."""
    env = {k: v for k, v in warehouse.project.env.items() if k.startswith("LOANOPS_")}
    env.pop("LOANOPS_DATA_DIR", None)
    if warehouse.target == "duckdb":
        import shutil

        env["LOANOPS_DUCKDB_PATH"] = str(tmp / "planted.duckdb")
        shutil.copy(warehouse.project.env["LOANOPS_DUCKDB_PATH"], env["LOANOPS_DUCKDB_PATH"])
    else:
        import psycopg

        copy = f"{env['LOANOPS_PG_DATABASE']}_planted"
        with psycopg.connect(settings_module.postgres_dsn(env), autocommit=True) as con:
            con.execute(f"create database {copy} template {env['LOANOPS_PG_DATABASE']}")
        env["LOANOPS_PG_DATABASE"] = copy
    return make_project(tmp, env)


def _execute(target: str, env: dict[str, str], statements: list[str]) -> list[tuple]:
    """Run statements in one transaction; return the rows of the last one."""
    if target == "duckdb":
        import duckdb

        with duckdb.connect(env["LOANOPS_DUCKDB_PATH"]) as con:
            for sql in statements:
                con.execute(sql)
            return con.fetchall() if con.description else []
    import psycopg

    with psycopg.connect(settings_module.postgres_dsn(env)) as con:
        rows: list[tuple] = []
        for sql in statements:
            cursor = con.execute(sql)
            rows = cursor.fetchall() if cursor.description else []
        return rows


def test_column_rules_name_every_broken_rule(
    warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Break every rule of the consolidated tests on its own row of a copy of the warehouse:
    each test fails, and its failing rows name exactly the columns and rules that were broken."""
    import json

    manifest = json.loads((warehouse.project.target_path / "manifest.json").read_text())
    copy = _copy_warehouse(warehouse, tmp_path_factory.mktemp(f"planted-{warehouse.target}"))
    expected: dict[str, list[tuple[str, str]]] = {}
    for model, (table, usable) in PLANT_TABLES.items():
        planted = _violations(_rules_of(manifest, model))
        key = "application_id" if model.startswith("gold") else "load_id, source_row"
        rows = _execute(
            warehouse.target,
            copy.env,
            [f"select {key} from {table} where {usable} order by {key}"],
        )
        assert len(rows) >= len(planted), model
        updates = []
        for (column, _rule, bad), row in zip(planted, rows, strict=False):
            where = " and ".join(
                f"{name} = {value}" for name, value in zip(key.split(", "), row, strict=True)
            )
            updates.append(f"update {table} set {column} = {bad} where {where}")
        _execute(warehouse.target, copy.env, updates)
        expected[model] = sorted((column, rule) for column, rule, _bad in planted)

    tests = [f"{model}_column_rules" for model in PLANT_TABLES]
    run = copy.run("test", "--select", *tests, "--store-failures", check=False)
    assert run.returncode != 0
    for model, pairs in expected.items():
        result = next(
            r for r in run.results if r["unique_id"].split(".")[2] == f"{model}_column_rules"
        )
        # dbt counts every (row, rule) violation; the stored failures hold one row per rule
        assert result["status"] == "fail" and result["failures"] == len(pairs), model
        found = _execute(
            warehouse.target,
            copy.env,
            [f"select column_name, rule, failing_rows from dbt_test__audit.{model}_column_rules"],
        )
        expected_rows = sorted({pair: pairs.count(pair) for pair in pairs}.items())
        assert sorted(((str(c), str(r)), int(n)) for c, r, n in found) == expected_rows, model


def test_gold_key_not_null_is_enforced_by_the_contract(warehouse: Warehouse) -> None:
    """gold_application_features.application_id has no not_null test because its contract's
    not_null constraint is enforced: the warehouse itself refuses a null key."""
    import duckdb
    import psycopg

    insert = "insert into gold.gold_application_features (application_id) values (null)"
    if warehouse.target == "duckdb":
        with pytest.raises(duckdb.ConstraintException, match="NOT NULL"):
            _execute(warehouse.target, warehouse.project.env, [insert])
    else:
        with pytest.raises(psycopg.errors.NotNullViolation):
            _execute(warehouse.target, warehouse.project.env, [insert])
