"""Prediction ids are version-7 UUIDs: unique, and ordered by the millisecond they were made."""

from __future__ import annotations

import itertools
import time
import uuid

from serving.store.keys import time_ordered_ids


def test_ids_are_version_7_with_the_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    ids = time_ordered_ids(1000)
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == 1000
    for value in ids:
        assert value.version == 7 and value.variant == uuid.RFC_4122
        assert before <= value.int >> 80 <= after  # the first 48 bits: Unix time in ms
        assert uuid.UUID(str(value)) == value


def test_later_ids_sort_after_earlier_ones_as_text_and_bytes() -> None:
    first = time_ordered_ids(50)
    time.sleep(0.002)
    second = time_ordered_ids(50)
    assert max(v.hex for v in first) < min(v.hex for v in second)  # SQLite stores the hex
    assert max(v.bytes for v in first) < min(v.bytes for v in second)  # PostgreSQL compares bytes


def test_ids_made_in_one_millisecond_still_increase() -> None:
    ids = time_ordered_ids(20_000)
    assert all(a.bytes < b.bytes for a, b in itertools.pairwise(ids))
    assert len({v.int >> 80 for v in ids}) < len(ids)  # many shared a millisecond
    assert time_ordered_ids(0) == []
