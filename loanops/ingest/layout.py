"""Which of the three lender layouts a landed file is, recognised by its header alone."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from loanops.schema import APPLICATION_COLUMNS, OUTCOME_COLUMNS, PUBLISHED_COLUMNS

_PEEK_BYTES = 1 << 16  # enough for the header and the first data rows of any real file
_OTHER_DELIMITERS = {";": "';'", "\t": "tab", "|": "'|'"}


class Layout(StrEnum):
    """A landed file's layout; `published` lands as both applications and outcomes."""

    APPLICATIONS = "applications"
    OUTCOMES = "outcomes"
    PUBLISHED = "published"


LAYOUT_COLUMNS: dict[Layout, tuple[str, ...]] = {
    Layout.APPLICATIONS: APPLICATION_COLUMNS,
    Layout.OUTCOMES: OUTCOME_COLUMNS,
    Layout.PUBLISHED: PUBLISHED_COLUMNS,
}


class RejectedFileError(Exception):
    """A file that must not land; the message says what is wrong with it."""


@dataclass(frozen=True)
class FileLayout:
    """What the header says: the layout and the columns in file order."""

    layout: Layout
    header: tuple[str, ...]
    estimated_rows: int  # from the file size and the first rows' length (progress only)


def landing_files(folder: Path) -> list[Path]:
    """The *.csv files directly in the folder (no sub-folders), in name order."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv")


def detect_layout(header: list[str]) -> Layout:
    """Name the layout whose column set the header is, or raise RejectedFileError saying why not."""
    if len(header) == 1:
        for delimiter, name in _OTHER_DELIMITERS.items():
            if delimiter in header[0]:
                raise RejectedFileError(f"header is separated by {name}, expected ','")
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise RejectedFileError(f"duplicate columns: {', '.join(duplicates)}")
    given = set(header)
    for layout, columns in LAYOUT_COLUMNS.items():
        if given == set(columns):
            return layout
    # Closest layout by overlap, so the message lists the few columns that are really off.
    # Ties go to the smaller layout: fewer columns reported missing for the same overlap.
    closest = max(LAYOUT_COLUMNS.values(), key=lambda cols: (len(given & set(cols)), -len(cols)))
    missing = [c for c in closest if c not in given]
    unknown = [c for c in header if c not in closest]
    problems = []
    if missing:
        problems.append(f"missing columns: {_names(missing)}")
    if unknown:
        problems.append(f"unknown columns: {_names(unknown)}")
    hint = ""
    if {c.lower() for c in missing} & {c.lower() for c in unknown}:
        hint = " (column names are case-sensitive, as published)"
    raise RejectedFileError(f"{'; '.join(problems)}{hint}")


def _names(columns: list[str], shown: int = 8) -> str:
    """A readable list of column names, cut short when long."""
    more = f" and {len(columns) - shown} more" if len(columns) > shown else ""
    return ", ".join(columns[:shown]) + more


def inspect_file(path: Path) -> FileLayout:
    """Check what can be checked cheaply (header, layout, data present, complete last line)."""
    size = path.stat().st_size
    if size == 0:
        raise RejectedFileError("file is empty (no header)")
    with path.open("rb") as handle:
        head = handle.read(_PEEK_BYTES)
        handle.seek(size - 1)
        last = handle.read(1)
    first_line, _, rest = head.partition(b"\n")
    try:
        header_text = first_line.decode("utf-8-sig").rstrip("\r")
    except UnicodeDecodeError:
        raise RejectedFileError("line 1 (header) is not valid UTF-8") from None
    header = next(csv.reader([header_text]), [])
    layout = detect_layout(header)
    if not rest.strip(b"\r\n") and len(head) == size:
        raise RejectedFileError("no data rows (only a header)")
    # A writer that was cut off (or a file still being copied) leaves the last row without
    # its line end; every complete CSV we accept ends with one.
    if last not in (b"\n", b"\r"):
        raise RejectedFileError(
            "last line does not end with a line break: the file looks truncated "
            "(half-written?); send it again complete"
        )
    sample = rest.split(b"\n")[:-1] or [rest]
    mean_line = max(1.0, sum(len(line) + 1 for line in sample) / len(sample))
    estimated = int((size - len(first_line) - 1) / mean_line)
    return FileLayout(layout, tuple(header), max(1, estimated))
