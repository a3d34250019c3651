"""Tuning SageMaker's own algorithms: trials read their #quality_metric lines."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from sklearn.datasets import load_breast_cancer

from tests.algorithms.jobs.workflow import csv_rows, image, make_bucket, put
from tests.services.training.jobs import ROLE, unique
from tests.services.tuning.conftest import wait_tuning


def _definition(bucket: str, repository: str, static: dict[str, str]) -> dict[str, Any]:
    def channel(name: str) -> dict[str, Any]:
        return {
            "ChannelName": name, "ContentType": "text/csv",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{name}/"}},
        }

    return {
        "StaticHyperParameters": static,
        "AlgorithmSpecification": {"TrainingImage": image(repository), "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "InputDataConfig": [channel("train"), channel("validation")],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/tuning-output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


@pytest.fixture(scope="module")
def cancer_bucket(s3: Any) -> str:
    bucket = make_bucket(s3, "tune-ll")
    data = load_breast_cancer()
    x = (data.data - data.data.mean(axis=0)) / data.data.std(axis=0)
    order = np.random.default_rng(0).permutation(len(x))
    train, validation = order[:400], order[400:]
    put(s3, bucket, "train/data.csv", csv_rows(x[train], data.target[train]))
    put(s3, bucket, "validation/data.csv", csv_rows(x[validation], data.target[validation]))
    return bucket


def test_hyperband_tunes_linear_learner_over_epochs(sagemaker: Any, cancer_bucket: str) -> None:
    static = {"predictor_type": "binary_classifier", "feature_dim": "30", "mini_batch_size": "50", "num_models": "1"}
    name = unique("tune-ll")[:32]
    sagemaker.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig={
            "Strategy": "Hyperband",
            "StrategyConfig": {"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}},
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:binary_classification_accuracy"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {"ContinuousParameterRanges": [
                {"Name": "learning_rate", "MinValue": "0.0001", "MaxValue": "0.5", "ScalingType": "Logarithmic"},
            ]},
            "RandomSeed": 3,
        },
        TrainingJobDefinition=_definition(cancer_bucket, "linear-learner", static),
    )
    described = wait_tuning(sagemaker, name, timeout=400)
    assert described["HyperParameterTuningJobStatus"] == "Completed", described.get("FailureReason")
    best = described["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["MetricName"] == "validation:binary_classification_accuracy"
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] > 0.9
    trial = sagemaker.describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert 1 <= int(trial["HyperParameters"]["epochs"]) <= 9


def test_hyperband_needs_an_algorithm_that_trains_in_rounds(sagemaker: Any, cancer_bucket: str) -> None:
    with pytest.raises(ClientError) as info:
        sagemaker.create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=unique("tune-pca")[:32],
            HyperParameterTuningJobConfig={
                "Strategy": "Hyperband",
                "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "train:progress"},
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
                "ParameterRanges": {"IntegerParameterRanges": [{"Name": "num_components", "MinValue": "1", "MaxValue": "5"}]},
            },
            TrainingJobDefinition=_definition(cancer_bucket, "pca", {"feature_dim": "30", "mini_batch_size": "100"}),
        )
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "the pca algorithm has no such hyperparameter" in info.value.response["Error"]["Message"]
