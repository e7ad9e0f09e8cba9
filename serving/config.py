"""The API's settings, read once from the environment into one typed object.

Each setting `KEY` comes from the factory's overrides (`create_app({"KEY": ...})`), else from
`LOANOPS_KEY` (JSON values are parsed, as Flask's `from_prefixed_env` does), else its default.
Only what Flask itself uses goes into `app.config`: it is what error reports and debug tools
show, so the store URL (which may carry a password) and the API keys stay out of it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from loanops import settings
from loanops.points import Scale
from serving.auth import load_keys
from serving.store.engine import configured_url

PREFIX = "LOANOPS_"
DEFAULT_MODEL_URI = "models:/loan-default@champion"
# The challenger shadows the champion on every decided batch; "" turns shadow scoring off.
DEFAULT_SHADOW_MODEL_URI = "models:/loan-default@challenger"
# The factory's override keys; each but MLFLOW_TRACKING_URI is also LOANOPS_<key>.
# MAX_CONTENT_LENGTH is Flask's name for LOANOPS_MAX_BODY_BYTES.
OVERRIDE_KEYS = frozenset({
    "MODEL_URI", "MLFLOW_TRACKING_URI", "PREDICTION_STORE_URL", "API_KEYS", "MAX_BATCH",
    "MAX_BODY_BYTES", "MAX_CONTENT_LENGTH", "MODEL_POLL_SECONDS", "REQUEST_TIMEOUT_SECONDS",
    "MIGRATE", "LOG_LEVEL", "ACCESS_LOG", "SHADOW_MODEL_URI",
})  # fmt: skip


@dataclass(frozen=True)
class ServiceSettings:
    """The resolved settings of one API process."""

    model_uri: str
    mlflow_tracking_uri: str
    prediction_store_url: str = field(repr=False)  # may carry a password
    api_keys: tuple[str, ...] = field(repr=False)
    max_batch: int
    max_body_bytes: int
    model_poll_seconds: float
    request_timeout_seconds: float
    migrate: bool
    log_level: str
    access_log: bool
    points: Scale  # PD as points, the same scale as training's band table
    shadow_model_uri: str  # the model that shadows the champion ("" for none)

    def flask_config(self) -> dict[str, Any]:
        """What Flask itself reads from `app.config`."""
        return {"MAX_CONTENT_LENGTH": self.max_body_bytes}


def _parsed(text: str) -> Any:
    """An environment value as JSON if it is JSON, else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _flag(value: Any) -> bool:
    """`0`, `false` and `no` (any case) turn a setting off; anything else leaves it on."""
    if isinstance(value, str):
        return value.lower() not in ("0", "false", "no")
    return bool(value)


def _keys(value: Any) -> tuple[str, ...]:
    """API keys given as a list or as comma-separated text."""
    items = value.split(",") if isinstance(value, str) else value
    return tuple(key.strip() for key in items if key.strip())


def load(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> ServiceSettings:
    """Read the settings once: overrides (None means unset), then LOANOPS_*, then defaults."""
    env = dict(os.environ if environ is None else environ)  # one snapshot for every setting
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    unknown = sorted(set(given) - OVERRIDE_KEYS)
    if unknown:
        raise ValueError(
            f"unknown API settings {', '.join(unknown)}; use {', '.join(sorted(OVERRIDE_KEYS))}"
        )

    def pick(key: str, default: Any) -> Any:
        if key in given:
            return given[key]
        name = PREFIX + key
        return _parsed(env[name]) if name in env else default

    base = settings.load(env)  # also stops the process on a wrong LOANOPS_TARGET
    body = given.get("MAX_CONTENT_LENGTH", pick("MAX_BODY_BYTES", 8 * 1024 * 1024))
    return ServiceSettings(
        model_uri=str(pick("MODEL_URI", DEFAULT_MODEL_URI)),
        mlflow_tracking_uri=str(
            given.get("MLFLOW_TRACKING_URI")
            or env.get("MLFLOW_TRACKING_URI")
            or base.mlflow_tracking_uri
        ),
        prediction_store_url=str(given.get("PREDICTION_STORE_URL") or configured_url(env)),
        api_keys=_keys(given["API_KEYS"]) if "API_KEYS" in given else tuple(load_keys(env)),
        max_batch=int(pick("MAX_BATCH", 1000)),
        max_body_bytes=int(body),
        model_poll_seconds=float(pick("MODEL_POLL_SECONDS", 30.0)),
        request_timeout_seconds=float(pick("REQUEST_TIMEOUT_SECONDS", 30.0)),
        migrate=_flag(pick("MIGRATE", True)),
        log_level=str(pick("LOG_LEVEL", "INFO")),
        access_log=_flag(pick("ACCESS_LOG", True)),
        points=base.points,
        shadow_model_uri=str(pick("SHADOW_MODEL_URI", DEFAULT_SHADOW_MODEL_URI)),
    )
