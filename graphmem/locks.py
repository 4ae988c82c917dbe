"""Per-partition locks that exist only while someone holds or waits for them, and the retry
of a write that lost a race with another writer.

A dict of one lock per user ever seen grows with the number of users a long-running process
serves; here a lock is created on first use and dropped when its last holder or waiter leaves,
so the map holds only the partitions being written right now.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# A write that loses a race with another process (ConflictError) is re-planned against the new
# graph; backoff with full jitter from 2 ms, doubling, capped at 100 ms (a few seconds at most).
WRITE_ATTEMPTS = 30


def write_attempts() -> Iterator[tuple[int, bool]]:
    """(attempt number, whether it is the last) for 1..WRITE_ATTEMPTS, for a write that may
    lose a race (ConflictError), with a jittered delay before each retry, doubling from 2 ms
    up to 100 ms."""
    delay = 0.002
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        if attempt > 1:
            time.sleep(random.uniform(0, delay))
            delay = min(delay * 2, 0.1)
        yield attempt, attempt == WRITE_ATTEMPTS


class PartitionLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}  # partition -> (lock, users)

    @contextmanager
    def hold(self, partition: str) -> Iterator[None]:
        """Hold the partition's lock for the body (other holders of it wait)."""
        with self._guard:
            lock, users = self._locks.get(partition) or (threading.Lock(), 0)
            self._locks[partition] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[partition]
                if users == 1:
                    del self._locks[partition]
                else:
                    self._locks[partition] = (lock, users - 1)

    def __len__(self) -> int:
        """How many partitions have a lock now (held or waited for)."""
        with self._guard:
            return len(self._locks)
