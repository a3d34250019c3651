"""A long metric curve thinned to what a chart can show: at most two points (the lowest and
the highest, in step order) per bucket of consecutive steps, with as many buckets as a
chart has pixels across. A 10,000-step curve travels as ~2,000 points and looks the same
(every spike and dip stays); a curve shorter than that travels whole.

Written here rather than taken from a library: min/max bucketing is a dozen lines, and
the usual library (LTTB implementations) drops extremes this keeps.
"""

from __future__ import annotations

BUCKETS = 1_000  # wider than any chart the console draws (560 px)


def thin(values: list[float], buckets: int = BUCKETS) -> tuple[list[int], list[float]]:
    """The steps and values to draw for `values` (one a step, from step 0)."""
    count = len(values)
    if count <= 2 * buckets:
        return list(range(count)), list(values)
    steps: list[int] = []
    kept: list[float] = []
    for bucket in range(buckets):
        first = bucket * count // buckets
        last = (bucket + 1) * count // buckets
        low = min(range(first, last), key=values.__getitem__)
        high = max(range(first, last), key=values.__getitem__)
        for step in sorted({low, high}):
            steps.append(step)
            kept.append(values[step])
    if steps[-1] != count - 1:  # the last value (the final metric) is always drawn
        steps.append(count - 1)
        kept.append(values[-1])
    return steps, kept
