"""Bearer API keys from LOANOPS_API_KEYS or a mounted secret file, compared in constant time."""

from __future__ import annotations

import hmac
import os
from pathlib import Path

from flask import request

from serving.errors import ApiError


def load_keys(environ: dict[str, str] | None = None) -> list[str]:
    """Keys from LOANOPS_API_KEYS (comma-separated) and LOANOPS_API_KEYS_FILE (one a line)."""
    env = os.environ if environ is None else environ
    keys = [k.strip() for k in env.get("LOANOPS_API_KEYS", "").split(",")]
    path = env.get("LOANOPS_API_KEYS_FILE")
    if path and Path(path).is_file():
        keys += [line.strip() for line in Path(path).read_text().splitlines()]
    return [k for k in keys if k and not k.startswith("#")]


def is_valid(presented: str, keys: list[str]) -> bool:
    """True if the presented key matches one key; every key is compared, in constant time."""
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(presented.encode(), key.encode())
    return matched


def require_key(keys: list[str]) -> None:
    """Raise a 401 unless the request carries `Authorization: Bearer <a configured key>`."""
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise ApiError(401, "unauthorized", "send an API key as 'Authorization: Bearer <key>'")
    if not keys or not is_valid(presented.strip(), keys):
        raise ApiError(401, "unauthorized", "the API key is not valid")
