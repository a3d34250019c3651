"""Autopilot's forecasting metrics against their published formulas on hand-computed
examples, and the series preparation and models the time-series candidates use."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sagebox.analysis.automl import forecast_metrics as fm
from sagebox.analysis.automl.forecasting import (
    Columns,
    Frequency,
    backtest,
    check_horizon,
    forecast,
    prepare,
)
from sagebox.analysis.automl.problems import DataError

ACTUAL = np.array([10.0, 20.0, 30.0, 40.0])
MEAN = np.array([12.0, 18.0, 33.0, 40.0])  # errors -2, 2, -3, 0


def test_point_metrics_match_their_formulas() -> None:
    assert fm.wape(ACTUAL, MEAN) == pytest.approx(7 / 100)  # sum|e| / sum|y|
    assert fm.rmse(ACTUAL, MEAN) == pytest.approx(math.sqrt((4 + 4 + 9 + 0) / 4))
    assert fm.mape(ACTUAL, MEAN) == pytest.approx((0.2 + 0.1 + 0.1 + 0.0) / 4)
    assert fm.mape(np.array([0.0, 10.0]), np.array([5.0, 8.0])) == pytest.approx(0.2)  # y=0 skipped


def test_weighted_quantile_loss_and_its_average() -> None:
    # tau=0.5 at the mean: 2 * sum(0.5|e|) / sum|y| = 7/100
    assert fm.weighted_quantile_loss(ACTUAL, MEAN, 0.5) == pytest.approx(0.07)
    high, low = ACTUAL + 5, ACTUAL - 5
    # over-forecast by 5 at tau=0.9: each point loses 0.1*5; 2 * 2 / 100
    assert fm.weighted_quantile_loss(ACTUAL, high, 0.9) == pytest.approx(0.04)
    # under-forecast by 5 at tau=0.1: each point loses 0.1*5
    assert fm.weighted_quantile_loss(ACTUAL, low, 0.1) == pytest.approx(0.04)
    # ... and the other way round costs 0.9*5 each: 2 * 18 / 100
    assert fm.weighted_quantile_loss(ACTUAL, low, 0.9) == pytest.approx(0.36)
    average = fm.average_weighted_quantile_loss(ACTUAL, {0.1: low, 0.5: MEAN, 0.9: high})
    assert average == pytest.approx((0.04 + 0.07 + 0.04) / 3)


def test_mase_scales_by_the_seasonal_naive_error_of_the_history() -> None:
    history = np.array([1.0, 3.0, 2.0, 4.0, 3.0, 5.0])
    assert fm.seasonal_error(history, 2) == pytest.approx(1.0)  # |y_t - y_(t-2)| = 1 each
    assert fm.seasonal_error(history, 1) == pytest.approx(8 / 5)
    assert fm.seasonal_error(history, 10) == pytest.approx(8 / 5)  # too short: lag 1
    assert fm.mase(ACTUAL, MEAN, 1.6) == pytest.approx((7 / 4) / 1.6)
    metrics = fm.all_metrics(ACTUAL, MEAN, {0.5: MEAN}, np.full(4, 2.0))
    assert metrics == pytest.approx(
        {"AverageWeightedQuantileLoss": 0.07, "MAPE": 0.1, "MASE": 7 / 8,
         "RMSE": math.sqrt(17 / 4), "WAPE": 0.07}
    )  # fmt: skip


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["a", "a", "a", "a", "b", "b", "b"],
            "t": ["2024-01-01", "2024-01-02", "2024-01-02 12:00", "2024-01-05",
                  "2024-01-02", "2024-01-03", "2024-01-04"],
            "y": ["1", "2", "3", "4", "5", "", "7"],
        }
    )  # fmt: skip


def test_series_are_aggregated_onto_the_frequency_and_filled_as_autopilot_does() -> None:
    series = prepare(_table(), Columns("id", "t", "y"), Frequency.parse("D"))
    # a: two rows on Jan 2 summed, Jan 3-4 missing in the middle -> 0
    assert series["a"].tolist() == [1.0, 5.0, 0.0, 0.0, 4.0]
    # b: starts later (frontfill none), a missing value inside -> 0, ends early -> backfill 0
    assert series["b"].index[0] == pd.Timestamp("2024-01-02")
    assert series["b"].tolist() == [5.0, 0.0, 7.0, 0.0]
    filled = prepare(
        _table(), Columns("id", "t", "y"), Frequency.parse("D"),
        {"middlefill": "value", "middlefill_value": "9", "backfill": "none"}, aggregation="max",
    )  # fmt: skip
    assert filled["a"].tolist() == [1.0, 3.0, 9.0, 9.0, 4.0]
    assert filled["b"].tolist() == [5.0, 9.0, 7.0]


def test_data_problems_are_named() -> None:
    with pytest.raises(DataError, match="no column 'store'"):
        prepare(_table(), Columns("store", "t", "y"), Frequency.parse("D"))
    bad = _table().assign(t=["2024-01-01", "soon", *["2024-01-03"] * 5])
    with pytest.raises(DataError, match="'soon'"):
        prepare(bad, Columns("id", "t", "y"), Frequency.parse("D"))
    with pytest.raises(DataError, match="ForecastHorizon 2 is too long"):
        check_horizon(prepare(_table(), Columns("id", "t", "y"), Frequency.parse("D")), 2)
    assert Frequency.parse("2H").rule == "2h" and Frequency.parse("2H").season == 12
    assert Frequency.parse("M").season == 12 and Frequency.parse("W").season == 52


def test_models_forecast_with_ordered_quantiles_and_backtest() -> None:
    days = np.arange(42)
    weekly = 10 + 3 * np.sin(2 * np.pi * days / 7)
    naive = forecast("seasonal-naive", weekly, 7, 7, [0.1, 0.5, 0.9])
    np.testing.assert_allclose(naive.mean, weekly[35:42])  # the last week again
    for model in ("ets", "arima", "theta", "npts"):
        result = forecast(model, weekly, 4, 7, [0.1, 0.5, 0.9])
        assert np.all(result.quantiles[0.1] <= result.quantiles[0.5])
        assert np.all(result.quantiles[0.5] <= result.quantiles[0.9])
    index = pd.date_range("2024-01-01", periods=42, freq="D")
    overall, windows, points = backtest(
        "seasonal-naive", {"x": pd.Series(weekly, index)}, 4, 7, [0.5]
    )
    assert overall["WAPE"] == pytest.approx(0, abs=1e-9)  # a pure weekly cycle is forecast exactly
    assert [w["backtest_window"] for w in windows] == [2, 1] and len(points) == 8
