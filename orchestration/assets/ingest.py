"""Raw applications, outcomes and the load log: the landing folder's CSV files, each landed once."""

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from loanops import raw_tables
from loanops.ingest import FileResult
from loanops.ingest.engine import LAYOUT_TABLES
from loanops.ingest.layout import Layout, landing_files
from loanops.ingest.loadlog import LOADED, REJECTED
from loanops.ingest.runner import ingest_file, open_engine
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

    # Names in the landing folder (the sensor's one file); empty: every *.csv. Pydantic copies
    # list defaults per instance, so the shared-mutable-default warning does not apply.
    files: list[str] = []  # noqa: RUF012
    retry_rejected: bool = False  # land again a file whose exact content was rejected before


def select_files(folder: Path, names: list[str]) -> list[Path]:
    """The landing files to land: the named ones (which must exist), else every *.csv."""
    if not names:
        return landing_files(folder)
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise dg.Failure(f"not in the landing folder {folder}: {', '.join(missing)}")
    return [folder / name for name in names]


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
            description="One row per file load: file, sha256, layout, rows, time, status.",
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
    folder = settings.landing_dir
    folder.mkdir(parents=True, exist_ok=True)  # a fresh data folder has nothing to land yet
    paths = select_files(folder, config.files)
    engine = open_engine(settings)
    results = []
    try:
        engine.ensure_tables()
        for path in paths:
            result = ingest_file(engine, path, retry_rejected=config.retry_rejected)
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
