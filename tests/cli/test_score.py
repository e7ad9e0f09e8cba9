"""`loanops score FILE`: a CSV of applications decided row by row, every decision recorded."""

from __future__ import annotations

import csv
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from loanops.features import columns
from loanops.points import Scale
from loanops.schema import APPLICATION_COLUMNS
from loanops_cli.main import main
from ml import packaging
from serving.store import PredictionStore, migrate
from tests.serving.conftest import champion  # noqa: F401  (the session's registered champion)
from tests.serving.samples import applications


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _write(path: Path, records: list[dict[str, Any]], extra_lines: tuple[str, ...] = ()) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(APPLICATION_COLUMNS)
        for record in records:
            writer.writerow([_cell(record.get(name)) for name in APPLICATION_COLUMNS])
        for line in extra_lines:
            handle.write(line + "\r\n")


@pytest.fixture
def scoring_env(champion, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:  # noqa: F811
    store = f"sqlite:///{data_dir / 'store.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", champion["tracking_uri"])
    monkeypatch.setenv("LOANOPS_PREDICTION_STORE_URL", store)
    return {"store": store, "version": champion["version"]}


def test_a_file_is_decided_row_by_row_and_every_decision_is_recorded(scoring_env, tmp_path):
    records = applications(200, seed=31)
    records[7]["Age_Days"] = "-5"  # outside the published range: an error row, not a failure
    source, out = tmp_path / "morning.csv", tmp_path / "decided.csv"
    _write(source, records, extra_lines=("12345,1,2",))  # a line with too few fields
    result = CliRunner().invoke(
        main, ["score", str(source), "--out", str(out), "--chunk-rows", "64"]
    )
    assert result.exit_code == 0, result.output
    assert "199 applications scored" in result.output
    assert "2 rows not scored" in result.output

    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 201
    errors = [r for r in rows if r["error"]]
    assert [r["ID"] for r in errors] == [str(records[7]["ID"]), ""]
    assert "Age_Days" in errors[0]["error"] and "fields" in errors[1]["error"]
    decided = [r for r in rows if not r["error"]]
    assert {r["decision"] for r in decided} <= {"approve", "refer", "decline"}

    # The same PDs as the champion's scoring contract gives the same rows (values as text).
    sent = [{k: (None if v in (None, "") else str(v)) for k, v in r.items()} for r in records]
    valid = sent[:7] + sent[8:]
    raw = columns.from_records(valid, APPLICATION_COLUMNS)
    scorer = packaging.load(f"models:/loan-default/{scoring_env['version']}")
    expected = scorer.predict_columns(columns.gold_from_raw(raw, len(valid)))
    got = [float(r["probability_of_default"]) for r in decided]
    assert max(abs(a - b) for a, b in zip(got, expected.probability, strict=True)) <= 1e-12
    assert [r["decision"] for r in decided] == expected.decision
    assert [int(r["points"]) for r in decided] == Scale().points(got).tolist()

    store = PredictionStore(scoring_env["store"])
    try:
        assert store.count() == 199
        with store.engine.connect() as conn:
            batches = conn.exec_driver_sql("select distinct batch_id from predictions").all()
        assert len(batches) == 1 and batches[0][0]
        assert batches[0][0] in result.output
        stored = store.get(uuid.UUID(decided[0]["prediction_id"]))
        assert stored is not None and stored["decision"] == decided[0]["decision"]
        assert stored["points"] == int(decided[0]["points"])
    finally:
        store.dispose()


def test_an_outcomes_file_and_a_misspelt_header_are_refused(scoring_env, tmp_path):
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("ID,Default\n1,0\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["score", str(outcomes)])
    assert result.exit_code == 1
    assert "holds outcomes" in result.output
    misspelt = tmp_path / "misspelt.csv"
    header = ",".join(APPLICATION_COLUMNS).replace("Client_Income", "Client_Incme")
    misspelt.write_text(header + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["score", str(misspelt)])
    assert result.exit_code == 1
    assert "Client_Incme" in result.output


def test_the_store_migration_adds_the_batch_id_and_its_index(scoring_env):
    migrate.upgrade(scoring_env["store"])
    engine = sa.create_engine(scoring_env["store"])
    try:
        with engine.connect() as conn:
            names = {c["name"] for c in sa.inspect(conn).get_columns("predictions")}
            indexes = {i["name"] for i in sa.inspect(conn).get_indexes("predictions")}
    finally:
        engine.dispose()
    assert "batch_id" in names and "ix_predictions_batch_id" in indexes
