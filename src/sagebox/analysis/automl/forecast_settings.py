"""Autopilot's time-series settings: allowed values and defaults (no heavy imports, so that
the request checks and the algorithm registry can read them cheaply)."""

from __future__ import annotations

import re

FREQUENCY_PATTERN = re.compile(
    r"^(1Y|Y|([1-9]|1[0-1])M|M|[1-4]W|W|[1-6]D|D|([1-9]|1[0-9]|2[0-3])H|H|([1-9]|[1-5][0-9])min)$"
)
"""SageMaker's ForecastFrequency pattern (TimeSeriesForecastingJobConfig)."""
FREQUENCIES = "Y, 1Y, 1M-11M, M, 1W-4W, W, 1D-6D, D, 1H-23H, H, 1min-59min"
QUANTILE_PATTERN = re.compile(r"^p[1-9]\d?$")
DEFAULT_QUANTILES = ("p10", "p50", "p90")
MAX_HORIZON = 500
"""The longest horizon Autopilot forecasts; it must also be at most a quarter of the longest series."""
MODELS = ("ets", "arima", "theta", "seasonal-naive", "npts")
"""sagebox's candidate models (ets, arima and npts are also AutoMLAlgorithm names)."""
ALGORITHM_MODELS = {"ets": ("ets",), "arima": ("arima",), "npts": ("npts",)}
"""AlgorithmsConfig names -> the models they stand for."""
UNAVAILABLE_ALGORITHMS = ("cnn-qr", "deepar", "prophet")
AGGREGATIONS = {"sum": "sum", "avg": "mean", "first": "first", "min": "min", "max": "max"}
FILL_METHODS = ("zero", "value", "nan", "mean", "median", "min", "max", "none")
DEFAULT_FILLING = {"frontfill": "none", "middlefill": "zero", "backfill": "zero"}
"""Autopilot's defaults for the target column (missing values before, inside and after
an item's observations, up to the dataset's first and last time step)."""
BACKTEST_WINDOWS = 2
