"""Schedules: ingest through gold every morning, retraining every Monday (times in UTC)."""

from __future__ import annotations

import dagster as dg

from orchestration import jobs

daily_ingest = dg.ScheduleDefinition(
    name="daily_ingest_to_gold",
    job=jobs.ingest_to_gold,
    cron_schedule="0 5 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="05:00 UTC: land whatever arrived, then build bronze, silver and gold.",
)

# After Monday's ingest has finished, so the week's outcomes are in gold.
weekly_retraining = dg.ScheduleDefinition(
    name="weekly_retraining",
    job=jobs.training,
    cron_schedule="0 7 * * 1",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Monday 07:00 UTC: train, gate, score and deploy.",
)

ALL = [daily_ingest, weekly_retraining]
