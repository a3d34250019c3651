"""The forecasting candidates' hyperparameters (set by the AutoML job, one model per job)."""

from __future__ import annotations

from sagebox.algorithms.hyperparameters import Categorical, HyperparameterSpace, Integer, Text
from sagebox.analysis.automl.forecast_settings import AGGREGATIONS, BACKTEST_WINDOWS, MODELS

FORECASTING_HYPERPARAMETERS = HyperparameterSpace(
    Categorical("model", values=MODELS, default="ets"),
    Integer("forecast_horizon", min=1, max=500, required=True),
    Text("forecast_frequency", required=True, description="a SageMaker ForecastFrequency"),
    Text(
        "forecast_quantiles",
        default="p10,p50,p90",
        pattern=r"p[1-9]\d?(,p[1-9]\d?)*",
        description="comma-separated quantiles p1..p99",
    ),
    Text("item_identifier_attribute", required=True),
    Text("timestamp_attribute", required=True),
    Text("target_attribute", required=True),
    Text("grouping_attributes", default="", description="comma-separated column names"),
    Text("filling", default="{}", description="a JSON object of the target's filling methods"),
    Categorical("aggregation", values=tuple(AGGREGATIONS), default="sum"),
    Integer("backtest_windows", default=BACKTEST_WINDOWS, min=1, max=5),
)
