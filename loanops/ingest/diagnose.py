"""Name the first unreadable line of a file, in words a lender can act on.

Only runs after the engine's strict CSV reader refused a file, so it may be slow: the fast
path stays a single pass of the engine's own reader.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path


def first_problem(path: Path, expected_fields: int) -> str | None:
    """The first encoding or structure problem in the file, or None if it finds none."""
    return _first_bad_utf8(path) or _first_bad_record(path, expected_fields)


def _first_bad_utf8(path: Path) -> str | None:
    """The first line that is not valid UTF-8 (a multi-byte character never spans a line end)."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                byte = line[error.start : error.start + 1].hex()
                return (
                    f"line {number} is not valid UTF-8 (byte 0x{byte} at position "
                    f"{error.start + 1}); save the file as UTF-8"
                )
    return None


def _first_bad_record(path: Path, expected_fields: int) -> str | None:
    """The first record with broken quoting or the wrong number of fields."""
    csv.field_size_limit(sys.maxsize)  # the engine decides on size, not this diagnosis
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, strict=True)
        next(reader, None)  # the header was checked already
        start = reader.line_num + 1
        try:
            for record in reader:
                if record and len(record) != expected_fields:
                    return (
                        f"line {reader.line_num} has {len(record)} fields, "
                        f"expected {expected_fields}"
                    )
                start = reader.line_num + 1
        except csv.Error as error:
            if "unexpected end of data" in str(error):
                return f"line {start}: a quoted field is never closed (broken quoting)"
            return f"line {reader.line_num}: broken quoting ({error})"
    return None
