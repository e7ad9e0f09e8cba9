"""The dbt column rules (YAML) list exactly what the feature definition (spec.py) produces.

dbt's YAML cannot import spec.py, so the category lists, flags and ranges are written out there;
these tests make that copy fail loudly the moment it and the one definition drift apart.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from loanops.features import spec
from loanops.settings import REPO_ROOT

MODELS = REPO_ROOT / "dbt_project" / "models"


def _rules(yml: str, model: str) -> dict[str, Any]:
    """The arguments of `model`'s loanops_column_rules test in one YAML file."""
    document = yaml.safe_load((MODELS / yml).read_text())
    node = next(m for m in document["models"] if m["name"] == model)
    test = next(t for t in node["data_tests"] if "loanops_column_rules" in t)
    return test["loanops_column_rules"]["arguments"]


RULES = {
    "silver_applications": _rules("silver/_silver__models.yml", "silver_applications"),
    "gold_application_features": _rules("gold/_gold__models.yml", "gold_application_features"),
}


@pytest.mark.parametrize("model", sorted(RULES))
@pytest.mark.parametrize("rule", spec.CATEGORIES, ids=lambda r: r.name)
def test_category_values_are_the_specs(model: str, rule: spec.CategoryRule) -> None:
    listed = RULES[model]["accepted_values"][rule.name]
    canonical = set(rule.values.values()) | {spec.UNKNOWN, spec.OTHER}
    assert len(listed) == len(set(listed)), f"{model}.{rule.name} lists a value twice"
    assert set(listed) == canonical, (
        f"{model}.{rule.name}: only in the YAML {sorted(set(listed) - canonical)}, "
        f"only in spec.py {sorted(canonical - set(listed))}"
    )
    assert rule.name in RULES[model]["not_null"]  # every row gets a category, 'unknown' at worst


@pytest.mark.parametrize("model", sorted(RULES))
def test_every_flag_is_checked_as_zero_or_one(model: str) -> None:
    accepted = RULES[model]["accepted_values"]
    for name in spec.FLAG_FEATURES:
        assert accepted.get(name) == [0, 1], f"{model}.{name}"


@pytest.mark.parametrize("rule", spec.NUMBERS, ids=lambda r: r.name)
def test_silver_ranges_are_the_schemas(rule: spec.NumberRule) -> None:
    low, high = RULES["silver_applications"]["value_between"][rule.name]
    assert (float(low), float(high)) == (rule.low, rule.high)


def test_no_rule_names_a_column_the_spec_does_not_make() -> None:
    silver = RULES["silver_applications"]
    made = set(spec.SILVER_COLUMNS) | {"load_id"}
    named = set(silver["not_null"]) | set(silver["accepted_values"]) | set(silver["value_between"])
    assert named <= made, sorted(named - made)
