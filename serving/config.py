"""Service settings: defaults, then LOANOPS_* environment variables, then explicit overrides."""

from __future__ import annotations

import json
import os
import re
from typing import Any

from loanops import settings
from serving.auth import load_keys
from serving.store.engine import configured_url

PREFIX = "LOANOPS_"
# Other parts' credentials (the warehouse login, a service principal's secret): the API never
# reads them, so they stay out of app.config, which error reports and debug tools can show.
_CREDENTIAL = re.compile(r"(PASSWORD|SECRET)$")

DEFAULT_MODEL_URI = "models:/loan-default@champion"


def defaults() -> dict[str, Any]:
    """The settings when no variable is set (embedded defaults)."""
    return {
        "MODEL_URI": DEFAULT_MODEL_URI,
        "MLFLOW_TRACKING_URI": settings.load().mlflow_tracking_uri,
        "PREDICTION_STORE_URL": configured_url(),
        "API_KEYS": load_keys(),
        "MAX_BATCH": 1000,
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
        "MODEL_POLL_SECONDS": 30.0,
        "REQUEST_TIMEOUT_SECONDS": 30.0,
        "MIGRATE": True,
        "LOG_LEVEL": "INFO",
    }


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """LOANOPS_* variables as config keys, except the credentials of other parts.

    The prefix goes and JSON values are parsed, as Flask's `from_prefixed_env` does.
    """
    env = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for name in sorted(env):
        key = name.removeprefix(PREFIX)
        if key == name or _CREDENTIAL.search(key):
            continue
        try:
            out[key] = json.loads(env[name])
        except ValueError:
            out[key] = env[name]
    return out


def normalise(config: dict[str, Any]) -> dict[str, Any]:
    """Turn environment strings into the types the service uses."""
    out = dict(config)
    if "MAX_BODY_BYTES" in out:  # LOANOPS_MAX_BODY_BYTES
        out["MAX_CONTENT_LENGTH"] = int(out.pop("MAX_BODY_BYTES"))
    if isinstance(out.get("API_KEYS"), str):
        out["API_KEYS"] = [k.strip() for k in out["API_KEYS"].split(",") if k.strip()]
    if isinstance(out.get("MIGRATE"), str):
        out["MIGRATE"] = out["MIGRATE"].lower() not in ("0", "false", "no")
    out["MLFLOW_TRACKING_URI"] = os.environ.get("MLFLOW_TRACKING_URI", out["MLFLOW_TRACKING_URI"])
    for key in ("MAX_BATCH", "MAX_CONTENT_LENGTH"):
        out[key] = int(out[key])
    for key in ("MODEL_POLL_SECONDS", "REQUEST_TIMEOUT_SECONDS"):
        out[key] = float(out[key])
    return out
