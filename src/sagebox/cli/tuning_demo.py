"""`sagebox demo --tuning`: a small Bayesian tuning job over the built-in XGBoost, with boto3."""

from __future__ import annotations

import time
from typing import Any


def run_tuning_demo(sagemaker: Any, bucket: str, prefix: str, image: str) -> None:
    """Tunes eta, max_depth and min_child_weight on the demo's data in s3://bucket/prefix/,
    with the built-in XGBoost `image`."""
    name = f"demo-tune-{int(time.time())}"[:32]

    def channel(channel_name: str) -> dict[str, Any]:
        return {
            "ChannelName": channel_name,
            "ContentType": "text/csv",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{prefix}/{channel_name}/"}},
        }

    sagemaker.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": "validation:auc"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {
                "ContinuousParameterRanges": [
                    {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.5", "ScalingType": "Logarithmic"},
                    {"Name": "min_child_weight", "MinValue": "1", "MaxValue": "10"},
                ],
                "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "8"}],
            },
            "RandomSeed": 0,
        },
        TrainingJobDefinition={
            "StaticHyperParameters": {"objective": "binary:logistic", "num_round": "50", "eval_metric": "auc"},
            "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
            "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
            "InputDataConfig": [channel("train"), channel("validation")],
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/tuning"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        },
    )
    print(f"8. created tuning job {name}: Bayesian search, 6 trials, 2 at a time")
    seen = -1
    while True:
        described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        counters = described["TrainingJobStatusCounters"]
        done = counters["Completed"] + counters["Stopped"] + counters["NonRetryableError"] + counters["RetryableError"]
        if done != seen:
            print(f"   {done} of 6 trials finished, {counters['InProgress']} running")
            seen = done
        if described["HyperParameterTuningJobStatus"] != "InProgress":
            break
        time.sleep(0.5)
    trials = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, SortBy="FinalObjectiveMetricValue", SortOrder="Descending"
    )["TrainingJobSummaries"]
    print(f"   {described['HyperParameterTuningJobStatus']}; trials by validation:auc:")
    for trial in trials:
        value = trial.get("FinalHyperParameterTuningJobObjectiveMetric", {}).get("Value")
        tuned = ", ".join(f"{k}={float(v):.3g}" for k, v in sorted(trial["TunedHyperParameters"].items()))
        print(f"   {trial['TrainingJobName']:<32} auc {value if value is None else f'{value:.5f}'}   {tuned}")
    print(f"   best: {described['BestTrainingJob']['TrainingJobName']}")
