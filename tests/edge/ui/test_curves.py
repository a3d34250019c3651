"""Long metric curves thinned for a chart: extremes and the last value kept, short ones whole."""

from __future__ import annotations

import math

from sagebox.edge.ui.curves import thin


def test_a_short_curve_travels_whole() -> None:
    values = [1.0 / (s + 1) for s in range(30)]
    assert thin(values) == (list(range(30)), values)


def test_a_long_curve_keeps_each_buckets_extremes_and_its_last_value() -> None:
    values = [math.sin(s / 50) + (5.0 if s == 4_321 else 0.0) for s in range(10_000)]
    steps, kept = thin(values, buckets=500)
    assert len(steps) <= 2 * 500 + 1
    assert steps == sorted(set(steps))
    assert kept == [values[s] for s in steps]
    assert 4_321 in steps  # a spike survives
    assert max(kept) == max(values) and min(kept) == min(values)
    assert steps[0] == 0 or values[steps[0]] in (min(values[:20]), max(values[:20]))
    assert steps[-1] == 9_999 and kept[-1] == values[-1]
