"""The raw layer's layout: what ingest lands and what dbt declares as sources.

Every published value lands as text (nothing is lost before dbt decides); each row carries
load metadata. Ingest and the dbt sources both read this module's names.
"""

from __future__ import annotations

from loanops.schema import APPLICATION_COLUMNS, BY_NAME, OUTCOME_COLUMNS

RAW_SCHEMA = "raw"
APPLICATIONS_TABLE = "applications"
OUTCOMES_TABLE = "outcomes"
LOAD_LOG_TABLE = "load_log"

# Load metadata columns appended to every raw row.
SOURCE_FILE = "_source_file"  # file name as landed
SOURCE_ROW = "_source_row"  # 1-based data row number in that file (header excluded)
LOADED_AT = "_loaded_at"  # UTC timestamp of the load
LOAD_ID = "_load_id"  # id of the load in raw.load_log
METADATA_COLUMNS = (SOURCE_FILE, SOURCE_ROW, LOADED_AT, LOAD_ID)

APPLICATION_RAW_COLUMNS: tuple[str, ...] = tuple(BY_NAME[c].raw for c in APPLICATION_COLUMNS)
OUTCOME_RAW_COLUMNS: tuple[str, ...] = tuple(BY_NAME[c].raw for c in OUTCOME_COLUMNS)
