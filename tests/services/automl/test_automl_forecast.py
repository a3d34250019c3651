"""CreateAutoMLJobV2 with TimeSeriesForecastingJobConfig through boto3: a job that backtests
two statistical candidates, ranks them and deploys the best; the endpoint and a batch
transform forecast from history rows; each bad request or bad data answered specifically."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from botocore.exceptions import ClientError

from tests.services.automl.conftest import check_report_steps, wait_automl
from tests.services.training.jobs import ROLE, unique

HORIZON = 4
DAYS = 40
ITEMS = ("north", "south", "east")


def history(days: int = DAYS) -> pd.DataFrame:
    """Three daily series with a weekly cycle and a trend; 'south' misses two days."""
    rng = np.random.default_rng(0)
    rows = []
    for number, item in enumerate(ITEMS):
        for day, stamp in enumerate(pd.date_range("2024-01-01", periods=days, freq="D")):
            if item == "south" and day in (10, 11):
                continue
            level = 20 + 5 * number + 0.2 * day + 3 * np.sin(2 * np.pi * day / 7)
            rows.append(
                {
                    "store": item,
                    "day": stamp.strftime("%Y-%m-%d"),
                    "sales": round(level + rng.normal(0, 0.5), 3),
                    "note": "x",
                }
            )
    return pd.DataFrame(rows)


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


@pytest.fixture(scope="module")
def series_bucket(s3: Any) -> str:
    bucket = unique("forecast")
    s3.create_bucket(Bucket=bucket)
    frame = history()
    s3.put_object(Bucket=bucket, Key="good/data.csv", Body=_csv(frame))
    broken = frame.copy()
    broken.loc[5, "day"] = "the fifth"
    s3.put_object(Bucket=bucket, Key="badtime/data.csv", Body=_csv(broken))
    s3.put_object(
        Bucket=bucket, Key="batch/in/history.csv", Body=_csv(frame[frame["store"] != "east"])
    )
    return bucket


def _config(**changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "ForecastFrequency": "D",
        "ForecastHorizon": HORIZON,
        "TimeSeriesConfig": {
            "TargetAttributeName": "sales",
            "TimestampAttributeName": "day",
            "ItemIdentifierAttributeName": "store",
        },
        "CandidateGenerationConfig": {"AlgorithmsConfig": [{"AutoMLAlgorithms": ["ets", "npts"]}]},
    }
    config.update(changes)
    return config


def _request(
    bucket: str, prefix: str = "good", config: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "AutoMLJobName": unique("ts")[:32],
        "AutoMLJobInputDataConfig": [
            {
                "ChannelType": "training",
                "ContentType": "text/csv;header=present",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{prefix}/"}
                },
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "AutoMLProblemTypeConfig": {"TimeSeriesForecastingJobConfig": config or _config()},
        "RoleArn": ROLE,
        **extra,
    }


def _forecast_rows(body: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(body), dtype={"store": str})


def test_a_time_series_job_ranks_backtested_candidates_deploys_and_forecasts(
    sagemaker: Any, runtime: Any, s3: Any, series_bucket: str
) -> None:
    request = _request(series_bucket, ModelDeployConfig={"AutoGenerateEndpointName": True})
    name = request["AutoMLJobName"]
    sagemaker.create_auto_ml_job_v2(**request)
    seen: list[str] = []
    wait_automl(sagemaker, name, timeout=300, seen=seen)
    described = sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)
    assert described["AutoMLJobStatus"] == "Completed", described.get("FailureReason")
    check_report_steps(sagemaker, name, seen)
    assert seen[-3:-1] == ["GeneratingModelInsightsReport", "DeployingModel"], seen
    assert described["AutoMLProblemTypeConfigName"] == "TimeSeriesForecasting"
    config = described["AutoMLProblemTypeConfig"]["TimeSeriesForecastingJobConfig"]
    assert config["ForecastHorizon"] == HORIZON
    assert described["ResolvedAttributes"]["AutoMLJobObjective"] == {
        "MetricName": "AverageWeightedQuantileLoss"
    }

    candidates = sagemaker.list_candidates_for_auto_ml_job(
        AutoMLJobName=name, SortBy="FinalObjectiveMetricValue", SortOrder="Ascending"
    )["Candidates"]
    assert len(candidates) == 2
    values = [c["FinalAutoMLJobObjectiveMetric"]["Value"] for c in candidates]
    assert values == sorted(values) and all(0 < v < 1 for v in values)
    best = described["BestCandidate"]
    assert best["CandidateName"] == candidates[0]["CandidateName"]
    assert best["FinalAutoMLJobObjectiveMetric"]["Type"] == "Minimize"
    metrics = {m["MetricName"]: m["Value"] for m in best["CandidateProperties"]["CandidateMetrics"]}
    assert set(metrics) == {"AverageWeightedQuantileLoss", "MAPE", "MASE", "RMSE", "WAPE"}
    assert metrics["WAPE"] < 0.2 and metrics["RMSE"] > 0  # the series are smooth: a close forecast
    steps = [s["CandidateStepType"] for s in best["CandidateSteps"]]
    assert steps == ["AWS::SageMaker::ProcessingJob", "AWS::SageMaker::TrainingJob"]
    training = sagemaker.describe_training_job(TrainingJobName=best["CandidateName"])
    assert training["HyperParameters"]["model"] in ("ets", "npts")
    assert len(best["InferenceContainers"]) == 1

    # the backtest files of each candidate, at its BacktestResults location
    location = best["CandidateProperties"]["CandidateArtifactLocations"]["BacktestResults"]
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    backtest = json.loads(
        s3.get_object(Bucket=bucket, Key=f"{prefix}/backtest_metrics.json")["Body"].read()
    )
    assert backtest["metrics"]["AverageWeightedQuantileLoss"] == pytest.approx(
        best["FinalAutoMLJobObjectiveMetric"]["Value"]
    )
    points = pd.read_csv(
        s3.get_object(Bucket=bucket, Key=f"{prefix}/backtest_forecasts.csv")["Body"]
    )
    assert len(points) == 2 * len(ITEMS) * HORIZON  # two windows
    assert {"p10", "p50", "p90", "mean", "actual"} <= set(points.columns)

    # every candidate's model insights (backtest metrics per window and item) and explainability
    for candidate in candidates:
        located = candidate["CandidateProperties"]["CandidateArtifactLocations"]
        assert set(located) == {"BacktestResults", "ModelInsights", "Explainability"}
    located = best["CandidateProperties"]["CandidateArtifactLocations"]

    def read(uri: str, name: str) -> bytes:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return s3.get_object(Bucket=bucket, Key=f"{key}/{name}")["Body"].read()

    insights = json.loads(read(located["ModelInsights"], "model_insights.json"))
    assert insights["metrics"]["AverageWeightedQuantileLoss"] == pytest.approx(
        best["FinalAutoMLJobObjectiveMetric"]["Value"]
    )
    assert [w["backtest_window"] for w in insights["backtest_windows"]] == [2, 1]
    assert sorted(insights["items"]) == sorted(ITEMS)
    for scores in insights["items"].values():
        assert {"AverageWeightedQuantileLoss", "MAPE", "MASE", "RMSE", "WAPE", "wQL[0.1]"} <= set(
            scores
        )
        assert 0 <= scores["WAPE"] < 0.5 and scores["MASE"] > 0
    # an item's WAPE averages its windows' WAPEs, each from the backtest forecasts
    north = points[points["item_id"] == "north"]
    by_window = [
        (w["actual"] - w["mean"]).abs().sum() / w["actual"].abs().sum()
        for _, w in north.groupby("backtest_window")
    ]
    assert insights["items"]["north"]["WAPE"] == pytest.approx(np.mean(by_window))
    assert read(located["ModelInsights"], "report.html").count(b"<img") == len(ITEMS)
    explained = json.loads(read(located["Explainability"], "analysis.json"))
    assert explained["attributions"] == [] and "nothing to attribute" in explained["note"]
    assert b"nothing to attribute" in read(located["Explainability"], "report.html")

    # the endpoint forecasts the next HORIZON days of the items it is sent
    endpoint = described["ModelDeployResult"]["EndpointName"]
    rows = history()
    answer = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=_csv(rows[rows["store"] == "north"])
    )
    forecast = _forecast_rows(answer["Body"].read())
    assert list(forecast.columns) == ["store", "day", "p10", "p50", "p90", "mean"]
    assert forecast["day"].tolist() == [f"2024-02-{d:02d} 00:00:00" for d in range(10, 14)]
    assert (forecast["p10"] <= forecast["p50"]).all() and (forecast["p50"] <= forecast["p90"]).all()
    assert forecast["mean"].between(20, 40).all()
    as_json = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Accept="application/json", Body=_csv(rows)
    )
    predictions = json.loads(as_json["Body"].read())["predictions"]
    assert len(predictions) == len(ITEMS) * HORIZON and set(predictions[0]) == set(forecast.columns)
    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(
            EndpointName=endpoint, ContentType="text/csv", Body=b"1,2,3\n4,5,6\n"
        )
    assert "header row naming the columns store, day, sales" in str(caught.value)

    # a batch transform over a history file writes the forecast file
    job = unique("ts-batch")[:32]
    sagemaker.create_model(
        ModelName=job, Containers=best["InferenceContainers"], ExecutionRoleArn=ROLE
    )
    sagemaker.create_transform_job(
        TransformJobName=job,
        ModelName=job,
        TransformInput={
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"s3://{series_bucket}/batch/in/",
                }
            },
            "ContentType": "text/csv",
        },
        TransformOutput={"S3OutputPath": f"s3://{series_bucket}/batch/out/"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )
    sagemaker.get_waiter("transform_job_completed_or_stopped").wait(
        TransformJobName=job, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    described_batch = sagemaker.describe_transform_job(TransformJobName=job)
    assert described_batch["TransformJobStatus"] == "Completed", described_batch.get(
        "FailureReason"
    )
    out = s3.get_object(Bucket=series_bucket, Key="batch/out/history.csv.out")["Body"].read()
    batch = _forecast_rows(out)
    assert sorted(set(batch["store"])) == ["north", "south"] and len(batch) == 2 * HORIZON


def _refused(sagemaker: Any, request: dict[str, Any]) -> str:
    with pytest.raises(ClientError) as caught:
        sagemaker.create_auto_ml_job_v2(**request)
    assert caught.value.response["Error"]["Code"] == "ValidationException", caught.value.response
    return str(caught.value.response["Error"]["Message"])


@pytest.mark.parametrize(
    "changes, extra, expected",
    [
        (
            {"ForecastFrequency": "5W"},
            {},
            "Value '5W' at 'autoMLProblemTypeConfig.timeSeriesForecastingJobConfig.forecastFrequency'",
        ),
        (
            {"HolidayConfig": [{"CountryCode": "US"}]},
            {},
            "HolidayConfig: holiday features are not available",
        ),
        ({"ForecastQuantiles": ["p10", "p10"]}, {}, "each quantile may be given once"),
        (
            {"CandidateGenerationConfig": {"AlgorithmsConfig": [{"AutoMLAlgorithms": ["deepar"]}]}},
            {},
            "deepar is not available in sagebox",
        ),
        (
            {"Transformations": {"Filling": {"sales": {"middlefill": "sideways"}}}},
            {},
            "middlefill 'sideways' is not a filling method",
        ),
        (
            {},
            {"AutoMLJobObjective": {"MetricName": "Accuracy"}},
            "'Accuracy' is not valid for time-series",
        ),
        ({}, {"DataSplitConfig": {"ValidationFraction": 0.2}}, "DataSplitConfig does not apply"),
    ],
)
def test_bad_time_series_requests_are_refused_specifically(
    sagemaker: Any,
    series_bucket: str,
    changes: dict[str, Any],
    extra: dict[str, Any],
    expected: str,
) -> None:
    assert expected in _refused(
        sagemaker, _request(series_bucket, config=_config(**changes), **extra)
    )


@pytest.mark.parametrize(
    "prefix, changes, expected",
    [
        (
            "good",
            {
                "TimeSeriesConfig": {
                    "TargetAttributeName": "revenue",
                    "TimestampAttributeName": "day",
                    "ItemIdentifierAttributeName": "store",
                }
            },
            "The dataset has no column 'revenue'",
        ),
        (
            "badtime",
            {},
            "TimestampAttributeName 'day': 1 values cannot be read as timestamps, e.g. 'the fifth'",
        ),
        ("good", {"ForecastHorizon": 11}, "ForecastHorizon 11 is too long for this dataset"),
    ],
)
def test_data_that_cannot_be_forecast_fails_the_job_saying_why(
    sagemaker: Any, series_bucket: str, prefix: str, changes: dict[str, Any], expected: str
) -> None:
    request = _request(series_bucket, prefix, _config(**changes))
    sagemaker.create_auto_ml_job_v2(**request)
    described = wait_automl(sagemaker, request["AutoMLJobName"], timeout=120)
    assert described["AutoMLJobStatus"] == "Failed"
    assert expected in described["FailureReason"]


def test_the_sdks_automlv2_fits_deploys_and_predicts_a_forecast(
    sagebox_server: Any, series_bucket: str
) -> None:
    sdk = pytest.importorskip("sagemaker", reason="the SageMaker Python SDK is a dev dependency")
    from sagemaker.automl.automlv2 import (
        AutoMLDataChannel,
        AutoMLTimeSeriesForecastingConfig,
        AutoMLV2,
    )
    from sagemaker.predictor import Predictor
    from sagemaker.serializers import CSVSerializer

    session = sdk.Session()
    automl = AutoMLV2(
        role=ROLE,
        problem_config=AutoMLTimeSeriesForecastingConfig(
            forecast_frequency="D",
            forecast_horizon=HORIZON,
            forecast_quantiles=["p25", "p50", "p75"],
            item_identifier_attribute_name="store",
            target_attribute_name="sales",
            timestamp_attribute_name="day",
            max_candidates=1,
        ),
        output_path=f"s3://{series_bucket}/sdk-output",
        job_objective={"MetricName": "RMSE"},
        sagemaker_session=session,
        base_job_name="sdk-ts",
    )
    channel = AutoMLDataChannel(
        s3_data_type="S3Prefix",
        s3_uri=f"s3://{series_bucket}/good/",
        channel_type="training",
        content_type="text/csv;header=present",
    )
    # fit(wait=True, logs=False) calls Session.wait_for_auto_ml_job with an argument it lacks
    # (an SDK bug); boto3 waits instead.
    automl.fit(inputs=[channel], wait=False)
    described = wait_automl(session.sagemaker_client, automl.current_job_name, timeout=300)
    assert described["AutoMLJobStatus"] == "Completed", described.get("FailureReason")
    assert described["AutoMLJobSecondaryStatus"] == "MaxCandidatesReached"  # 1 of the 5 models
    best = automl.best_candidate()
    objective = best["FinalAutoMLJobObjectiveMetric"]
    assert objective["MetricName"] == "RMSE" and objective["Type"] == "Minimize"
    metrics = {m["MetricName"]: m["Value"] for m in best["CandidateProperties"]["CandidateMetrics"]}
    assert objective["Value"] == metrics["RMSE"]
    predictor = automl.deploy(
        initial_instance_count=1,
        instance_type="ml.m5.large",
        predictor_cls=Predictor,
        serializer=CSVSerializer(),
        wait=False,
    )
    session.sagemaker_client.get_waiter("endpoint_in_service").wait(
        EndpointName=predictor.endpoint_name, WaiterConfig={"Delay": 1, "MaxAttempts": 90}
    )
    try:
        forecast = _forecast_rows(predictor.predict(history().to_csv(index=False)))
        assert list(forecast.columns) == ["store", "day", "p25", "p50", "p75", "mean"]
        assert len(forecast) == len(ITEMS) * HORIZON
    finally:
        predictor.delete_endpoint()
