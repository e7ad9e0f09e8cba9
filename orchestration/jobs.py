"""Jobs: ingest through gold (daily and per landed file), retraining (weekly and on alerts)."""

from __future__ import annotations

import dagster as dg

from orchestration.keys import (
    BATCH_SCORES,
    BRONZE,
    CHALLENGER,
    CHAMPION,
    DEPLOYMENT,
    GOLD,
    MONITORING,
    RAW,
    SILVER,
)

# Land files, copy the prediction log, build bronze -> silver -> gold (and the monitoring models
# once they exist); every check of those assets runs too.
ingest_to_gold = dg.define_asset_job(
    "ingest_to_gold",
    selection=dg.AssetSelection.groups(RAW, BRONZE, SILVER, GOLD, MONITORING),
    description="Land new landing files and build bronze, silver and gold with every dbt test.",
)

# Train on the current gold, gate, score the book and roll the API onto the new champion.
training = dg.define_asset_job(
    "training",
    selection=dg.AssetSelection.assets(CHALLENGER, CHAMPION, BATCH_SCORES, DEPLOYMENT),
    description="Train candidates, run the promotion gate, write batch scores, deploy.",
)

ALL = [ingest_to_gold, training]
