"""How dbt resources become Dagster assets: keys and groups by layer, dbt docs, owners, tags.

Each rule is a small function of the dbt resource's manifest entry, so it can be tested alone;
the translator only wires them into dagster-dbt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from orchestration.keys import GOLD, LAYERS, RAW

# Who answers for each layer unless the dbt YAML names an owner (meta.owner / meta.dagster.owners).
LAYER_OWNERS = {
    RAW: "team:data-engineering",
    "bronze": "team:analytics-engineering",
    "silver": "team:analytics-engineering",
    GOLD: "team:analytics-engineering",
}
OTHER = "dbt"  # models outside the medallion folders (none today) still get a group


def layer_of(props: Mapping[str, Any]) -> str:
    """The medallion layer of a dbt resource: sources are raw, models their top folder."""
    if props["resource_type"] == "source":
        return RAW
    fqn = props.get("fqn", [])
    folder = fqn[1] if len(fqn) > 2 else ""  # fqn: [project, folder..., name]
    return folder if folder in LAYERS else OTHER


def asset_key_of(props: Mapping[str, Any]) -> dg.AssetKey:
    """raw/<table> for sources (what ingest materialises), <layer>/<model> for models."""
    if props["resource_type"] == "source":
        return dg.AssetKey([RAW, props["name"]])
    return dg.AssetKey([layer_of(props), props["name"]])


def description_of(props: Mapping[str, Any]) -> str:
    """The dbt description (grain first, as the YAML states it); never an empty text."""
    text = " ".join(str(props.get("description") or "").split())
    return text or f"dbt {props['resource_type']} {props['name']} (no description in the YAML)"


def meta_of(props: Mapping[str, Any]) -> Mapping[str, Any]:
    """The resource's meta, wherever this dbt version put it (top level or config)."""
    return {**(props.get("config", {}).get("meta") or {}), **(props.get("meta") or {})}


def owners_of(props: Mapping[str, Any]) -> Sequence[str]:
    """meta.dagster.owners, else meta.owner, else the dbt group's owner, else the layer's team."""
    meta = meta_of(props)
    owners = (meta.get("dagster") or {}).get("owners") or meta.get("owner")
    group_owner = (props.get("group") or {}) if isinstance(props.get("group"), dict) else {}
    owners = owners or (group_owner.get("owner") or {}).get("email")
    if not owners:
        return [LAYER_OWNERS.get(layer_of(props), LAYER_OWNERS[GOLD])]
    return [owners] if isinstance(owners, str) else list(owners)


def tags_of(props: Mapping[str, Any]) -> Mapping[str, str]:
    """The dbt tags as Dagster tags, plus the layer and, for models, the materialisation."""
    tags = {str(tag): "" for tag in props.get("tags", [])}
    tags["layer"] = layer_of(props)
    materialized = props.get("config", {}).get("materialized")
    if props["resource_type"] == "model" and materialized:
        tags["materialized"] = materialized
    return tags


class LoanopsTranslator(DagsterDbtTranslator):
    """dagster-dbt translator built from the helpers above."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        """See asset_key_of."""
        return asset_key_of(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """One group per medallion layer."""
        return layer_of(dbt_resource_props)

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        """See description_of."""
        return description_of(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        """See owners_of."""
        return owners_of(dbt_resource_props)

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        """See tags_of."""
        return tags_of(dbt_resource_props)


# dbt tests become asset checks; error-severity ones are blocking (dagster-dbt does that), so a
# failing test stops downstream assets in the same run. Source tests attach to the raw assets.
TRANSLATOR = LoanopsTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True, enable_source_tests_as_checks=True
    )
)
