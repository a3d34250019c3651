"""Autopilot's time-series forecasting metrics, as its developer guide defines them.

Each takes the actual values and the forecasts of every (item, time step) of the
backtest windows, flattened into arrays of one length:

- ``wQL[tau] = 2 * sum(max(tau*(y - q), (tau - 1)*(y - q))) / sum(|y|)``: the
  weighted quantile loss of the tau-quantile forecast q;
  ``AverageWeightedQuantileLoss`` is the mean of wQL over the forecast quantiles.
- ``WAPE = sum(|y - yhat|) / sum(|y|)``.
- ``RMSE = sqrt(mean((y - yhat)^2))``.
- ``MAPE = mean(|(y - yhat) / y|)`` over the points whose actual value is not 0.
- ``MASE = mean(|y - yhat|) / mean(|y_t - y_(t-m)|)``, the scale being the mean
  absolute error of the seasonal naive forecast (season m) on the training history.

The point forecast ``yhat`` of WAPE, RMSE, MAPE and MASE is the mean forecast, as
Autopilot reports them. These few formulas are written here rather than taken from a
library so that each is exactly Autopilot's definition (scaling, zero handling).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

AVERAGE_WQL = "AverageWeightedQuantileLoss"
METRICS = (AVERAGE_WQL, "MAPE", "MASE", "RMSE", "WAPE")
"""Autopilot's time-series metrics, all to be minimized; the first is the default objective."""


def _denominator(actual: np.ndarray) -> float:
    total = float(np.sum(np.abs(actual)))
    return total if total > 0 else math.nan


def weighted_quantile_loss(actual: np.ndarray, forecast: np.ndarray, quantile: float) -> float:
    """wQL of one quantile (0 < quantile < 1)."""
    error = np.asarray(actual, float) - np.asarray(forecast, float)
    loss = np.maximum(quantile * error, (quantile - 1) * error)
    return 2.0 * float(np.sum(loss)) / _denominator(np.asarray(actual, float))


def average_weighted_quantile_loss(
    actual: np.ndarray, forecasts: Mapping[float, np.ndarray]
) -> float:
    """The mean of wQL over the quantiles given (quantile level -> forecast)."""
    losses = [weighted_quantile_loss(actual, f, q) for q, f in forecasts.items()]
    return float(np.mean(losses))


def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    actual = np.asarray(actual, float)
    return float(np.sum(np.abs(actual - np.asarray(forecast, float)))) / _denominator(actual)


def rmse(actual: np.ndarray, forecast: np.ndarray) -> float:
    error = np.asarray(actual, float) - np.asarray(forecast, float)
    return float(np.sqrt(np.mean(error**2)))


def mape(actual: np.ndarray, forecast: np.ndarray) -> float:
    actual = np.asarray(actual, float)
    nonzero = actual != 0
    if not nonzero.any():
        return math.nan
    ratio = (actual[nonzero] - np.asarray(forecast, float)[nonzero]) / actual[nonzero]
    return float(np.mean(np.abs(ratio)))


def seasonal_error(history: np.ndarray, season: int) -> float:
    """Mean |y_t - y_(t-m)| over a history (m falls back to 1 when the history is shorter)."""
    history = np.asarray(history, float)
    lag = season if len(history) > season else 1
    if len(history) <= lag:
        return math.nan
    return float(np.mean(np.abs(history[lag:] - history[:-lag])))


def mase(actual: np.ndarray, forecast: np.ndarray, scale: float) -> float:
    """Mean absolute error over a seasonal naive scale (see `seasonal_error`)."""
    if not scale or math.isnan(scale):
        return math.nan
    error = np.abs(np.asarray(actual, float) - np.asarray(forecast, float))
    return float(np.mean(error)) / scale


def all_metrics(
    actual: np.ndarray,
    mean: np.ndarray,
    quantiles: Mapping[float, np.ndarray],
    scales: Sequence[float] | np.ndarray,
) -> dict[str, float]:
    """Every metric over the flattened backtest points; ``scales`` holds each point's MASE
    scale (its item's seasonal error), so MASE averages the per-point scaled errors."""
    actual, mean = np.asarray(actual, float), np.asarray(mean, float)
    scales = np.asarray(scales, float)
    usable = np.isfinite(scales) & (scales > 0)
    scaled = (
        float(np.mean(np.abs(actual[usable] - mean[usable]) / scales[usable]))
        if usable.any()
        else math.nan
    )
    return {
        AVERAGE_WQL: average_weighted_quantile_loss(actual, quantiles),
        "MAPE": mape(actual, mean),
        "MASE": scaled,
        "RMSE": rmse(actual, mean),
        "WAPE": wape(actual, mean),
    }
