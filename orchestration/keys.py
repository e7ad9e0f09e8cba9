"""Asset keys and group names shared by the asset, check, job and sensor modules."""

from __future__ import annotations

import dagster as dg

# Medallion layers: the dbt folders under dbt_project/models, and the asset groups in the UI.
RAW, BRONZE, SILVER, GOLD = "raw", "bronze", "silver", "gold"
MODEL, SERVING, MONITORING = "model", "serving", "monitoring"
# dbt folders that are groups (and key prefixes) of their own; monitoring models sit over the log.
LAYERS = (RAW, BRONZE, SILVER, GOLD, MONITORING)

RAW_APPLICATIONS = dg.AssetKey([RAW, "applications"])
RAW_OUTCOMES = dg.AssetKey([RAW, "outcomes"])
RAW_LOAD_LOG = dg.AssetKey([RAW, "load_log"])
GOLD_APPLICATION_FEATURES = dg.AssetKey([GOLD, "gold_application_features"])
GOLD_SCORING_FEATURES = dg.AssetKey([GOLD, "gold_scoring_features"])

CHALLENGER = dg.AssetKey([MODEL, "challenger"])
CHAMPION = dg.AssetKey([MODEL, "champion"])
BATCH_SCORES = dg.AssetKey([MODEL, "batch_scores"])
DEPLOYMENT = dg.AssetKey([SERVING, "deployment"])
# The copy lands as raw.predictions, so a dbt source raw.predictions is this very asset.
PREDICTION_LOG = dg.AssetKey([RAW, "predictions"])
