"""The monitoring models count approve, refer and decline, including an older copy of the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from loanops import settings as settings_module
from loanops import warehouse
from orchestration import tables
from orchestration.assets import prediction_log
from tests.monitoring.store_rows import OLD, decisions, record
from tests.monitoring.test_shared_store import project_env, run_monitoring

__all__ = ["project_env"]  # the fixture, shared with the shared-store tests


@pytest.mark.timeout(900)
def test_daily_counts_of_the_three_decisions(project_env, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LOANOPS_TARGET", "duckdb")
    settings = settings_module.load()
    # A copy made before decisions existed: two rows decided by their class alone.
    older = pd.DataFrame(
        [row | {"prediction_id": str(row["prediction_id"]), "input_raw_data": "{}",
                "processed_data": "{}", "reason_codes": "[]",
                "prediction_timestamp": row["prediction_timestamp"].replace(tzinfo=None)}
         for row in decisions("run-a", [OLD, OLD + timedelta(minutes=1)], 1)]
    )  # fmt: skip
    older["predicted_class"] = [0, 1]
    old_columns = {
        k: v for k, v in prediction_log.COLUMNS.items() if k not in prediction_log.ADDED_COLUMNS
    }
    tables.write(settings, prediction_log.COPY_RELATION, older, old_columns, replace=True)
    now = datetime.now(UTC).replace(microsecond=0)
    rows = decisions("run-a", [now - timedelta(seconds=s) for s in range(5)], 11)
    kinds = ["approve", "refer", "refer", "decline", "approve"]
    for row, kind in zip(rows, kinds, strict=True):
        row["decision"] = kind
        row["referral_reasons"] = [{"rule": "grey_zone", "message": "m"}] if kind == "refer" else []
        row["decision_policy"] = {"version": "abc", "threshold": 0.3}
    record(f"sqlite:///{project_env / 'data' / 'predictions.db'}", rows)

    result, _ = run_monitoring()

    assert result.success
    counted = warehouse.read_frame(
        settings, "select prediction_date, predictions, approved, referred, declined, "
        "approval_rate, referral_rate from monitoring.monitoring_daily_predictions "
        "order by prediction_date"
    )  # fmt: skip
    first, last = counted.to_dict("records")
    assert (first["predictions"], first["approved"], first["referred"], first["declined"]) == (
        2,
        1,
        0,
        1,
    )
    assert (last["predictions"], last["approved"], last["referred"], last["declined"]) == (
        5,
        2,
        2,
        1,
    )
    assert last["referral_rate"] == pytest.approx(0.4) and last["approval_rate"] == 0.4
    copied = warehouse.read_frame(
        settings, "select decision, referral_reasons, decision_policy from raw.predictions "
        "where decision = 'refer'"
    )  # fmt: skip
    assert len(copied) == 2 and '"grey_zone"' in copied["referral_reasons"].iloc[0]
    assert '"version": "abc"' in copied["decision_policy"].iloc[0]
