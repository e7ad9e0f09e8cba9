"""Which of the three lender layouts a landed file is, recognised by its header alone."""

from __future__ import annotations

import csv
import difflib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from loanops.schema import (
    APPLICATION_COLUMNS,
    NAME_ALIASES,
    OUTCOME_COLUMNS,
    PUBLISHED_COLUMNS,
)

_PEEK_BYTES = 1 << 16  # enough for the header and the first data rows of any real file
_OTHER_DELIMITERS = {";": "';'", "\t": "tab", "|": "'|'"}
_BOM = "\ufeff"
# Every spelling a header may use, folded: the published names and their known aliases.
_KNOWN_NAMES: dict[str, str] = {
    **{alias.casefold(): published for alias, published in NAME_ALIASES.items()},
    **{name.casefold(): name for name in PUBLISHED_COLUMNS},
}


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
    header: tuple[str, ...]  # published names, in file order
    estimated_rows: int  # from the file size and the first rows' length (progress only)
    # {as sent: published} for each header that is not the published name verbatim
    header_mapping: dict[str, str] = field(default_factory=dict)

    def mapping_json(self) -> str | None:
        """The header mapping as JSON text for the load log, or None when every name matched."""
        return json.dumps(self.header_mapping, ensure_ascii=False) if self.header_mapping else None


def landing_files(folder: Path) -> list[Path]:
    """The *.csv files directly in the folder (no sub-folders), in name order."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv")


def published_name(sent: str) -> str | None:
    """The published column a header names, ignoring case, surrounding whitespace and a BOM."""
    return _KNOWN_NAMES.get(sent.strip().lstrip(_BOM).strip().casefold())


def read_header(sent: list[str]) -> tuple[list[str], dict[str, str]]:
    """The header in published names (unknown names as sent), and {as sent: published}.

    Only case, surrounding whitespace, a BOM and the known aliases (schema.NAME_ALIASES) are
    forgiven; any other difference stays as sent, so detect_layout rejects it.
    """
    names, mapping = [], {}
    spellings: dict[str, list[str]] = {}
    for cell in sent:
        published = published_name(cell)
        names.append(published or cell)
        if published:
            spellings.setdefault(published, []).append(cell)
            if published != cell:
                mapping[cell] = published
    # Two spellings of one column (say the alias beside the published name) are a duplicate
    # that the exact-name check alone would not see.
    clashes = [
        f"{' and '.join(repr(c) for c in cells)} both name {published}"
        for published, cells in spellings.items()
        if len(set(cells)) > 1
    ]
    if clashes:
        raise RejectedFileError(f"duplicate columns: {'; '.join(clashes)}")
    return names, mapping


def detect_layout(header: list[str]) -> Layout:
    """Name the layout whose column set the header is, or raise RejectedFileError saying why not.

    Headers are matched as read_header matches them; anything else is a difference.
    """
    header, _ = read_header(header)
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
        problems.append(f"unknown columns: {_names([_suggest(c, missing) for c in unknown])}")
    raise RejectedFileError("; ".join(problems))


def _suggest(unknown: str, missing: list[str]) -> str:
    """An unknown header, with the missing published name it is closest to when one is close."""
    folded = {name.casefold(): name for name in missing}
    folded.update({a.casefold(): p for a, p in NAME_ALIASES.items() if p in missing})
    close = difflib.get_close_matches(unknown.strip().casefold(), list(folded), n=1)
    shown = repr(unknown) if unknown != unknown.strip() else unknown
    return f"{shown} (did you mean {folded[close[0]]}?)" if close else shown


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
    header, mapping = read_header(next(csv.reader([header_text]), []))
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
    return FileLayout(layout, tuple(header), max(1, estimated), mapping)
