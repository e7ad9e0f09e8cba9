"""Prediction ids are version-7 UUIDs: unique, and ordered by the millisecond they were made."""

from __future__ import annotations

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


def test_random_bits_differ_within_one_millisecond() -> None:
    ids = time_ordered_ids(20_000)
    low_bits = {v.int & ((1 << 62) - 1) for v in ids}
    assert len(low_bits) == len(ids)
    assert time_ordered_ids(0) == []
