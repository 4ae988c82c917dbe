"""Per-partition locks that exist only while someone holds or waits for them.

A dict of one lock per user ever seen grows with the number of users a long-running process
serves; here a lock is created on first use and dropped when its last holder or waiter leaves,
so the map holds only the partitions being written right now.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


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
