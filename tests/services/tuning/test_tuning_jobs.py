"""Hyperparameter tuning jobs through boto3: every strategy, early stopping, warm start, stop, errors."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.training.jobs import unique
from tests.services.tuning.conftest import config, definition, wait_tuning


def _create(sagemaker: Any, tuning_config: dict[str, Any], job_definition: dict[str, Any], **extra: Any) -> str:
    name = unique("tune")[:32]
    sagemaker.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, HyperParameterTuningJobConfig=tuning_config, TrainingJobDefinition=job_definition, **extra
    )
    return name


def test_random_search_runs_real_trials_and_finds_the_best(sagemaker: Any, tuning_bucket: str) -> None:
    name = _create(sagemaker, config("Random", max_jobs=4, parallel=2, RandomSeed=7), definition(tuning_bucket))
    described = wait_tuning(sagemaker, name)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["TrainingJobStatusCounters"]["Completed"] == 4
    assert described["ObjectiveStatusCounters"] == {"Succeeded": 4, "Pending": 0, "Failed": 0}
    best = described["BestTrainingJob"]
    listed = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, SortBy="FinalObjectiveMetricValue", SortOrder="Ascending"
    )["TrainingJobSummaries"]
    assert len(listed) == 4
    values = [t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for t in listed]
    assert values == sorted(values)
    assert listed[0]["TrainingJobName"] == best["TrainingJobName"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["MetricName"] == "validation:rmse"
    assert set(best["TunedHyperParameters"]) == {"eta", "max_depth"}
    trial = sagemaker.describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert trial["TuningJobArn"] == described["HyperParameterTuningJobArn"]
    assert trial["HyperParameters"]["_tuning_objective_metric"] == "validation:rmse"
    assert trial["HyperParameters"]["num_round"] == "20"
    assert 0.05 <= float(trial["HyperParameters"]["eta"]) <= 0.5
    assert 2 <= int(trial["HyperParameters"]["max_depth"]) <= 6
    assert best["TrainingJobName"].startswith(f"{name}-")
    names = {t["TrainingJobName"] for t in sagemaker.list_training_jobs(NameContains=name, MaxResults=100)["TrainingJobSummaries"]}
    assert names == {t["TrainingJobName"] for t in listed}
    summaries = sagemaker.list_hyper_parameter_tuning_jobs(NameContains=name)["HyperParameterTuningJobSummaries"]
    assert [s["HyperParameterTuningJobName"] for s in summaries] == [name]


def test_grid_tries_every_combination_once(sagemaker: Any, tuning_bucket: str) -> None:
    ranges = {"CategoricalParameterRanges": [
        {"Name": "max_depth", "Values": ["2", "4"]}, {"Name": "eta", "Values": ["0.1", "0.3"]},
    ]}
    name = _create(sagemaker, config("Grid", max_jobs=4, parallel=2, ranges=ranges), definition(tuning_bucket))
    wait_tuning(sagemaker, name)
    listed = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)["TrainingJobSummaries"]
    combos = sorted((t["TunedHyperParameters"]["max_depth"], t["TunedHyperParameters"]["eta"]) for t in listed)
    assert combos == [("2", "0.1"), ("2", "0.3"), ("4", "0.1"), ("4", "0.3")]


def test_bayesian_and_warm_start(sagemaker: Any, tuning_bucket: str) -> None:
    parent = _create(sagemaker, config("Bayesian", max_jobs=3, parallel=1, RandomSeed=1), definition(tuning_bucket))
    assert wait_tuning(sagemaker, parent)["HyperParameterTuningJobStatus"] == "Completed"
    child = _create(
        sagemaker, config("Bayesian", max_jobs=2, parallel=1, RandomSeed=2), definition(tuning_bucket),
        WarmStartConfig={"ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": parent}], "WarmStartType": "IdenticalDataAndAlgorithm"},
    )
    described = wait_tuning(sagemaker, child)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    overall = described["OverallBestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    assert overall <= described["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]


def test_target_objective_completes_early(sagemaker: Any, tuning_bucket: str) -> None:
    tuning = config("Random", max_jobs=6, parallel=1, TuningJobCompletionCriteria={"TargetObjectiveMetricValue": 1000.0})
    name = _create(sagemaker, tuning, definition(tuning_bucket))
    described = wait_tuning(sagemaker, name)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert sum(described["TrainingJobStatusCounters"].values()) < 6
    assert "TuningJobCompletionDetails" in described


def test_hyperband_stops_weak_trials(sagemaker: Any, tuning_bucket: str) -> None:
    tuning = config(
        "Hyperband", max_jobs=6, parallel=2, RandomSeed=3,
        StrategyConfig={"HyperbandStrategyConfig": {"MinResource": 20, "MaxResource": 600}},
        ranges={"ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.001", "MaxValue": "0.5", "ScalingType": "Logarithmic"}]},
    )
    name = _create(sagemaker, tuning, definition(tuning_bucket, "big", {"objective": "reg:squarederror", "max_depth": "6"}))
    described = wait_tuning(sagemaker, name, timeout=400)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    listed = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name, MaxResults=100)["TrainingJobSummaries"]
    trial = sagemaker.describe_training_job(TrainingJobName=listed[0]["TrainingJobName"])
    assert "num_round" in trial["HyperParameters"]
    assert described["TrainingJobStatusCounters"]["Stopped"] >= 1


def test_stop_a_tuning_job(sagemaker: Any, tuning_bucket: str) -> None:
    static = {"objective": "reg:squarederror", "num_round": "100000"}
    name = _create(sagemaker, config("Random", max_jobs=10, parallel=2), definition(tuning_bucket, "big", static))
    import time

    deadline = time.time() + 60
    while sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)["TrainingJobStatusCounters"]["InProgress"] == 0:
        assert time.time() < deadline
        time.sleep(0.3)
    sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    described = wait_tuning(sagemaker, name)
    assert described["HyperParameterTuningJobStatus"] == "Stopped"
    assert described["TrainingJobStatusCounters"]["InProgress"] == 0
    assert described["TrainingJobStatusCounters"]["Stopped"] >= 1


def test_all_trials_failing_fails_the_tuning_job(sagemaker: Any, tuning_bucket: str) -> None:
    name = _create(sagemaker, config("Random", max_jobs=2, parallel=2), definition(tuning_bucket, "nothing-here"))
    described = wait_tuning(sagemaker, name)
    assert described["HyperParameterTuningJobStatus"] == "Failed"
    assert "training jobs failed" in described["FailureReason"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c, d: c["ParameterRanges"]["IntegerParameterRanges"][0].update(MinValue="9", MaxValue="3"), "max_depth"),
        (lambda c, d: c["ParameterRanges"]["ContinuousParameterRanges"][0].update(MinValue="0"), "eta"),
        (lambda c, d: c.update(Strategy="Grid"), "categorical"),
        (lambda c, d: c["HyperParameterTuningJobObjective"].update(MetricName="validation:nonsense"), "validation:nonsense"),
        (lambda c, d: d["StaticHyperParameters"].update(eta="0.1"), "eta"),
        (lambda c, d: c["ResourceLimits"].update(MaxParallelTrainingJobs=5, MaxNumberOfTrainingJobs=4), "MaxParallelTrainingJobs"),
    ],
)
def test_bad_tuning_configurations(sagemaker: Any, tuning_bucket: str, change: Any, expected: str) -> None:
    tuning, job = config(), definition(tuning_bucket)
    change(tuning, job)
    with pytest.raises(ClientError) as info:
        _create(sagemaker, tuning, job)
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert expected in info.value.response["Error"]["Message"]


def test_unknown_tuning_job(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as info:
        sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="never-made")
    assert info.value.response["Error"]["Code"] == "ValidationException"


def test_the_best_trial_deploys(sagemaker: Any, tuning_bucket: str) -> None:
    name = _create(sagemaker, config("Random", max_jobs=2, parallel=2), definition(tuning_bucket))
    best = wait_tuning(sagemaker, name)["BestTrainingJob"]["TrainingJobName"]
    artifact = sagemaker.describe_training_job(TrainingJobName=best)["ModelArtifacts"]["S3ModelArtifacts"]
    image = definition(tuning_bucket)["AlgorithmSpecification"]["TrainingImage"]
    sagemaker.create_model(ModelName=best, PrimaryContainer={"Image": image, "ModelDataUrl": artifact})
    sagemaker.create_endpoint_config(EndpointConfigName=best, ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": best, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
    sagemaker.create_endpoint(EndpointName=best, EndpointConfigName=best)
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=best, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    import boto3

    answer = boto3.client("sagemaker-runtime").invoke_endpoint(EndpointName=best, ContentType="text/csv", Body=b"0.03,0.05,0.06,0.02,-0.04,-0.03,-0.04,0.0,0.02,-0.01")
    assert float(answer["Body"].read()) > 0
    sagemaker.delete_endpoint(EndpointName=best)


def test_early_stopping_auto_stops_trials_worse_than_the_median(sagemaker: Any, tuning_bucket: str) -> None:
    # One trial at a time, so each decision compares with trials that have ended: a
    # learning rate 500x too small falls behind the median at once and is stopped.
    ranges = {"CategoricalParameterRanges": [{"Name": "eta", "Values": ["0.3", "0.0005"]}]}
    tuning = config("Random", max_jobs=6, parallel=1, RandomSeed=4, TrainingJobEarlyStoppingType="Auto", ranges=ranges)
    static = {"objective": "reg:squarederror", "num_round": "400", "max_depth": "6"}
    name = _create(sagemaker, tuning, definition(tuning_bucket, "big", static))
    described = wait_tuning(sagemaker, name, timeout=400)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["HyperParameterTuningJobConfig"]["TrainingJobEarlyStoppingType"] == "Auto"
    listed = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, MaxResults=100
    )["TrainingJobSummaries"]
    stopped = [t for t in listed if t["TrainingJobStatus"] == "Stopped"]
    assert stopped, [(t["TunedHyperParameters"], t["TrainingJobStatus"]) for t in listed]
    assert {t["TunedHyperParameters"]["eta"] for t in stopped} == {"0.0005"}
    assert described["TrainingJobStatusCounters"]["Stopped"] == len(stopped)
    # A stopped trial keeps the metrics it reported and still counts as scored.
    trial = sagemaker.describe_training_job(TrainingJobName=stopped[0]["TrainingJobName"])
    assert trial["SecondaryStatus"] == "Stopped"
    assert any(m["MetricName"] == "validation:rmse" for m in trial["FinalMetricDataList"])
    assert described["ObjectiveStatusCounters"]["Succeeded"] == len(listed)
    rounds_logged = [m for m in trial["FinalMetricDataList"] if m["MetricName"] == "validation:rmse"]
    assert rounds_logged
    best = described["BestTrainingJob"]
    assert best["TunedHyperParameters"]["eta"] == "0.3"


def _named_definition(bucket: str, name: str, ranges: dict[str, Any], objective_type: str = "Minimize") -> dict[str, Any]:
    job = definition(bucket)
    job.update(
        DefinitionName=name,
        HyperParameterRanges=ranges,
        TuningObjective={"Type": objective_type, "MetricName": "validation:rmse"},
    )
    return job


def test_several_training_job_definitions_share_one_tuning_job(sagemaker: Any, tuning_bucket: str) -> None:
    depth = {"IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "1", "MaxValue": "6"}]}
    rate = {"ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5"}]}
    tuning = config("Random", max_jobs=4, parallel=2, RandomSeed=5)
    del tuning["HyperParameterTuningJobObjective"], tuning["ParameterRanges"]
    name = unique("multi")[:32]
    sagemaker.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig=tuning,
        TrainingJobDefinitions=[
            _named_definition(tuning_bucket, "by-depth", depth),
            _named_definition(tuning_bucket, "by-rate", rate),
        ],
    )
    described = wait_tuning(sagemaker, name)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert [d["DefinitionName"] for d in described["TrainingJobDefinitions"]] == ["by-depth", "by-rate"]
    listed = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, SortBy="FinalObjectiveMetricValue", SortOrder="Ascending"
    )["TrainingJobSummaries"]
    by_definition: dict[str, list[dict[str, Any]]] = {}
    for trial in listed:
        by_definition.setdefault(trial["TrainingJobDefinitionName"], []).append(trial)
    assert {k: len(v) for k, v in by_definition.items()} == {"by-depth": 2, "by-rate": 2}
    assert all(set(t["TunedHyperParameters"]) == {"max_depth"} for t in by_definition["by-depth"])
    assert all(set(t["TunedHyperParameters"]) == {"eta"} for t in by_definition["by-rate"])
    assert described["BestTrainingJob"]["TrainingJobName"] == listed[0]["TrainingJobName"]
    assert described["BestTrainingJob"]["TrainingJobDefinitionName"] == listed[0]["TrainingJobDefinitionName"]


@pytest.mark.parametrize(
    ("names", "types", "expected"),
    [(["a", "a"], ["Minimize", "Minimize"], "DefinitionName"), (["a", "b"], ["Minimize", "Maximize"], "same Type")],
)
def test_bad_training_job_definitions(sagemaker: Any, tuning_bucket: str, names: list[str], types: list[str], expected: str) -> None:
    ranges = {"IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "1", "MaxValue": "6"}]}
    tuning = config("Random", max_jobs=4, parallel=2)
    del tuning["HyperParameterTuningJobObjective"], tuning["ParameterRanges"]
    with pytest.raises(ClientError) as info:
        sagemaker.create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=unique("multi")[:32],
            HyperParameterTuningJobConfig=tuning,
            TrainingJobDefinitions=[_named_definition(tuning_bucket, n, ranges, t) for n, t in zip(names, types, strict=True)],
        )
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert expected in info.value.response["Error"]["Message"]
