"""The KLL quantile sketch of a numeric column, in the form Model Monitor's statistics carry.

Model Monitor (Deequ) describes each numeric feature's distribution with a KLL sketch
(sketch size ``k`` = 2048, shrinking factor ``c`` = 0.64): a list of levels in which each
item at level ``h`` stands for ``2**h`` values. A streaming KLL sketch ends up with its
items spread over levels by repeated compaction (sorting a level and promoting every other
item); the analyzer holds the whole column, so it builds the sketch those compactions
aim at directly: the sorted column cut into blocks of ``2**h`` values, one item (the
block's middle value) per block on level ``h``, with ``h`` the smallest level at which at
most ``k`` items remain, and the values left over spread over the lower levels by the
binary digits of their count. Every sketch's weights add up to the column's count, and a
rank read from it is off by at most half a block (at most ``1 / k`` of the data, since the
top level holds more than ``k / 2`` items).
"""

from __future__ import annotations

import math

import numpy as np

SKETCH_SIZE = 2048
SHRINKING_FACTOR = 0.64


def sketch(sorted_values: np.ndarray, k: int = SKETCH_SIZE) -> list[list[float]]:
    """The sketch's levels (level 0 first) for values already sorted ascending."""
    count = len(sorted_values)
    if count <= k:
        return [sorted_values.tolist()]
    top = math.ceil(math.log2(count / k))
    stride = 1 << top
    blocks, left_over = divmod(count, stride)
    levels: list[list[float]] = [[] for _ in range(top + 1)]
    levels[top] = sorted_values[stride // 2 - 1 : blocks * stride : stride].tolist()
    position = blocks * stride
    for level in range(top - 1, -1, -1):
        size = 1 << level
        if left_over & size:
            levels[level].append(float(sorted_values[position + (size - 1) // 2]))
            position += size
    return levels


def order_statistics(values: np.ndarray, ranks: np.ndarray, bins: int = 1 << 16) -> np.ndarray:
    """The values at 0-based `ranks` of the sorted order, without sorting the column.

    The values are counted into `bins` equal-width bins; only the bins holding a wanted
    rank are gathered and sorted: three linear passes instead of a sort. A column so
    skewed that those bins hold a quarter of it is sorted whole instead.
    """
    low, high = float(values.min()), float(values.max())
    if low == high:
        return np.full(len(ranks), low)
    index = ((values - low) * (bins / (high - low))).astype(np.int64)
    np.minimum(index, bins - 1, out=index)
    counts = np.bincount(index, minlength=bins)
    cumulative = np.cumsum(counts)
    wanted = np.searchsorted(cumulative, ranks, side="right")
    needed = np.zeros(bins, dtype=bool)
    needed[wanted] = True
    if counts[needed].sum() > len(values) // 4:
        return np.sort(values)[ranks]
    gathered = np.sort(values[needed[index]])
    kept = np.where(needed, counts, 0)
    return gathered[(np.cumsum(kept) - kept)[wanted] + ranks - (cumulative - counts)[wanted]]


def sketch_of(values: np.ndarray, k: int = SKETCH_SIZE) -> list[list[float]]:
    """`sketch` of values in any order, from their order statistics (no sort of the column)."""
    count = len(values)
    if count <= k:
        return [np.sort(values).tolist()]
    top = math.ceil(math.log2(count / k))
    stride = 1 << top
    blocks, left_over = divmod(count, stride)
    ranks = [np.arange(stride // 2 - 1, blocks * stride, stride)]
    levels_of = [top] * blocks
    position = blocks * stride
    for level in range(top - 1, -1, -1):
        size = 1 << level
        if left_over & size:
            ranks.append(np.array([position + (size - 1) // 2]))
            levels_of.append(level)
            position += size
    found = order_statistics(values, np.concatenate(ranks))
    levels: list[list[float]] = [[] for _ in range(top + 1)]
    for level, value in zip(levels_of, found.tolist(), strict=True):
        levels[level].append(value)
    return levels


def weighted_items(levels: list[list[float]]) -> tuple[np.ndarray, np.ndarray]:
    """The sketch's items, sorted, and the number of values each stands for."""
    items = np.concatenate([np.asarray(level, dtype=np.float64) for level in levels]) if levels else np.empty(0)
    weights = np.concatenate([np.full(len(level), float(1 << h)) for h, level in enumerate(levels)]) if levels else np.empty(0)
    order = np.argsort(items, kind="stable")
    return items[order], weights[order]


def cdf(items: np.ndarray, weights: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The fraction of the sketched values at or below each point."""
    if len(items) == 0:
        return np.zeros(len(points))
    cumulative = np.cumsum(weights)
    index = np.searchsorted(items, points, side="right")
    below = np.where(index > 0, cumulative[np.maximum(index - 1, 0)], 0.0)
    return below / cumulative[-1]
