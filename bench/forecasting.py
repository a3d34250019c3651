"""Forecast quality of Autopilot's time-series candidates on real series, against seasonal naive.

The data sets ship inside statsmodels (``statsmodels.datasets``): Mauna Loa CO2 (weekly,
averaged to months), the El Nino sea surface temperatures (monthly), US macroeconomic
series (quarterly, as ``3M``: real GDP, consumption, investment, disposable income, CPI,
M1, each an item) and yearly sunspot activity and Nile flow.

For each data set the last ``horizon`` steps of every series are held out. sagebox
chooses a candidate as an AutoML job does, by its rolling-origin backtest (two windows
before the holdout, average weighted quantile loss), with the same code its training
jobs run (`sagebox.analysis.automl.forecasting`); the chosen candidate then forecasts the
holdout from everything before it. Its holdout wQL (p10, p50, p90) and MASE are compared
with the seasonal naive forecast's (the reference a forecaster has to beat), and the
best candidate in hindsight is shown for information. Target: the chosen candidate at
most as bad as seasonal naive (ratio <= 1) on every data set.
Run ``python -m bench forecasting``; ``run()`` returns the result as a dict.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.datasets as datasets

from sagebox.analysis.automl.forecast_metrics import AVERAGE_WQL, all_metrics, seasonal_error
from sagebox.analysis.automl.forecast_settings import MODELS
from sagebox.analysis.automl.forecasting import Frequency, backtest, forecast

LEVELS = (0.1, 0.5, 0.9)
REFERENCE = "seasonal-naive"


def _co2() -> dict[str, pd.Series]:
    weekly = datasets.co2.load_pandas().data["co2"].interpolate()
    return {"co2": weekly.resample("MS").mean()}


def _elnino() -> dict[str, pd.Series]:
    table = datasets.elnino.load_pandas().data
    values = table.drop(columns="YEAR").to_numpy().ravel()
    start = f"{int(table['YEAR'].iloc[0])}-01-01"
    return {"sst": pd.Series(values, pd.date_range(start, periods=len(values), freq="MS"))}


def _macro() -> dict[str, pd.Series]:
    table = datasets.macrodata.load_pandas().data
    index = pd.date_range("1959-01-01", periods=len(table), freq="3MS")
    columns = ("realgdp", "realcons", "realinv", "realdpi", "cpi", "m1")
    return {c: pd.Series(table[c].to_numpy(float), index) for c in columns}


def _yearly(name: str, column: str, year: str) -> dict[str, pd.Series]:
    table = getattr(datasets, name).load_pandas().data
    index = pd.date_range(f"{int(table[year].iloc[0])}-01-01", periods=len(table), freq="YS")
    return {name: pd.Series(table[column].to_numpy(float), index)}


DATA_SETS = (
    ("co2 (monthly, 1 series x 526)", _co2, "M", 12),
    ("elnino (monthly, 1 x 732)", _elnino, "M", 12),
    ("macrodata (quarterly, 6 x 203)", _macro, "3M", 8),
    ("sunspots (yearly, 1 x 309)", lambda: _yearly("sunspots", "SUNACTIVITY", "YEAR"), "Y", 10),
    ("nile (yearly, 1 x 100)", lambda: _yearly("nile", "volume", "year"), "Y", 10),
)


def _holdout_scores(
    model: str, series: dict[str, pd.Series], horizon: int, season: int
) -> dict[str, float]:
    actual, mean, scales = [], [], []
    quantiles: dict[float, list[np.ndarray]] = {q: [] for q in LEVELS}
    for values in series.values():
        history = values.iloc[:-horizon].to_numpy(float)
        result = forecast(model, history, horizon, season, LEVELS)
        actual.append(values.iloc[-horizon:].to_numpy(float))
        mean.append(result.mean)
        scales.append(np.full(horizon, seasonal_error(history, season)))
        for q in LEVELS:
            quantiles[q].append(result.quantiles[q])
    return all_metrics(
        np.concatenate(actual),
        np.concatenate(mean),
        {q: np.concatenate(v) for q, v in quantiles.items()},
        np.concatenate(scales),
    )


def data_set_rows(
    name: str, series: dict[str, pd.Series], unit: str, horizon: int
) -> list[dict[str, str]]:
    season = Frequency.parse(unit).season
    training = {item: values.iloc[:-horizon] for item, values in series.items()}
    start = time.perf_counter()
    backtests = {m: backtest(m, training, horizon, season, LEVELS)[0][AVERAGE_WQL] for m in MODELS}
    chosen = min(backtests, key=lambda m: backtests[m])
    choosing = time.perf_counter() - start
    holdout = {m: _holdout_scores(m, series, horizon, season) for m in MODELS}
    ours, reference = holdout[chosen], holdout[REFERENCE]
    hindsight = min(holdout, key=lambda m: holdout[m][AVERAGE_WQL])
    rows = []
    for metric in (AVERAGE_WQL, "MASE"):
        ratio = ours[metric] / reference[metric]
        rows.append(
            {
                "measure": f"{name}, horizon {horizon}: holdout {metric} of the chosen candidate ({chosen})",
                "sagebox": f"{ours[metric]:.4f}",
                "reference": f"{reference[metric]:.4f} (seasonal naive)",
                "ratio": f"{ratio:.2f}x",
                "target": "<= 1.00x",
                "met": "yes" if ratio <= 1.0 else "no",
            }
        )
    rows.append(
        {
            "measure": f"{name}: best in hindsight, and seconds to backtest the {len(MODELS)} candidates",
            "sagebox": f"{hindsight} ({holdout[hindsight][AVERAGE_WQL]:.4f} wQL)",
            "reference": "",
            "ratio": "",
            "target": "(information)",
            "met": f"{choosing:.1f} s",
        }
    )
    return rows


def run() -> dict[str, Any]:
    rows: list[dict[str, str]] = []
    for name, load, unit, horizon in DATA_SETS:
        rows += data_set_rows(name, load(), unit, horizon)
    return {
        "name": "forecasting",
        "rows": rows,
        "notes": (
            "Candidates ETS, ARIMA, Theta (statsmodels), seasonal naive and NPTS; chosen by two "
            "rolling-origin backtest windows before the holdout on average weighted quantile loss "
            "(p10, p50, p90), as a time-series AutoML job chooses its best candidate; the holdout "
            "is the last horizon of every series, never seen by the choice."
        ),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
