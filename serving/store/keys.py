"""Prediction ids that sort by time (UUID version 7, RFC 9562), so the key index grows at its end.

With random (version 4) ids every insert lands on a random leaf of the primary-key index: once
the index outgrows the page cache, a batch of 1,000 rows dirties and rewrites hundreds of leaf
pages (nearly the whole index on SQLite with 16 KiB pages), and the cost of a commit grows with
the table. Time-ordered ids append at the right edge of the index (SQLite and PostgreSQL
compare UUIDs byte by byte), so a batch touches a few pages (docs/benchmarks.md has the
measured difference). uuid-utils makes them: 48 bits of Unix time in milliseconds, then a
counter and random bits that keep the ids of one process increasing within a millisecond.
Ids reveal the millisecond they were made (the response states the timestamp anyway).
"""

from __future__ import annotations

import uuid

from uuid_utils.compat import uuid7


def time_ordered_ids(count: int) -> list[uuid.UUID]:
    """`count` new version-7 UUIDs (standard library UUID objects), in increasing order."""
    return [uuid7() for _ in range(count)]
