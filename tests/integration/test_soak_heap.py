"""The soak's look at the C heap from inside (``bench/soak_traced.py``, ``soak.py --heap``):
bytes held show as in use, and freed ones leave it."""

from __future__ import annotations

import pytest

from bench.soak_traced import heap_look, libc_mallinfo2

BLOCK = 4096  # above pymalloc's small-object limit: each one is glibc's malloc
BLOCKS = 12_800  # 50 MiB


def test_bytes_held_show_as_in_use_and_leave_it_when_freed() -> None:
    mallinfo2 = libc_mallinfo2()
    if mallinfo2 is None:
        pytest.skip("the C library has no mallinfo2 (not glibc 2.33 or later)")
    before = heap_look(mallinfo2)
    held = [bytearray(BLOCK) for _ in range(BLOCKS)]
    during = heap_look(mallinfo2)
    del held
    after = heap_look(mallinfo2)
    assert set(before) == {"in_use_mb", "free_mb", "mmap_mb", "heap_mb", "anon_mb"}
    # What the heap's free bytes could not hold came from the system, resident.
    assert during["anon_mb"] - before["anon_mb"] >= 45 - before["free_mb"], (before, during)
    assert during["in_use_mb"] - before["in_use_mb"] >= 45, (before, during)
    assert during["in_use_mb"] - after["in_use_mb"] >= 45, (during, after)
