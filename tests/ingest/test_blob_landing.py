"""Landing from a Blob container (real Azurite): each blob version once, whole or not at all."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient
from click.testing import CliRunner

from loanops import settings as settings_module
from loanops.generator import write_book as generate_book
from loanops.ingest import (
    BlobLanding,
    LandingError,
    ingest_entry,
    ingest_landing,
    open_engine,
    open_landing,
    parse_landing,
)
from loanops.ingest.landing import blob_landing
from loanops.schema import OUTCOME_COLUMNS, PUBLISHED_COLUMNS
from loanops_cli.main import main
from tests.azurite_server import AzuriteServer
from tests.ingest.conftest import application_row, csv_text

PREFIX = "lender-a"
_containers = itertools.count(1)


@pytest.fixture
def container(
    azurite: AzuriteServer, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> Iterator[ContainerClient]:
    """A fresh container on Azurite, named by LOANOPS_LANDING_URL (under a prefix)."""
    name = f"landing-{next(_containers)}"
    client = azurite.service().create_container(name)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    monkeypatch.setenv("LOANOPS_LANDING_URL", f"abfs://{name}/{PREFIX}")
    yield client
    client.delete_container()


@pytest.fixture
def downloads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder blob downloads go to, to prove nothing is left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def upload(container: ContainerClient, name: str, data: bytes) -> str:
    """Upload (or overwrite) a blob under the landing prefix; its etag, as listings give it."""
    container.upload_blob(f"{PREFIX}/{name}", data, overwrite=True)
    return container.get_blob_client(f"{PREFIX}/{name}").get_blob_properties().etag.strip('"')


def upload_book(container: ContainerClient, tmp_path: Path, rows: int, seed: int) -> list[str]:
    """Generate a book (applications + outcomes files) and upload its files; their names."""
    book = generate_book(tmp_path / f"book-{seed}", rows, seed, name=f"b{seed}")
    for path in book.files:
        upload(container, path.name, path.read_bytes())
    return [path.name for path in book.files]


def test_a_generated_book_lands_from_the_container(
    container, target, settings, query, tmp_path, downloads
):
    names = upload_book(container, tmp_path, 120, seed=7)
    container.upload_blob(f"{PREFIX}/truth/hidden.csv", b"ID,Default\n1,0\n")  # deeper: ignored
    container.upload_blob(f"{PREFIX}/readme.txt", b"not data")
    container.upload_blob("elsewhere.csv", b"ID,Default\n1,0\n")  # outside the prefix

    results = ingest_landing(settings)

    assert sorted((r.file_name, r.status, r.rows) for r in results) == sorted(
        (name, "loaded", 120) for name in names
    )
    per_file = query(
        "select _source_file, count(*) as n from raw.applications group by 1"
    ).values.tolist()
    assert per_file == [[next(n for n in names if n.startswith("applications")), 120]]
    assert query("select count(*) as n from raw.outcomes")["n"][0] == 120
    log = query("select file_name, etag, status from raw.load_log order by load_id")
    etags = {
        blob.name.removeprefix(f"{PREFIX}/"): blob.etag
        for blob in container.list_blobs(name_starts_with=f"{PREFIX}/")
    }
    assert log.values.tolist() == [[name, etags[name], "loaded"] for name in sorted(names)]
    assert list(downloads.iterdir()) == []  # every download was deleted with its run


def test_identical_re_upload_is_a_no_op_and_new_content_loads(container, target, settings, query):
    good = csv_text(OUTCOME_COLUMNS, [{"ID": str(n), "Default": str(n % 2)} for n in range(1, 6)])
    first_etag = upload(container, "outcomes.csv", good.encode())
    [first] = ingest_landing(settings)
    [again] = ingest_landing(settings)  # same version: skipped without reading it
    second_etag = upload(container, "outcomes.csv", good.encode())  # same bytes, new etag
    [reuploaded] = ingest_landing(settings)

    assert first.status == "loaded" and first_etag != second_etag
    assert (again.status, reuploaded.status) == ("skipped", "skipped")
    assert "already loaded (load 1, as outcomes.csv)" in reuploaded.reason
    assert query("select count(*) as n from raw.outcomes")["n"][0] == 5
    assert query("select count(*) as n from raw.load_log")["n"][0] == 1

    # New content under the same name is a new file: it lands as a load of its own.
    changed = good + "6,1\n"
    upload(container, "outcomes.csv", changed.encode())
    [newer] = ingest_landing(settings)
    assert (newer.status, newer.rows, newer.load_id) == ("loaded", 6, 2)
    assert query("select count(*) as n from raw.outcomes")["n"][0] == 11


def test_a_malformed_blob_is_rejected_whole_with_its_reason(
    container, target, settings, query, downloads
):
    rows = [dict(application_row(n), Default="0") for n in range(1, 200)]
    lines = csv_text(PUBLISHED_COLUMNS, rows).splitlines(keepends=True)
    lines[180] = lines[180].replace(",", ",,", 1)  # one field too many on line 181
    bad_etag = upload(container, "b_bad.csv", "".join(lines).encode())
    upload(container, "a_good.csv", csv_text(PUBLISHED_COLUMNS, rows[:20]).encode())

    good, bad = ingest_landing(settings)

    assert (good.status, good.rows) == ("loaded", 20)
    assert (bad.status, bad.reason) == ("rejected", "line 181 has 41 fields, expected 40")
    counts = query(
        "select (select count(*) from raw.applications) as a, "
        "(select count(*) from raw.outcomes) as o"
    ).iloc[0]
    assert (int(counts["a"]), int(counts["o"])) == (20, 20)  # nothing of the bad blob
    log = query("select * from raw.load_log order by load_id")
    assert list(log["status"]) == ["loaded", "rejected"]
    assert log["etag"][1] == bad_etag
    assert log["message"][1] == "b_bad.csv: line 181 has 41 fields, expected 40"
    [skipped] = [r for r in ingest_landing(settings) if r.file_name == "b_bad.csv"]
    assert "rejected before" in skipped.reason
    assert list(downloads.iterdir()) == []


def test_cli_reads_the_container_and_names_a_missing_one(container, settings):
    upload(container, "outcomes.csv", b"ID,Default\n1,0\n2,1\n")
    runner = CliRunner()

    result = runner.invoke(main, ["ingest"])  # the location: LOANOPS_LANDING_URL
    missing = runner.invoke(main, ["ingest", "az://no-such-container"])

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["outcomes.csv: loaded 2 rows (outcomes, load 1)"]
    assert missing.exit_code == 2
    assert "container 'no-such-container' does not exist" in missing.output


def test_landing_urls_and_their_errors():
    env = {"AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true"}
    landing = parse_landing("abfs://landing/lender-a/2026/", env)
    assert isinstance(landing, BlobLanding)
    assert (landing.container, landing.prefix) == ("landing", "lender-a/2026/")
    assert parse_landing("az://landing", env).prefix == ""
    assert parse_landing("file:///srv/landing", env).folder == Path("/srv/landing")

    # Without a connection string, Entra ID signs in to the account the URL or env names.
    adls = blob_landing("abfss://landing@lender.dfs.core.windows.net/in", {})
    assert (adls.account_url, adls.connection_string) == (
        "https://lender.blob.core.windows.net",
        None,
    )
    named = blob_landing("abfs://landing", {"AZURE_STORAGE_ACCOUNT_NAME": "lender"})
    assert named.account_url == "https://lender.blob.core.windows.net"
    with pytest.raises(LandingError, match="AZURE_STORAGE_ACCOUNT_NAME"):
        blob_landing("abfs://landing", {})
    with pytest.raises(LandingError, match="unknown landing scheme 's3'"):
        parse_landing("s3://bucket/in", env)
    with pytest.raises(ValueError, match="LOANOPS_LANDING_URL"):
        settings_module.load({"LOANOPS_LANDING_URL": "https://example.invalid/landing"})


def test_a_logged_blob_version_is_skipped_without_reading_it(container, target, settings):
    upload(container, "outcomes.csv", b"ID,Default\n1,0\n2,1\n")
    landing = open_landing(settings)
    [entry] = landing.entries()
    assert ingest_landing(settings, landing)[0].status == "loaded"
    container.delete_blob(f"{PREFIX}/outcomes.csv")  # reading it now would fail

    engine = open_engine(settings)
    try:
        logged = ingest_entry(engine, landing, entry)
        with pytest.raises(LandingError, match="no longer in"):
            ingest_entry(engine, landing, replace(entry, etag="0x0"))  # an unlogged version
    finally:
        engine.close()

    assert (logged.status, logged.load_id) == ("skipped", 1)
