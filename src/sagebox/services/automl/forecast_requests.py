"""CreateAutoMLJobV2 with TimeSeriesForecastingJobConfig, as one `AutoMLPlan`.

Checks what the request model's constraints leave open and refuses, naming the member,
what sagebox does not run: holiday features, feature specifications, related columns'
transformations, the deep-learning algorithms (CNN-QR, DeepAR, Prophet). The plan's
``forecast`` member carries the time-series settings to the job's steps.
"""

from __future__ import annotations

from typing import Any

from sagebox.analysis.automl.forecast_metrics import AVERAGE_WQL, METRICS
from sagebox.analysis.automl.forecast_settings import (
    AGGREGATIONS,
    ALGORITHM_MODELS,
    DEFAULT_FILLING,
    DEFAULT_QUANTILES,
    FILL_METHODS,
    FREQUENCIES,
    FREQUENCY_PATTERN,
    MAX_HORIZON,
    MODELS,
    QUANTILE_PATTERN,
    UNAVAILABLE_ALGORITHMS,
)
from sagebox.services.automl import requests as tabular
from sagebox.services.errors import ValidationError

TIME_SERIES = "TimeSeriesForecasting"
WHERE = "AutoMLProblemTypeConfig.TimeSeriesForecastingJobConfig"


def _quantiles(given: list[str] | None) -> tuple[str, ...]:
    quantiles = tuple(given or DEFAULT_QUANTILES)
    wrong = [q for q in quantiles if not QUANTILE_PATTERN.match(q)]
    if wrong:
        raise ValidationError(
            f"{WHERE}.ForecastQuantiles: '{wrong[0]}' is not a quantile; use p1 to p99 (e.g. p10, p50, p90)."
        )
    if len(set(quantiles)) != len(quantiles):
        raise ValidationError(
            f"{WHERE}.ForecastQuantiles: each quantile may be given once; given {list(quantiles)}."
        )
    return tuple(sorted(quantiles, key=lambda q: int(q[1:])))


def _models(config: dict[str, Any] | None) -> tuple[str, ...]:
    configs = (config or {}).get("AlgorithmsConfig") or []
    if not configs:
        return MODELS
    if len(configs) != 1:
        raise ValidationError(
            f"{WHERE}.CandidateGenerationConfig.AlgorithmsConfig: give one AutoMLAlgorithmConfig; {len(configs)} given."
        )
    names = list(configs[0]["AutoMLAlgorithms"])
    unavailable = [n for n in names if n in UNAVAILABLE_ALGORITHMS]
    if unavailable:
        raise ValidationError(
            f"{WHERE}.CandidateGenerationConfig.AlgorithmsConfig: {', '.join(unavailable)} is not available in "
            f"sagebox; its time-series algorithms are {', '.join(ALGORITHM_MODELS)}."
        )
    wrong = [n for n in names if n not in ALGORITHM_MODELS]
    if wrong:
        raise ValidationError(
            f"{WHERE}.CandidateGenerationConfig.AlgorithmsConfig: {', '.join(wrong)} is not a time-series "
            f"forecasting algorithm; use {', '.join(ALGORITHM_MODELS)} (or cnn-qr, deepar, prophet on SageMaker)."
        )
    return tuple(dict.fromkeys(m for n in names for m in ALGORITHM_MODELS[n]))


def _transformations(
    transformations: dict[str, Any] | None, target: str
) -> tuple[dict[str, str], str]:
    """The target's filling methods and aggregation."""
    transformations = transformations or {}
    filling: dict[str, str] = {}
    for column, methods in (transformations.get("Filling") or {}).items():
        if column != target:
            raise ValidationError(
                f"{WHERE}.Transformations.Filling names '{column}': sagebox's candidates forecast from the "
                f"target alone, so only the target '{target}' can be filled."
            )
        for key, value in methods.items():
            if key.startswith("futurefill"):
                raise ValidationError(
                    f"{WHERE}.Transformations.Filling: {key} applies to related columns, not the target '{target}'."
                )
            if key.endswith("_value"):
                try:
                    float(value)
                except ValueError:
                    raise ValidationError(
                        f"{WHERE}.Transformations.Filling: {key} '{value}' is not a number."
                    ) from None
            elif value not in FILL_METHODS or (
                value == "none" and key != "frontfill" and key != "backfill"
            ):
                raise ValidationError(
                    f"{WHERE}.Transformations.Filling: {key} '{value}' is not a filling method; use one of "
                    f"{', '.join(m for m in FILL_METHODS if m != 'none')} (or none for frontfill, backfill)."
                )
            elif value == "value" and f"{key}_value" not in methods:
                raise ValidationError(
                    f"{WHERE}.Transformations.Filling: {key} 'value' needs {key}_value, the value to fill with."
                )
            filling[key] = value
    unknown = [k for k in filling if not k.endswith("_value") and k not in DEFAULT_FILLING]
    if unknown:
        raise ValidationError(
            f"{WHERE}.Transformations.Filling: '{unknown[0]}' is not a filling type."
        )
    aggregation = "sum"
    for column, method in (transformations.get("Aggregation") or {}).items():
        if column != target:
            raise ValidationError(
                f"{WHERE}.Transformations.Aggregation names '{column}': only the target '{target}' is aggregated."
            )
        if method not in AGGREGATIONS:
            raise ValidationError(
                f"{WHERE}.Transformations.Aggregation: '{method}' is not one of {', '.join(AGGREGATIONS)}."
            )
        aggregation = method
    return filling, aggregation


def _objective(objective: dict[str, Any] | None) -> str:
    metric = (objective or {}).get("MetricName") or AVERAGE_WQL
    if metric not in METRICS:
        raise ValidationError(
            f"AutoMLJobObjective.MetricName '{metric}' is not valid for time-series forecasting; "
            f"valid metrics: {', '.join(METRICS)}."
        )
    return metric


def plan_time_series(request: dict[str, Any]) -> tabular.AutoMLPlan:
    config = request["AutoMLProblemTypeConfig"]["TimeSeriesForecastingJobConfig"]
    series = config["TimeSeriesConfig"]
    if config.get("HolidayConfig"):
        raise ValidationError(
            f"{WHERE}.HolidayConfig: holiday features are not available in sagebox (its statistical "
            "candidates use no calendar); leave HolidayConfig out."
        )
    if config.get("FeatureSpecificationS3Uri"):
        raise ValidationError(f"{WHERE}.FeatureSpecificationS3Uri is not available in sagebox.")
    if request.get("AutoMLComputeConfig"):
        raise ValidationError("AutoMLComputeConfig (EMR Serverless) is not available in sagebox.")
    if request.get("DataSplitConfig"):
        raise ValidationError(
            "DataSplitConfig does not apply to time-series forecasting: the candidates are scored on "
            "backtest windows cut from the end of every series."
        )
    channels = tabular._channels(request["AutoMLJobInputDataConfig"], "AutoMLJobInputDataConfig")
    if any(c.channel == "validation" for c in channels):
        raise ValidationError(
            "AutoMLJobInputDataConfig: time-series forecasting takes a training channel only; the "
            "backtest windows are cut from the end of its series."
        )
    frequency = config["ForecastFrequency"]
    if not FREQUENCY_PATTERN.match(frequency):
        raise ValidationError(
            f"{WHERE}.ForecastFrequency '{frequency}' is not a frequency SageMaker forecasts at; use one of "
            f"{FREQUENCIES}."
        )
    horizon = int(config["ForecastHorizon"])
    if not 1 <= horizon <= MAX_HORIZON:
        raise ValidationError(
            f"{WHERE}.ForecastHorizon {horizon} is out of range: Autopilot forecasts 1 to {MAX_HORIZON} time steps."
        )
    target = series["TargetAttributeName"]
    names = [
        series["ItemIdentifierAttributeName"],
        series["TimestampAttributeName"],
        target,
        *(series.get("GroupingAttributeNames") or []),
    ]
    if len(set(names)) != len(names):
        raise ValidationError(
            f"{WHERE}.TimeSeriesConfig: the item identifier, timestamp, target and grouping attributes must be "
            f"different columns; given {names}."
        )
    filling, aggregation = _transformations(config.get("Transformations"), target)
    models = _models(config.get("CandidateGenerationConfig"))
    candidates, per_job, total = tabular._completion(config.get("CompletionCriteria"))
    forecast = {
        "item": series["ItemIdentifierAttributeName"],
        "timestamp": series["TimestampAttributeName"],
        "grouping": list(series.get("GroupingAttributeNames") or []),
        "frequency": frequency,
        "horizon": horizon,
        "quantiles": list(_quantiles(config.get("ForecastQuantiles"))),
        "filling": filling,
        "aggregation": aggregation,
    }
    return tabular.AutoMLPlan(
        target=target,
        channels=channels,
        output_path=request["OutputDataConfig"]["S3OutputPath"],
        role_arn=request["RoleArn"],
        problem_type=TIME_SERIES,
        objective=_objective(request.get("AutoMLJobObjective")),
        mode="AUTO",
        max_candidates=candidates,
        max_runtime_per_training_job=per_job,
        max_job_runtime=total,
        validation_fraction=tabular.DEFAULT_VALIDATION_FRACTION,
        algorithms=models[:candidates],
        generate_definitions_only=False,
        deploy=tabular._deploy(request.get("ModelDeployConfig")),
        kms_key=request["OutputDataConfig"].get("KmsKeyId"),
        forecast=forecast,
    )
