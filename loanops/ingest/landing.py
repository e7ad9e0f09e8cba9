"""Where lenders' files land: a local folder or an Azure Blob / ADLS Gen2 container.

    landing = open_landing(settings)          # LOANOPS_LANDING_URL, else LOANOPS_LANDING_DIR
    for entry in landing.entries():           # *.csv directly in the folder / under the prefix
        with landing.fetch(entry) as fetched:  # a local file with exactly those bytes
            ...

A blob is read into a temporary file that is deleted when the `with` block ends, so nothing
one run reads is left on local disk for another.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from loanops.ingest.layout import landing_files
from loanops.ingest.loadlog import file_checksum
from loanops.settings import BLOB_LANDING_SCHEMES, Settings

_DOWNLOAD_CONCURRENCY = 4  # parallel range requests per blob, pinned to one etag by the SDK


class LandingError(Exception):
    """The landing location cannot be read; the message says what to fix."""


@dataclass(frozen=True)
class LandingEntry:
    """One landed file as the location lists it."""

    name: str  # relative to the location: what the load log and `_source_file` record
    size: int
    etag: str | None = None  # a blob's etag; a local file has none (its sha256 identifies it)


@dataclass(frozen=True)
class FetchedFile:
    """A landed file's bytes as a local file, valid inside the fetch's `with` block."""

    path: Path
    name: str
    etag: str | None


class LocalLanding:
    """A folder on this machine (the embedded default)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.url = str(folder)

    def exists(self) -> bool:
        """Whether the folder is there (a fresh data folder has none yet)."""
        return self.folder.is_dir()

    def entries(self) -> list[LandingEntry]:
        """The *.csv files directly in the folder, in name order (none if it does not exist)."""
        if not self.exists():
            return []
        return [LandingEntry(p.name, p.stat().st_size) for p in landing_files(self.folder)]

    def fingerprint(self, entry: LandingEntry, known: list[Any] | None) -> list[Any]:
        """[size, mtime_ns, sha256]; the hash is reused while size and mtime hold."""
        stat = (self.folder / entry.name).stat()
        if known and known[:2] == [stat.st_size, stat.st_mtime_ns] and len(known) == 3:
            return known
        return [stat.st_size, stat.st_mtime_ns, file_checksum(self.folder / entry.name)]

    @contextmanager
    def fetch(self, entry: LandingEntry) -> Iterator[FetchedFile]:
        """The file itself: a local file needs no copy."""
        yield FetchedFile(self.folder / entry.name, entry.name, None)


@dataclass
class BlobLanding:
    """A Blob storage (or ADLS Gen2) container, optionally under a prefix ("folder")."""

    url: str
    container: str
    prefix: str  # "" or ending in "/"
    connection_string: str | None = None
    account_url: str | None = None
    _client: Any = field(default=None, init=False, repr=False)  # made on first use

    def client(self) -> Any:
        """The container's client: from the connection string, else Entra ID (workload identity)."""
        if self._client is None:
            from azure.storage.blob import ContainerClient

            if self.connection_string:
                self._client = ContainerClient.from_connection_string(
                    self.connection_string, self.container
                )
            else:
                from azure.identity import DefaultAzureCredential

                self._client = ContainerClient(
                    self.account_url, self.container, credential=DefaultAzureCredential()
                )
        return self._client

    def entries(self) -> list[LandingEntry]:
        """The *.csv blobs directly under the prefix (no deeper "folders"), in name order."""
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        found = []
        try:
            for blob in self.client().list_blobs(name_starts_with=self.prefix or None):
                name = blob.name[len(self.prefix) :]
                if "/" in name or not name.lower().endswith(".csv"):
                    continue
                found.append(LandingEntry(name, int(blob.size), _plain_etag(blob.etag)))
        except ResourceNotFoundError as error:
            raise LandingError(
                f"container {self.container!r} does not exist ({self.url}); create it or fix "
                "LOANOPS_LANDING_URL"
            ) from error
        except AzureError as error:
            raise LandingError(f"cannot list {self.url}: {_first_line(error)}") from error
        return sorted(found, key=lambda entry: entry.name)

    def fingerprint(self, entry: LandingEntry, known: list[Any] | None) -> list[Any]:
        """[size, etag]: a new upload, even of the same bytes, has a new etag."""
        return [entry.size, entry.etag]

    @contextmanager
    def fetch(self, entry: LandingEntry) -> Iterator[FetchedFile]:
        """Download the blob into a temporary file, deleted when the block ends.

        The SDK pins every range request of one download to the first response's etag, so the
        file holds one version's bytes exactly, and the etag returned is that version's.
        """
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        folder = Path(tempfile.mkdtemp(prefix="loanops-landing-"))
        try:
            path = folder / entry.name
            try:
                download = self.client().download_blob(
                    self.prefix + entry.name, max_concurrency=_DOWNLOAD_CONCURRENCY
                )
                with path.open("wb") as handle:
                    download.readinto(handle)
            except ResourceNotFoundError as error:
                raise LandingError(
                    f"{entry.name} is no longer in {self.url} (deleted after it was listed)"
                ) from error
            except AzureError as error:
                raise LandingError(
                    f"cannot read {entry.name} from {self.url}: {_first_line(error)}"
                ) from error
            yield FetchedFile(path, entry.name, _plain_etag(download.properties.etag))
        finally:
            shutil.rmtree(folder, ignore_errors=True)


Landing = LocalLanding | BlobLanding


def _plain_etag(etag: str | None) -> str | None:
    """The etag without the quotes that HTTP headers carry and listings do not."""
    return etag.strip('"') if etag else None


def _first_line(error: BaseException) -> str:
    """An SDK error's first line (the rest is request ids and headers)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def blob_landing(url: str, environ: Mapping[str, str] | None = None) -> BlobLanding:
    """A BlobLanding from `abfs://CONTAINER[/prefix]` (also `az://`, `abfss://`).

    `abfs://CONTAINER@ACCOUNT.dfs.core.windows.net/prefix` names the account too. Credentials:
    AZURE_STORAGE_CONNECTION_STRING when set (Azurite, or a key), else Entra ID through
    DefaultAzureCredential (workload identity on AKS) on the account the URL or
    AZURE_STORAGE_ACCOUNT_NAME names.
    """
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    if parts.scheme not in BLOB_LANDING_SCHEMES:
        raise LandingError(f"{url} is not a Blob URL ({', '.join(BLOB_LANDING_SCHEMES)})")
    container, _, host = parts.netloc.partition("@")
    if not container:
        raise LandingError(f"{url} names no container: use {parts.scheme}://CONTAINER[/prefix]")
    prefix = parts.path.strip("/")
    prefix = f"{prefix}/" if prefix else ""
    connection_string = env.get("AZURE_STORAGE_CONNECTION_STRING") or None
    account_url = None
    if not connection_string:
        if host:
            account_url = f"https://{host.replace('.dfs.', '.blob.', 1)}"
            if "." not in host:  # the account name alone
                account_url = f"https://{host}.blob.core.windows.net"
        elif env.get("AZURE_STORAGE_ACCOUNT_NAME"):
            account_url = f"https://{env['AZURE_STORAGE_ACCOUNT_NAME']}.blob.core.windows.net"
        else:
            raise LandingError(
                f"no storage account for {url}: set AZURE_STORAGE_CONNECTION_STRING, or "
                "AZURE_STORAGE_ACCOUNT_NAME (signing in with Entra ID), or use "
                f"{parts.scheme}://CONTAINER@ACCOUNT.dfs.core.windows.net/..."
            )
    return BlobLanding(url, container, prefix, connection_string, account_url)


def parse_landing(location: str, environ: Mapping[str, str] | None = None) -> Landing:
    """A landing location from a Blob URL, a `file://` URL or a folder path."""
    scheme = urlsplit(location).scheme
    if scheme in BLOB_LANDING_SCHEMES:
        return blob_landing(location, environ)
    if scheme == "file":
        return LocalLanding(Path(urlsplit(location).path))
    if "://" in location:
        raise LandingError(
            f"{location}: unknown landing scheme {scheme!r}; use a folder, file://, "
            + ", ".join(f"{s}://" for s in BLOB_LANDING_SCHEMES)
        )
    return LocalLanding(Path(location))


def open_landing(settings: Settings, environ: Mapping[str, str] | None = None) -> Landing:
    """The configured landing location: LOANOPS_LANDING_URL if set, else the landing folder."""
    if settings.landing_url:
        return parse_landing(settings.landing_url, environ)
    return LocalLanding(settings.landing_dir)
