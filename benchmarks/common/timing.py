"""Timing helpers: a perf_counter stopwatch and percentiles in milliseconds."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from contextlib import contextmanager


class Stopwatch:
    """Collects durations (seconds) of repeated operations."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    @contextmanager
    def time(self):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.samples.append(time.perf_counter() - start)

    def summary_ms(self) -> dict[str, float | int | None]:
        return summarize_ms(self.samples)


def percentile(values: Iterable[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    data = sorted(values)
    if not data:
        return None
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = math.ceil(pos)
    if lo == hi:
        return data[lo]
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def summarize_ms(seconds: Iterable[float]) -> dict[str, float | int | None]:
    data = [s * 1000.0 for s in seconds]
    if not data:
        return {"n": 0, "p50": None, "p95": None, "mean": None, "max": None}
    return {
        "n": len(data),
        "p50": round(percentile(data, 50), 3),
        "p95": round(percentile(data, 95), 3),
        "mean": round(sum(data) / len(data), 3),
        "max": round(max(data), 3),
    }
