"""Ingest: landed CSV files (a folder or a Blob container) into raw tables (the role ADF had).

    from loanops.ingest import ingest_landing
    results = ingest_landing(settings.load())   # LOANOPS_LANDING_URL, else the landing folder

See docs/ingest.md for layouts, the load log and rejection reasons.
"""

from loanops.ingest.landing import (
    BlobLanding,
    Landing,
    LandingEntry,
    LandingError,
    LocalLanding,
    open_landing,
    parse_landing,
)
from loanops.ingest.layout import (
    Layout,
    RejectedFileError,
    detect_layout,
    inspect_file,
    landing_files,
)
from loanops.ingest.runner import (
    FileResult,
    ingest_entry,
    ingest_file,
    ingest_folder,
    ingest_landing,
    open_engine,
    select_entries,
)

__all__ = [
    "BlobLanding",
    "FileResult",
    "Landing",
    "LandingEntry",
    "LandingError",
    "Layout",
    "LocalLanding",
    "RejectedFileError",
    "detect_layout",
    "ingest_entry",
    "ingest_file",
    "ingest_folder",
    "ingest_landing",
    "inspect_file",
    "landing_files",
    "open_engine",
    "open_landing",
    "parse_landing",
    "select_entries",
]
