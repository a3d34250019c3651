"""Distribution distances between a baseline and the current data, as Deequ measures drift.

Numeric features: the L-infinity distance between the cumulative distributions (the
largest gap between the share of baseline values and of current values at or below any
value), the baseline read from its KLL sketch and the current data exactly. Categorical
features: the largest gap between the two shares of any value. ``Robust`` (the default
``comparison_method``) subtracts the two-sample Kolmogorov-Smirnov allowance for the
sample sizes, ``1.8 * sqrt((n + m) / (n * m))``, so that small samples drift only by more
than chance would explain; ``Simple`` does not. ``ChiSquared`` (a categorical drift method)
answers the p-value of Pearson's chi-squared test of the current counts against the
baseline's shares instead of a distance.
"""

from __future__ import annotations

import math

import numpy as np

from sagebox.analysis.model_monitor import kll

KS_ALLOWANCE = 1.8


def robust(distance: float, baseline_count: float, current_count: float, method: str) -> float:
    if method.lower() in ("simple", "linf_simple") or baseline_count <= 0 or current_count <= 0:
        return distance
    allowance = KS_ALLOWANCE * math.sqrt((baseline_count + current_count) / (baseline_count * current_count))
    return max(0.0, distance - allowance)


def numeric_distance(baseline_levels: list[list[float]], current_levels: list[list[float]], method: str = "Robust") -> float:
    """The distance between two KLL sketches' distributions (exact for sketches that hold
    every value, as those of at most k values do), at every item of either."""
    items, weights = kll.weighted_items(baseline_levels)
    current_items, current_weights = kll.weighted_items(current_levels)
    if len(items) == 0 or len(current_items) == 0:
        return 0.0
    points = np.union1d(items, current_items)
    simple = float(np.max(np.abs(kll.cdf(items, weights, points) - kll.cdf(current_items, current_weights, points))))
    return robust(simple, float(weights.sum()), float(current_weights.sum()), method)


def categorical_distance(baseline: dict[str, float], current: dict[str, int], method: str = "Robust") -> float:
    baseline_total, current_total = sum(baseline.values()), sum(current.values())
    if baseline_total <= 0 or current_total <= 0:
        return 0.0
    values = set(baseline) | set(current)
    simple = max(abs(baseline.get(v, 0.0) / baseline_total - current.get(v, 0) / current_total) for v in values)
    return robust(simple, baseline_total, current_total, method)


def chi_squared_p_value(baseline: dict[str, float], current: dict[str, int]) -> float:
    """p-value that the current counts follow the baseline's shares (values the baseline
    never saw get a share of half a count, so that they weigh instead of dividing by zero)."""
    values = sorted(set(baseline) | set(current))
    baseline_total, current_total = sum(baseline.values()), sum(current.values())
    if baseline_total <= 0 or current_total <= 0 or len(values) < 2:
        return 1.0
    shares = np.array([max(baseline.get(v, 0.0), 0.5) for v in values], dtype=np.float64)
    expected = shares / shares.sum() * current_total
    observed = np.array([current.get(v, 0) for v in values], dtype=np.float64)
    from scipy import stats  # only this method needs scipy, whose import costs seconds

    return float(stats.chisquare(observed, expected).pvalue)
