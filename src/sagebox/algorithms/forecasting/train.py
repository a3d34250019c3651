"""Training one forecasting candidate: backtest its model, report the metrics, save it.

The ``train`` channel holds the AutoML job's prepared data (``item_id,timestamp,target``
rows of regular, filled series, written by its AnalyzingData step). The job scores the
model on rolling-origin backtest windows and prints Autopilot's metrics as
``validation:<metric>`` quality lines, which the AutoML job ranks its candidates by. It
writes the backtest forecasts and metrics to ``output/data`` and the candidate
(`ForecastModel`) to the model folder.
"""

from __future__ import annotations

import json

import pandas as pd

from sagebox.algorithms.amazon.errors import TrainingError
from sagebox.algorithms.amazon.job import is_first_host, log
from sagebox.algorithms.amazon.metrics import MetricReporter
from sagebox.algorithms.contract import TrainingEnvironment
from sagebox.algorithms.forecasting.hyperparameters import FORECASTING_HYPERPARAMETERS
from sagebox.analysis.automl.forecast_model import ForecastModel
from sagebox.analysis.automl.forecasting import Frequency, backtest, quantile_levels
from sagebox.analysis.automl.problems import DataError

BACKTEST_FORECASTS = "backtest_forecasts.csv"
BACKTEST_METRICS = "backtest_metrics.json"


def read_series(env: TrainingEnvironment) -> dict[str, pd.Series]:
    files = [p for p in env.channel_files("train") if p.suffix == ".csv"]
    if not files:
        raise TrainingError("channel 'train' has no CSV file of prepared series")
    frame = pd.concat([pd.read_csv(p, dtype={"item_id": str}) for p in files])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return {
        str(item): rows.set_index("timestamp")["target"].sort_index().astype(float)
        for item, rows in frame.groupby("item_id", sort=True)
    }


def train(env: TrainingEnvironment) -> None:
    values = FORECASTING_HYPERPARAMETERS.validate(env.hyperparameters)
    try:
        frequency = Frequency.parse(values["forecast_frequency"])
        quantiles = tuple(values["forecast_quantiles"].split(","))
        levels = quantile_levels(quantiles)
        filling = json.loads(values["filling"] or "{}")
    except (DataError, json.JSONDecodeError) as exc:
        raise TrainingError(str(exc)) from None
    series = read_series(env)
    model, horizon = values["model"], values["forecast_horizon"]
    log(f"{model}: backtesting {len(series)} series, horizon {horizon}, season {frequency.season}")
    try:
        overall, windows, points = backtest(
            model, series, horizon, frequency.season, levels, values["backtest_windows"]
        )
    except DataError as exc:
        raise TrainingError(str(exc)) from None
    reporter = MetricReporter(env.resource_config.current_host)
    for name, value in overall.items():
        reporter.quality("validation", name, value)
    if not is_first_host(env):
        return
    grouping = tuple(c for c in values["grouping_attributes"].split(",") if c)
    ForecastModel(
        model=model,
        frequency=values["forecast_frequency"],
        horizon=horizon,
        quantiles=quantiles,
        item=values["item_identifier_attribute"],
        timestamp=values["timestamp_attribute"],
        target=values["target_attribute"],
        grouping=grouping,
        filling=filling,
        aggregation=values["aggregation"],
        metrics=overall,
    ).save(env.model_dir)
    env.output_data_dir.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(points).to_csv(env.output_data_dir / BACKTEST_FORECASTS, index=False)
    (env.output_data_dir / BACKTEST_METRICS).write_text(
        json.dumps({"model": model, "metrics": overall, "windows": windows}, indent=1),
        encoding="utf-8",
    )
