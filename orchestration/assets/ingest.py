"""Raw applications, outcomes and the load log: the landing location's CSV files, each once.

The location is a folder or a Blob container (LOANOPS_LANDING_URL); a blob is read from the
container into the run itself, so a run (a pod in AKS) needs nothing another run left on disk.
"""

from collections import Counter
from collections.abc import Iterator

import dagster as dg

from loanops import raw_tables
from loanops.ingest import FileResult, LandingEntry, LandingError, open_landing, select_entries
from loanops.ingest.engine import LAYOUT_TABLES
from loanops.ingest.landing import Landing
from loanops.ingest.layout import Layout
from loanops.ingest.loadlog import LOADED, REJECTED
from loanops.ingest.runner import ingest_entry, open_engine
from orchestration.keys import RAW, RAW_APPLICATIONS, RAW_LOAD_LOG, RAW_OUTCOMES
from orchestration.resources import LoanopsResource

OWNERS = ["team:data-engineering"]
KINDS = {"python", "csv"}
TABLE_KEYS = {
    raw_tables.APPLICATIONS_TABLE: RAW_APPLICATIONS,
    raw_tables.OUTCOMES_TABLE: RAW_OUTCOMES,
}


class IngestConfig(dg.Config):
    """Which landing files one run lands."""

    # Names in the landing location (the sensor's one file or blob); empty: every *.csv.
    # Pydantic copies list defaults per instance, so the shared-mutable-default warning does
    # not apply.
    files: list[str] = []  # noqa: RUF012
    retry_rejected: bool = False  # land again a file whose exact content was rejected before


def select_files(landing: Landing, names: list[str]) -> list[LandingEntry]:
    """The landing files to land: the named ones (which must exist), else every *.csv."""
    try:
        return select_entries(landing, names)
    except LandingError as error:
        raise dg.Failure(str(error)) from error


def rows_by_table(results: list[FileResult]) -> Counter[str]:
    """Rows landed in each raw table by this run's loaded files."""
    rows: Counter[str] = Counter()
    for result in results:
        if result.status == LOADED and result.layout:
            for table in LAYOUT_TABLES[Layout(result.layout)]:
                rows[table] += result.rows
    return rows


@dg.multi_asset(
    name="ingest",
    specs=[
        dg.AssetSpec(
            RAW_APPLICATIONS,
            description="One row per landed row of an applications file, every value as text, "
            "plus load metadata (loanops/raw_tables.py is the contract).",
            owners=OWNERS,
            kinds=KINDS,
        ),
        dg.AssetSpec(
            RAW_OUTCOMES,
            description="One row per landed row of an outcomes file (application id, Default).",
            owners=OWNERS,
            kinds=KINDS,
        ),
        dg.AssetSpec(
            RAW_LOAD_LOG,
            description="One row per file load: file, sha256 (and a blob's etag), layout, rows, "
            "time, status.",
            owners=OWNERS,
            kinds=KINDS,
        ),
    ],
    group_name=RAW,
)
def ingest(
    context: dg.AssetExecutionContext, config: IngestConfig, loanops: LoanopsResource
) -> Iterator[dg.MaterializeResult]:
    """Land new landing CSV files into the raw tables (each whole or not at all, each once)."""
    settings = loanops.settings()
    try:
        landing = open_landing(settings)
    except LandingError as error:
        raise dg.Failure(str(error)) from error
    entries = select_files(landing, config.files)
    context.log.info(f"landing location {landing.url}: {len(entries)} file(s) to land")
    engine = open_engine(settings)
    results = []
    try:
        engine.ensure_tables()
        for entry in entries:
            result = ingest_entry(engine, landing, entry, retry_rejected=config.retry_rejected)
            log = context.log.error if result.status == REJECTED else context.log.info
            log(result.message)
            results.append(result)
    finally:
        engine.close()
    rows = rows_by_table(results)
    for table, key in TABLE_KEYS.items():
        yield dg.MaterializeResult(asset_key=key, metadata={"rows_landed": rows[table]})
    statuses = Counter(result.status for result in results)
    yield dg.MaterializeResult(
        asset_key=RAW_LOAD_LOG,
        metadata={
            "files_seen": len(results),
            **{f"files_{status}": count for status, count in sorted(statuses.items())},
            "files": dg.MetadataValue.md("\n".join(f"- {r.message}" for r in results) or "none"),
        },
    )
    rejected = [r for r in results if r.status == REJECTED]
    if rejected:  # the other files did land; fail loudly so the rejection is seen and fixed
        raise dg.Failure(
            f"{len(rejected)} landing file(s) rejected: " + "; ".join(r.message for r in rejected)
        )
