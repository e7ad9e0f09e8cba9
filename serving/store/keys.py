"""Prediction ids that sort by time (UUID version 7, RFC 9562), so the key index grows at its end.

With random (version 4) ids every insert lands on a random leaf of the primary-key index: once
the index outgrows the page cache, a batch of 1,000 rows dirties and rewrites hundreds of leaf
pages (nearly the whole index on SQLite with 16 KiB pages), and the cost of a commit grows with
the table. Time-ordered ids append at the right edge of the index (SQLite and PostgreSQL
compare UUIDs byte by byte), so a batch touches a few pages (docs/benchmarks.md has the
measured difference).

Layout: 48 bits of Unix time in milliseconds, the version (7), 74 random bits and the variant.
Uniqueness rests on the random bits, as for version 4 (74 against 122 bits, within one
millisecond); order within a millisecond is random, which costs the index nothing.
"""

from __future__ import annotations

import os
import time
import uuid

_VERSION_7 = 0x7 << 76
_VARIANT = 0b10 << 62
_RAND_A = ((1 << 12) - 1) << 64  # the 12 random bits after the version
_RAND_B = (1 << 62) - 1  # the 62 random bits after the variant


def time_ordered_ids(count: int) -> list[uuid.UUID]:
    """`count` new version-7 UUIDs for this millisecond (one urandom call for all of them)."""
    stamp = (time.time_ns() // 1_000_000) << 80
    noise = os.urandom(10 * count)
    ids = []
    for start in range(0, 10 * count, 10):
        bits = int.from_bytes(noise[start : start + 10], "big")  # 80 random bits
        rand_a = (bits >> 62) << 64 & _RAND_A
        ids.append(uuid.UUID(int=stamp | _VERSION_7 | rand_a | _VARIANT | bits & _RAND_B))
    return ids
