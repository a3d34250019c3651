"""Time-series forecasting for Autopilot V2: the data, the statistical models, the backtest.

``prepare`` turns a long table (item id, timestamp, target, optional grouping columns)
into one regular series per item at the forecast frequency, with Autopilot's
aggregation and filling transformations. ``forecast`` runs one candidate model on one
series and answers the mean and the quantiles of the next ``horizon`` steps;
``backtest`` scores a model on rolling-origin windows at the end of each series.

The models come from statsmodels (ETS, ARIMA, Theta); statsforecast was the first
choice but pins pandas<3, which the rest of sagebox uses. Seasonal naive and NPTS
are a few lines of numpy each, written here because statsmodels has neither.
Quantiles come from each model's forecast variance under a normal error (ETS, ARIMA,
naive models: the textbook variance of their forecasts; Theta: its prediction
interval), NPTS's from its weighted empirical distribution.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from sagebox.analysis.automl.forecast_metrics import all_metrics, seasonal_error
from sagebox.analysis.automl.forecast_settings import (
    AGGREGATIONS,
    BACKTEST_WINDOWS,
    DEFAULT_FILLING,
    FILL_METHODS,
    FREQUENCIES,
    FREQUENCY_PATTERN,
    MAX_HORIZON,
    QUANTILE_PATTERN,
)
from sagebox.analysis.automl.problems import DataError


@dataclass(frozen=True)
class Frequency:
    count: int
    unit: str  # min, H, D, W, M, Y

    @classmethod
    def parse(cls, text: str) -> Frequency:
        if not FREQUENCY_PATTERN.match(text or ""):
            raise DataError(
                f"ForecastFrequency '{text}' is not one of SageMaker's frequencies: {FREQUENCIES}."
            )
        count, unit = re.match(r"^(\d*)(\D+)$", text).groups()
        return cls(int(count or 1), unit)

    @property
    def rule(self) -> str:
        """The pandas resampling rule of the frequency."""
        return {
            "min": f"{self.count}min",
            "H": f"{self.count}h",
            "D": f"{self.count}D",
            "W": f"{self.count}W",
            "M": f"{self.count}MS",
            "Y": f"{self.count}YS",
        }[self.unit]

    @property
    def season(self) -> int:
        """The usual season length in steps (1 where there is none to assume)."""
        cycle = {"min": 60, "H": 24, "D": 7, "W": 52, "M": 12, "Y": 1}[self.unit]
        if self.unit == "D" and self.count != 1:
            return 1
        return cycle // self.count if cycle % self.count == 0 and cycle > self.count else 1

    def future(self, last: pd.Timestamp, steps: int) -> pd.DatetimeIndex:
        return pd.date_range(start=last, periods=steps + 1, freq=self.rule)[1:]


def quantile_levels(names: Sequence[str]) -> list[float]:
    """``p10`` -> 0.1; the names are checked against SageMaker's pattern."""
    levels = []
    for name in names:
        if not QUANTILE_PATTERN.match(name):
            raise DataError(
                f"ForecastQuantiles '{name}' is not a quantile: use p1 to p99 (pattern ^p[1-9]\\d?$)."
            )
        levels.append(int(name[1:]) / 100)
    return levels


@dataclass(frozen=True)
class Columns:
    item: str
    timestamp: str
    target: str
    grouping: tuple[str, ...] = ()

    def required(self) -> list[str]:
        return [self.item, self.timestamp, self.target, *self.grouping]


def _fill_value(method: str, values: pd.Series, given: str | None, where: str) -> float | None:
    """The value a filling method puts in (None: leave the gap, for frontfill ``none``)."""
    if method == "none":
        return None
    if method == "nan":
        return math.nan
    if method == "zero":
        return 0.0
    if method == "value":
        try:
            return float(given) if given is not None else math.nan
        except ValueError:
            raise DataError(f"Filling {where}_value '{given}' is not a number.") from None
    observed = values.dropna()
    if observed.empty:
        return 0.0
    return float(getattr(observed, method)())


def _fill(series: pd.Series, grid: pd.DatetimeIndex, filling: Mapping[str, str]) -> pd.Series:
    """The item's series on the dataset's grid, its gaps filled as ``filling`` says."""
    observed = series.dropna()
    full = series.reindex(grid)
    if observed.empty:
        return full.iloc[0:0]
    first, last = observed.index[0], observed.index[-1]
    before, after = full.index < first, full.index > last
    inside = ~before & ~after & full.isna()
    for where, mask in (("middlefill", inside), ("backfill", after), ("frontfill", before)):
        method = filling.get(where, DEFAULT_FILLING[where])
        if not mask.any():
            continue
        value = _fill_value(method, series, filling.get(f"{where}_value"), where)
        if value is None:
            continue
        full[mask] = value
    if filling.get("frontfill", DEFAULT_FILLING["frontfill"]) == "none":
        full = full[full.index >= first]
    if filling.get("backfill", DEFAULT_FILLING["backfill"]) == "none":
        full = full[full.index <= last]
    return full


def check_filling(filling: Mapping[str, str]) -> None:
    for key, method in filling.items():
        if key.endswith("_value"):
            continue
        if key not in DEFAULT_FILLING:
            raise DataError(
                f"Transformations.Filling '{key}' is not available for the target: use frontfill, "
                "middlefill or backfill (futurefill fills related columns, which sagebox does not use)."
            )
        if method not in FILL_METHODS:
            raise DataError(
                f"Transformations.Filling {key} '{method}' is not a filling method; use one of "
                f"{', '.join(FILL_METHODS)}."
            )


def prepare(
    frame: pd.DataFrame,
    columns: Columns,
    frequency: Frequency,
    filling: Mapping[str, str] | None = None,
    aggregation: str = "sum",
) -> dict[str, pd.Series]:
    """One regular series per item (the key joins the item id and the grouping values)."""
    filling = dict(filling or {})
    check_filling(filling)
    missing = [c for c in columns.required() if c not in frame.columns]
    if missing:
        raise DataError(
            f"The dataset has no column {', '.join(repr(c) for c in missing)}; its columns are "
            f"{', '.join(map(str, frame.columns))}."
        )
    if aggregation not in AGGREGATIONS:
        raise DataError(
            f"Transformations.Aggregation '{aggregation}' is not one of {', '.join(AGGREGATIONS)}."
        )
    data = frame[columns.required()].copy()
    stamps = pd.to_datetime(data[columns.timestamp], errors="coerce", format="mixed")
    bad = data[columns.timestamp][stamps.isna()]
    if len(bad):
        raise DataError(
            f"TimestampAttributeName '{columns.timestamp}': {len(bad)} values cannot be read as timestamps, "
            f"e.g. '{bad.iloc[0]}' (row {bad.index[0] + 2}); use yyyy-MM-dd or yyyy-MM-dd HH:mm:ss."
        )
    raw = data[columns.target].mask(data[columns.target].astype(str).str.strip() == "")
    target = pd.to_numeric(raw, errors="coerce")
    wrong = raw[target.isna() & raw.notna()]
    if len(wrong):
        raise DataError(
            f"TargetAttributeName '{columns.target}' must be numeric; '{wrong.iloc[0]}' "
            f"(row {wrong.index[0] + 2}) is not a number."
        )
    keys = data[columns.item].astype(str)
    for column in columns.grouping:
        keys = keys + "|" + data[column].astype(str)
    tidy = pd.DataFrame({"item": keys.values, "value": target.values}, index=stamps.values)
    how = AGGREGATIONS[aggregation]
    series: dict[str, pd.Series] = {}
    for item, rows in tidy.groupby("item", sort=True):
        resampled = rows["value"].sort_index().resample(frequency.rule)
        series[item] = resampled.sum(min_count=1) if how == "sum" else resampled.agg(how)
    if not series:
        raise DataError("The dataset has no rows.")
    start = min(s.index[0] for s in series.values())
    end = max(s.index[-1] for s in series.values())
    grid = pd.date_range(start=start, end=end, freq=frequency.rule)
    filled = {item: _fill(s, grid, filling) for item, s in series.items()}
    return {item: s for item, s in filled.items() if len(s)}


def check_horizon(series: Mapping[str, pd.Series], horizon: int) -> None:
    """Autopilot forecasts at most 500 steps and at most a quarter of the longest series."""
    longest = max(len(s) for s in series.values())
    limit = min(MAX_HORIZON, longest // 4)
    if horizon > limit:
        raise DataError(
            f"ForecastHorizon {horizon} is too long for this dataset: the longest series has {longest} "
            f"time steps at the forecast frequency, and the horizon can be at most the lesser of "
            f"{MAX_HORIZON} and a quarter of that ({longest // 4})."
        )


# -- models ------------------------------------------------------------------------------------


@dataclass
class Forecast:
    mean: np.ndarray
    quantiles: dict[float, np.ndarray]


def _normal(mean: np.ndarray, std: np.ndarray, levels: Sequence[float]) -> Forecast:
    from scipy.stats import norm  # here: the server imports this module's constants only

    std = np.nan_to_num(np.maximum(np.asarray(std, float), 0.0))
    mean = np.asarray(mean, float)
    return Forecast(mean, {q: mean + norm.ppf(q) * std for q in levels})


def _residual_std(residuals: np.ndarray) -> float:
    residuals = residuals[np.isfinite(residuals)]
    return float(np.sqrt(np.mean(residuals**2))) if len(residuals) else 0.0


def _naive(y: np.ndarray, horizon: int, season: int, levels: Sequence[float]) -> Forecast:
    """Seasonal naive (the last season repeated); plain naive when the history is shorter
    than two seasons. Its variance grows with the number of seasons ahead."""
    m = season if len(y) >= 2 * season else 1
    steps = np.arange(horizon)
    mean = y[len(y) - m + steps % m]
    sigma = _residual_std(y[m:] - y[:-m]) if len(y) > m else 0.0
    return _normal(mean, sigma * np.sqrt(steps // m + 1), levels)


def _npts(y: np.ndarray, horizon: int, season: int, levels: Sequence[float]) -> Forecast:
    """Non-parametric time series (as GluonTS's NPTS): every forecast is drawn from the past
    values, weighted by exp(-distance / scale), so recent values count most; with a season,
    only the past values at the same position in the season. Deterministic here: the
    quantiles are those of the weighted empirical distribution, the mean its weighted mean."""
    m = season if len(y) >= 2 * season else 1
    n = len(y)
    scale = max(float(m), n / 4.0)
    mean = np.empty(horizon)
    quantiles = {q: np.empty(horizon) for q in levels}
    for step in range(horizon):
        position = n + step
        index = np.arange(n)
        same = index[(position - index) % m == 0] if m > 1 else index
        weights = np.exp(-(position - same) / scale)
        values = y[same]
        order = np.argsort(values)
        values, weights = values[order], weights[order]
        cumulative = np.cumsum(weights) / weights.sum()
        mean[step] = float(np.sum(values * weights) / weights.sum())
        for q in levels:
            quantiles[q][step] = values[min(np.searchsorted(cumulative, q), len(values) - 1)]
    return Forecast(mean, quantiles)


def _ets(y: np.ndarray, horizon: int, season: int, levels: Sequence[float]) -> Forecast:
    """Additive-error ETS; trend (none, damped additive) and season (none, additive when two
    seasons are seen) chosen by AIC."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    history = pd.Series(y)
    best, best_aic = None, math.inf
    seasons = [None, "add"] if season > 1 and len(y) >= 2 * season + 2 else [None]
    trends = [None, "add"] if len(y) >= 6 else [None]
    for trend in trends:
        for seasonal in seasons:
            try:
                fitted = ETSModel(
                    history,
                    error="add",
                    trend=trend,
                    damped_trend=trend is not None,
                    seasonal=seasonal,
                    seasonal_periods=season if seasonal else None,
                ).fit(disp=False, maxiter=200)
            except (ValueError, np.linalg.LinAlgError):
                continue
            if np.isfinite(fitted.aic) and fitted.aic < best_aic:
                best, best_aic = fitted, fitted.aic
    if best is None:
        return _naive(y, horizon, 1, levels)
    prediction = best.get_prediction(start=len(y), end=len(y) + horizon - 1)
    return _normal(
        prediction.predicted_mean.to_numpy(),
        np.sqrt(np.asarray(prediction.forecast_variance, float)),
        levels,
    )


ARIMA_ORDERS = ((0, 1, 1), (1, 1, 0), (1, 1, 1), (2, 1, 1), (1, 0, 0))


def _arima(y: np.ndarray, horizon: int, season: int, levels: Sequence[float]) -> Forecast:
    """ARIMA over a small grid of orders, each with a constant (a drift once differenced), by AIC."""
    from statsmodels.tsa.arima.model import ARIMA

    best, best_aic = None, math.inf
    for order in ARIMA_ORDERS:
        if len(y) < sum(order) + 4:
            continue
        try:
            # a constant: the mean when not differenced, the drift ("t") once differenced
            fitted = ARIMA(y, order=order, trend="c" if order[1] == 0 else "t").fit()
        except (ValueError, np.linalg.LinAlgError):
            continue
        if np.isfinite(fitted.aic) and fitted.aic < best_aic:
            best, best_aic = fitted, fitted.aic
    if best is None:
        return _naive(y, horizon, 1, levels)
    prediction = best.get_forecast(horizon)
    return _normal(
        np.asarray(prediction.predicted_mean), np.asarray(prediction.se_mean, float), levels
    )


def _theta(y: np.ndarray, horizon: int, season: int, levels: Sequence[float]) -> Forecast:
    """The Theta method (deseasonalized when two seasons are seen); its 80 % interval gives
    the standard deviation of the forecast."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    seasonal = season > 1 and len(y) >= 2 * season
    try:
        fitted = ThetaModel(
            pd.Series(y), period=season if seasonal else 1, deseasonalize=seasonal
        ).fit()
        mean = np.asarray(fitted.forecast(horizon), float)
        interval = np.asarray(fitted.prediction_intervals(horizon, alpha=0.2), float)
    except (ValueError, np.linalg.LinAlgError):
        return _naive(y, horizon, 1, levels)
    std = (interval[:, 1] - interval[:, 0]) / (2 * 1.2815515655446004)  # 2 * z(0.9)
    return _normal(mean, std, levels)


_MODELS = {
    "ets": _ets,
    "arima": _arima,
    "theta": _theta,
    "seasonal-naive": _naive,
    "npts": _npts,
}


def forecast(
    model: str, history: np.ndarray, horizon: int, season: int, levels: Sequence[float]
) -> Forecast:
    """The model's forecast of the next ``horizon`` steps after ``history`` (no NaN inside:
    missing steps are filled by the target's filling transformation first)."""
    y = np.asarray(history, float)
    y = y[np.isfinite(y)]
    if len(y) == 0:
        zeros = np.zeros(horizon)
        return Forecast(zeros, {q: zeros.copy() for q in levels})
    if len(y) < 3:
        return _naive(y, horizon, 1, levels)
    # One BLAS thread: these fits are small, and threads only contend (also with other jobs).
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")  # convergence chatter of the grid's poorer fits
        result = _MODELS[model](y, horizon, season, levels)
    if not np.all(np.isfinite(result.mean)):
        return _naive(y, horizon, 1, levels)
    # Quantile forecasts do not cross: each level at least the one below.
    ordered = sorted(result.quantiles)
    stacked = np.maximum.accumulate(np.vstack([result.quantiles[q] for q in ordered]), axis=0)
    return Forecast(result.mean, {q: stacked[i] for i, q in enumerate(ordered)})


# -- backtest ------------------------------------------------------------------------------------


def backtest(
    model: str,
    series: Mapping[str, pd.Series],
    horizon: int,
    season: int,
    levels: Sequence[float],
    windows: int = BACKTEST_WINDOWS,
) -> tuple[dict[str, float], list[dict[str, Any]], list[dict[str, Any]]]:
    """Rolling-origin backtest: window w (1 = the latest) forecasts the ``horizon`` steps
    after cutting the last ``w * horizon`` steps of every item long enough for it.
    Answers the metrics over all windows, the metrics of each window, and one row per
    forecast point (window, item, timestamp, actual, mean, the quantiles)."""
    points: list[dict[str, Any]] = []
    per_window = []
    for window in range(windows, 0, -1):
        actual, mean, scales = [], [], []
        quantiles: dict[float, list[np.ndarray]] = {q: [] for q in levels}
        for item, values in series.items():
            cut = len(values) - window * horizon
            if cut < 3:
                continue
            history = values.iloc[:cut].to_numpy(float)
            future = values.iloc[cut : cut + horizon]
            result = forecast(model, history, horizon, season, levels)
            actual.append(future.to_numpy(float))
            mean.append(result.mean)
            scales.append(np.full(horizon, seasonal_error(history[np.isfinite(history)], season)))
            for q in levels:
                quantiles[q].append(result.quantiles[q])
            for step, stamp in enumerate(future.index):
                row = {
                    "backtest_window": window,
                    "item_id": item,
                    "timestamp": stamp.isoformat(),
                    "actual": float(future.iloc[step]),
                    "mean": float(result.mean[step]),
                }
                row.update({f"p{round(q * 100)}": float(result.quantiles[q][step]) for q in levels})
                points.append(row)
        if not actual:
            continue
        flat = np.concatenate(actual)
        usable = np.isfinite(flat)
        metrics = all_metrics(
            flat[usable],
            np.concatenate(mean)[usable],
            {q: np.concatenate(f)[usable] for q, f in quantiles.items()},
            np.concatenate(scales)[usable],
        )
        per_window.append({"backtest_window": window, **metrics})
    if not per_window:
        raise DataError(
            f"No series is long enough for a backtest window of {horizon} steps after 3 steps of history."
        )
    overall = {
        name: float(np.nanmean([w[name] for w in per_window]))
        if any(np.isfinite(w[name]) for w in per_window)
        else math.nan
        for name in per_window[0]
        if name != "backtest_window"
    }
    return overall, per_window, points
