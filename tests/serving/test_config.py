"""The API's settings: each documented variable, read once; Flask gets only its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from loanops.points import Scale
from serving import config


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment with nothing but a data folder (and no caller's MLflow)."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return {"LOANOPS_DATA_DIR": str(tmp_path)}


def test_defaults(env: dict[str, str], tmp_path: Path) -> None:
    settings = config.load(environ=env)
    assert settings == config.ServiceSettings(
        model_uri="models:/loan-default@champion",
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}",
        prediction_store_url=settings.prediction_store_url,
        api_keys=(),
        max_batch=1000,
        max_body_bytes=8 * 1024 * 1024,
        model_poll_seconds=30.0,
        request_timeout_seconds=30.0,
        migrate=True,
        log_level="INFO",
        access_log=True,
        points=Scale(),
        shadow_model_uri="models:/loan-default@challenger",
    )
    assert settings.prediction_store_url.startswith("sqlite:///")


@pytest.mark.parametrize(
    ("variable", "value", "attribute", "expected"),
    [
        ("LOANOPS_MODEL_URI", "models:/loan-default/3", "model_uri", "models:/loan-default/3"),
        ("MLFLOW_TRACKING_URI", "http://mlflow:5000", "mlflow_tracking_uri", "http://mlflow:5000"),
        ("LOANOPS_MODEL_POLL_SECONDS", "5", "model_poll_seconds", 5.0),
        ("LOANOPS_PREDICTION_STORE_URL", "sqlite:///s", "prediction_store_url", "sqlite:///s"),
        ("LOANOPS_API_KEYS", " a, b ,,", "api_keys", ("a", "b")),
        ("LOANOPS_MAX_BATCH", "250", "max_batch", 250),
        ("LOANOPS_MAX_BODY_BYTES", "2000", "max_body_bytes", 2000),
        ("LOANOPS_REQUEST_TIMEOUT_SECONDS", "2.5", "request_timeout_seconds", 2.5),
        ("LOANOPS_MIGRATE", "false", "migrate", False),
        ("LOANOPS_MIGRATE", "0", "migrate", False),
        ("LOANOPS_MIGRATE", "No", "migrate", False),
        ("LOANOPS_MIGRATE", "true", "migrate", True),
        ("LOANOPS_LOG_LEVEL", "DEBUG", "log_level", "DEBUG"),
        ("LOANOPS_ACCESS_LOG", "false", "access_log", False),
    ],
)
def test_each_variable_reaches_its_setting(
    env: dict[str, str], variable: str, value: str, attribute: str, expected: object
) -> None:
    settings = config.load(environ=env | {variable: value})
    assert getattr(settings, attribute) == expected


def test_api_keys_file_and_list_are_read_together(env: dict[str, str], tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# rotated monthly\nfile-key\n")
    settings = config.load(
        environ=env | {"LOANOPS_API_KEYS": "env-key", "LOANOPS_API_KEYS_FILE": str(keys)}
    )
    assert settings.api_keys == ("env-key", "file-key")


def test_overrides_win_and_none_means_unset(env: dict[str, str]) -> None:
    environ = env | {"LOANOPS_MAX_BATCH": "250", "MLFLOW_TRACKING_URI": "http://from-env"}
    settings = config.load(
        {"MAX_BATCH": 3, "MLFLOW_TRACKING_URI": "http://given", "MAX_CONTENT_LENGTH": 10,
         "API_KEYS": None},
        environ=environ | {"LOANOPS_API_KEYS": "k"},
    )  # fmt: skip
    assert (settings.max_batch, settings.mlflow_tracking_uri) == (3, "http://given")
    assert settings.max_body_bytes == 10
    assert settings.api_keys == ("k",)


def test_an_unknown_override_is_named(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"unknown API settings MAX_BATCHES; use ACCESS_LOG, "):
        config.load({"MAX_BATCHES": 3}, environ=env)


def test_flask_gets_only_its_own_settings_and_no_secret_is_shown(env: dict[str, str]) -> None:
    url = "postgresql+psycopg://api:store-password@db/loanops"  # pragma: allowlist secret
    api_key = "key-1"  # pragma: allowlist secret
    settings = config.load(
        environ=env | {"LOANOPS_PREDICTION_STORE_URL": url, "LOANOPS_API_KEYS": api_key}
    )
    assert settings.flask_config() == {"MAX_CONTENT_LENGTH": 8 * 1024 * 1024}
    assert "store-password" not in repr(settings) and api_key not in repr(settings)
