"""Time-series candidates' model insights: per-item metrics agree with the backtest's own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sagebox.analysis.automl.forecast_reports import explainability, model_insights
from sagebox.analysis.automl.forecasting import backtest


def _series(offset: float) -> pd.Series:
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    rng = np.random.default_rng(int(offset))
    values = offset + 5 * np.sin(np.arange(60) * 2 * np.pi / 7) + rng.normal(0, 1, 60)
    return pd.Series(values, index=days)


def test_one_items_metrics_are_the_backtests_and_items_are_scored_apart() -> None:
    levels = [0.1, 0.5, 0.9]
    single = {"a": _series(20)}
    overall, windows, points = backtest("seasonal-naive", single, 5, 7, levels)
    insights = model_insights(
        pd.DataFrame(points),
        single,
        7,
        {"model": "seasonal-naive", "metrics": overall, "windows": windows},
    )
    # With one item, the item's metrics are the backtest's (same windows, same MASE scales).
    for name, value in overall.items():
        assert insights["items"]["a"][name] == pytest.approx(value), name
    assert insights["quantiles"] == ["p10", "p50", "p90"]
    assert [w["backtest_window"] for w in insights["backtest_windows"]] == [2, 1]
    # Two items: each is scored on its own points, as if backtested alone.
    both = {"a": _series(20), "b": _series(200)}
    _, _, points = backtest("seasonal-naive", both, 5, 7, levels)
    alone, _, _ = backtest("seasonal-naive", {"b": both["b"]}, 5, 7, levels)
    scored = model_insights(pd.DataFrame(points), both, 7, {})
    assert scored["items"]["b"]["MASE"] == pytest.approx(alone["MASE"])
    assert scored["items"]["b"]["WAPE"] == pytest.approx(alone["WAPE"])
    assert scored["items"]["b"]["WAPE"] < scored["items"]["a"]["WAPE"]  # larger level, same noise
    explained = explainability(insights, [])
    assert explained["attributions"] == [] and "nothing to attribute" in explained["note"]
