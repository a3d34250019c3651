"""Tuning a training script in a framework image: its metric comes from its log."""

from __future__ import annotations

import json
from typing import Any

import botocore.exceptions
import pytest

from tests.archives import tar_gz
from tests.services.training.jobs import unique
from tests.services.tuning.conftest import definition, wait_tuning

SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
METRIC = {"Name": "validation-rmse", "Regex": "validation-rmse=([0-9.]+)"}
SCRIPT = '''
import argparse
import os

import numpy as np
from sklearn.linear_model import Ridge


def load(channel):
    folder = os.environ["SM_CHANNEL_" + channel.upper()]
    table = np.vstack([np.loadtxt(os.path.join(folder, f), delimiter=",", ndmin=2) for f in sorted(os.listdir(folder))])
    return table[:, 1:], table[:, 0]


parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float, required=True)
args = parser.parse_args()  # an unknown argument would fail the trial
model = Ridge(alpha=args.alpha).fit(*load("train"))
x, y = load("validation")
print(f"validation-rmse={np.sqrt(np.mean((model.predict(x) - y) ** 2)):.6f}")
'''


def _script_definition(s3: Any, bucket: str) -> dict[str, Any]:
    key = f"{unique('source')}/sourcedir.tar.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=tar_gz({"train.py": SCRIPT}))
    plan = definition(bucket, static={
        "sagemaker_program": json.dumps("train.py"),
        "sagemaker_submit_directory": json.dumps(f"s3://{bucket}/{key}"),
        "_tuning_objective_metric": json.dumps(METRIC["Name"]),  # the SDK adds this for framework estimators
    })
    plan["AlgorithmSpecification"] = {"TrainingImage": SKLEARN_IMAGE, "TrainingInputMode": "File", "MetricDefinitions": [METRIC]}
    return plan


def _config(strategy: str = "Random", metric: str = METRIC["Name"]) -> dict[str, Any]:
    return {
        "Strategy": strategy,
        "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": metric},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 3, "MaxParallelTrainingJobs": 3},
        "ParameterRanges": {
            "ContinuousParameterRanges": [{"Name": "alpha", "MinValue": "0.001", "MaxValue": "10", "ScalingType": "Logarithmic"}]
        },
    }


def test_a_training_script_is_tuned_on_the_metric_its_log_prints(sagemaker: Any, s3: Any, tuning_bucket: str) -> None:
    name = unique("tune-script")
    sagemaker.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, HyperParameterTuningJobConfig=_config(),
        TrainingJobDefinition=_script_definition(s3, tuning_bucket),
    )
    described = wait_tuning(sagemaker, name)
    assert described["HyperParameterTuningJobStatus"] == "Completed", described.get("FailureReason")
    trials = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)["TrainingJobSummaries"]
    assert len(trials) == 3 and {t["TrainingJobStatus"] for t in trials} == {"Completed"}
    values = {t["TrainingJobName"]: t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for t in trials}
    assert all(40 < v < 90 for v in values.values())  # diabetes RMSE of a ridge model
    best = described["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == min(values.values())
    assert float(best["TunedHyperParameters"]["alpha"]) > 0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c, d: c.update(_config(metric="validation:rmse")), "'validation:rmse' is not emitted by the training script's MetricDefinitions"),
        (lambda c, d: c.update(Strategy="Hyperband"), "training script does not declare"),
        (lambda c, d: d["StaticHyperParameters"].pop("sagemaker_program"), "HyperParameters must name it in 'sagemaker_program'"),
    ],
)
def test_bad_script_tuning_jobs(sagemaker: Any, s3: Any, tuning_bucket: str, change: Any, expected: str) -> None:
    config, plan = _config(), _script_definition(s3, tuning_bucket)
    change(config, plan)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        sagemaker.create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=unique("tune-bad"), HyperParameterTuningJobConfig=config, TrainingJobDefinition=plan,
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert expected in caught.value.response["Error"]["Message"]
