"""Percentiles and summaries of latency samples."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def percentile(samples: Sequence[float], p: float) -> float:
    """The nearest-rank percentile (``p`` in 0..100): a value that was actually observed."""
    if not samples:
        return math.nan
    if not 0 <= p <= 100:
        raise ValueError(f"percentile {p} outside 0..100")
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(samples_s: Sequence[float]) -> dict[str, Any]:
    """Latencies given in seconds, summarised in milliseconds."""
    if not samples_s:
        return {"count": 0}
    return {
        "count": len(samples_s),
        "p50_ms": round(percentile(samples_s, 50) * 1000, 2),
        "p90_ms": round(percentile(samples_s, 90) * 1000, 2),
        "p99_ms": round(percentile(samples_s, 99) * 1000, 2),
        "max_ms": round(max(samples_s) * 1000, 2),
        "mean_ms": round(sum(samples_s) / len(samples_s) * 1000, 2),
    }
