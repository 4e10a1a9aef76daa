"""The few statistics the benchmarks report; every median and percentile in bench/ comes from here.

- ``median``: the middle value, or the mean of the middle two for an even count (statistics.median).
- ``percentile``: by nearest rank, so always a value that was observed (no interpolation): p90 of
  200 samples is the 180th smallest, p99 of 50 is the largest, p50 of an even count the lower middle.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least ``fraction`` of the values at or below it."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def ms(nanoseconds: float) -> float:
    return round(nanoseconds / 1e6, 3)
