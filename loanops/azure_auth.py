"""Entra access tokens for Azure SQL, handed to pyodbc the way Microsoft documents it.

The `cli` and `workload-identity` sign-in modes get a token from azure-identity and pass it to
the ODBC driver in the `SQL_COPT_SS_ACCESS_TOKEN` connection attribute. The driver's own
`Authentication=ActiveDirectoryMsi` asks the node's metadata service instead, so in an AKS pod it
would sign in as the node, not as the pod's workload identity. Direct pyodbc connects (ingest,
training reads) pass `attrs_before(...)`; SQLAlchemy engines (the warehouse's and the prediction
store's) get it from `sign_in_with_token`, in their `do_connect` event.
"""

from __future__ import annotations

import functools
import re
import struct
import threading
import time
from typing import Any, Protocol

import sqlalchemy as sa

SQL_COPT_SS_ACCESS_TOKEN = 1256  # msodbcsql.h
AZURE_SQL_SCOPE = "https://database.windows.net/.default"
TOKEN_MODES = ("cli", "workload-identity")
# A token is renewed this long before it expires, so no connect presents one that lapses mid-login.
REFRESH_MARGIN_SECONDS = 300


class TokenCredential(Protocol):
    """What azure-identity's credentials offer: `get_token(scope)` -> an AccessToken."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """An object with `.token` (str) and `.expires_on` (epoch seconds)."""


def credential_for(mode: str) -> TokenCredential:
    """The azure-identity credential of a token sign-in mode (`cli` or `workload-identity`)."""
    from azure.identity import AzureCliCredential, WorkloadIdentityCredential

    if mode == "cli":
        return AzureCliCredential()
    if mode == "workload-identity":
        # Reads AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (the AKS webhook's).
        return WorkloadIdentityCredential()
    raise ValueError(f"sign-in mode {mode!r} takes no token; token modes: {', '.join(TOKEN_MODES)}")


def pack_token(token: str) -> bytes:
    """The token as the driver reads it: UTF-16-LE bytes after a 4-byte little-endian length."""
    raw = token.encode("utf-16-le")
    return struct.pack("<I", len(raw)) + raw


class TokenSource:
    """A credential's Azure SQL token, kept until shortly before it expires.

    AzureCliCredential runs `az` on every call and caches nothing, so each connect would cost a
    process start without this.
    """

    def __init__(self, credential: TokenCredential) -> None:
        self.credential = credential
        self._token: Any = None
        self._lock = threading.Lock()

    def token(self) -> str:
        """A token for Azure SQL that is valid for at least REFRESH_MARGIN_SECONDS."""
        with self._lock:
            if self._token is None or self._token.expires_on - REFRESH_MARGIN_SECONDS < time.time():
                self._token = self.credential.get_token(AZURE_SQL_SCOPE)
            return self._token.token

    def attrs_before(self) -> dict[int, bytes]:
        """The `attrs_before` mapping for pyodbc that signs a new connection in with the token."""
        return {SQL_COPT_SS_ACCESS_TOKEN: pack_token(self.token())}


@functools.cache
def _process_source(mode: str) -> TokenSource:
    """One TokenSource per mode and process, so connects share the cached token."""
    return TokenSource(credential_for(mode))


def token_source(mode: str, credential: TokenCredential | None = None) -> TokenSource | None:
    """A TokenSource for a token mode (the given credential, else the mode's own), else None."""
    if mode not in TOKEN_MODES:
        return None
    return TokenSource(credential) if credential is not None else _process_source(mode)


# What the driver refuses beside an access token ("Cannot use Access Token with ...").
_LOGIN_KEYWORDS = re.compile(r"(?:^|;)\s*(uid|pwd|authentication)\s*=", re.IGNORECASE)
_TRUSTED = re.compile(r";?\s*Trusted_Connection\s*=\s*Yes", re.IGNORECASE)


def sign_in_with_token(engine: sa.Engine, source: TokenSource, mode: str, where: str) -> None:
    """Hand each new SQL Server connection of `engine` an Entra token (its `do_connect` event).

    SQLAlchemy adds `Trusted_Connection=Yes` to a URL without a user; it goes, as SQLAlchemy's
    own access-token recipe does, because the driver takes no other login beside a token. A
    user, password or Authentication keyword left in `where` (what the caller configured) is an
    error that names it.
    """

    @sa.event.listens_for(engine, "do_connect")
    def _provide_token(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict) -> None:
        cargs[0] = _TRUSTED.sub("", cargs[0])
        if _LOGIN_KEYWORDS.search(cargs[0]):
            raise ValueError(
                f"LOANOPS_MSSQL_AUTH={mode} signs in with a token: remove the user, password "
                f"and Authentication from {where}"
            )
        cparams["attrs_before"] = {**cparams.get("attrs_before", {}), **source.attrs_before()}
