"""The dbt translator's rules, and what they give on the real project's manifest."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.assets import translator
from orchestration.definitions import defs

MODEL = {
    "resource_type": "model",
    "name": "silver_applications",
    "fqn": ["loanops", "silver", "silver_applications"],
    "description": "One row per loan application:\n  cleaned.",
    "tags": ["pii"],
    "config": {"materialized": "table", "meta": {}},
}
SOURCE = {"resource_type": "source", "name": "applications", "fqn": ["loanops", "raw", "raw"]}


def test_keys_and_groups_follow_the_layer():
    assert translator.asset_key_of(MODEL) == dg.AssetKey(["silver", "silver_applications"])
    assert translator.asset_key_of(SOURCE) == dg.AssetKey(["raw", "applications"])
    assert translator.layer_of(SOURCE) == "raw"
    outside = {**MODEL, "fqn": ["loanops", "scratch", "x"]}
    assert translator.layer_of(outside) == translator.OTHER


def test_description_owners_and_tags():
    assert translator.description_of(MODEL) == "One row per loan application: cleaned."
    assert "no description" in translator.description_of({**MODEL, "description": ""})
    assert translator.owners_of(MODEL) == ["team:analytics-engineering"]
    assert translator.owners_of(SOURCE) == ["team:data-engineering"]
    named = {**MODEL, "config": {"meta": {"owner": "ana@example.com"}}}
    assert translator.owners_of(named) == ["ana@example.com"]
    dagster_meta = {**MODEL, "meta": {"dagster": {"owners": ["team:risk"]}}}
    assert translator.owners_of(dagster_meta) == ["team:risk"]
    assert translator.tags_of(MODEL) == {"pii": "", "layer": "silver", "materialized": "table"}


@pytest.fixture(scope="module")
def graph():
    return defs.get_repository_def().asset_graph


def test_every_layer_is_a_group_with_described_owned_assets(graph):
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert {"raw", "bronze", "silver", "gold", "model", "serving", "monitoring"} <= groups
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            assert node.description, key
            assert node.owners, key
    bronze = graph.get(dg.AssetKey(["bronze", "bronze_applications"]))
    assert bronze.tags["materialized"] == "incremental"
    # The whole lineage: raw -> bronze -> ... -> gold -> model -> serving -> monitoring.
    gold = dg.AssetKey(["gold", "gold_application_features"])
    assert dg.AssetKey(["model", "challenger"]) in graph.get(gold).child_keys
    assert dg.AssetKey(["raw", "applications"]) in bronze.parent_keys


def test_dbt_tests_are_checks_and_error_tests_block(graph):
    specs = [graph.get_check_spec(key) for key in graph.asset_check_keys]
    gold_id = [s for s in specs if s.name == "unique_gold_application_features_application_id"]
    assert gold_id and gold_id[0].blocking
    warn_only = [s for s in specs if s.name.startswith("relationships_silver_outcomes")]
    assert warn_only and not warn_only[0].blocking  # severity warn in the YAML
    source_checks = [s for s in specs if s.asset_key == dg.AssetKey(["raw", "applications"])]
    assert {s.name for s in source_checks} >= {"source_not_null_raw_applications__load_id"}
