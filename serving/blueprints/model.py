"""GET /v1/model: the champion that is serving."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from serving.blueprints.common import authenticate
from serving.errors import ApiError
from serving.state import runtime

bp = Blueprint("model", __name__, url_prefix="/v1")
bp.before_request(authenticate)


@bp.get("/model")
def model_info() -> tuple[dict[str, Any], int]:
    """Name, version, run id, alias, metrics, threshold, decision policy, features, PD bands.

    The policy is the one packaged with the version (`policy.source` says where it came from).
    """
    champion = runtime().loader.current
    if champion is None:
        raise ApiError(503, "not_ready", "the model is not loaded yet; retry shortly")
    return {
        "name": champion.name, "version": champion.version, "run_id": champion.run_id,
        "alias": champion.alias, "uri": champion.uri, "threshold": champion.threshold,
        "metrics": champion.metrics, "features": champion.features,
        "policy": champion.scorer.policy_record, "loaded_at": champion.loaded_at,
        "pd_bands": champion.bands, "points_scale": runtime().settings.points.as_dict(),
    }, 200  # fmt: skip
