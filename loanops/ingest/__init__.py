"""Ingest: landing-folder CSV files into the warehouse's raw tables (the role ADF had).

    from loanops.ingest import ingest_folder
    results = ingest_folder(settings.load())

See docs/ingest.md for layouts, the load log and rejection reasons.
"""

from loanops.ingest.layout import (
    Layout,
    RejectedFileError,
    detect_layout,
    inspect_file,
    landing_files,
)
from loanops.ingest.runner import FileResult, ingest_file, ingest_folder, open_engine

__all__ = [
    "FileResult",
    "Layout",
    "RejectedFileError",
    "detect_layout",
    "ingest_file",
    "ingest_folder",
    "inspect_file",
    "landing_files",
    "open_engine",
]
