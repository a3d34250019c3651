"""The spine's user flow with plain boto3: S3 upload, CreateTrainingJob, waiter, metrics, model."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import numpy as np
import xgboost
from sklearn.datasets import load_diabetes

from tests.services.training.jobs import channel, job_request, unique, wait_for


def test_caller_identity_is_the_local_account(sts: Any) -> None:
    identity = sts.get_caller_identity()
    assert identity["Account"] == "123456789012"
    assert identity["Arn"] == "arn:aws:sts::123456789012:assumed-role/SageMakerExecutionRole/sagebox"


def test_the_execution_role_resolves_from_the_caller_identity(sts: Any) -> None:
    import re

    import boto3

    caller = sts.get_caller_identity()["Arn"]
    role_arn = re.sub(r"^(.+)sts::(\d+):assumed-role/(.+?)/.*$", r"\1iam::\2:role/\3", caller)
    role = boto3.client("iam").get_role(RoleName=role_arn.rsplit("/", 1)[1])["Role"]
    assert role["Arn"] == role_arn == "arn:aws:iam::123456789012:role/SageMakerExecutionRole"
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}


def test_xgboost_job_trains_and_its_model_loads(sagemaker: Any, s3: Any, diabetes_bucket: str) -> None:
    name = unique("xgb-flow")
    request = job_request(
        name,
        diabetes_bucket,
        [
            channel("train", f"s3://{diabetes_bucket}/diabetes/train/"),
            channel("validation", f"s3://{diabetes_bucket}/diabetes/validation/"),
        ],
        HyperParameters={"objective": "reg:squarederror", "num_round": "25", "max_depth": "3", "eta": "0.2"},
        Tags=[{"Key": "team", "Value": "ml"}],
    )
    request["AlgorithmSpecification"]["MetricDefinitions"] = [
        {"Name": "my:validation-rmse", "Regex": r"#011validation-rmse:([0-9.]+)"},
    ]
    arn = sagemaker.create_training_job(**request)["TrainingJobArn"]
    assert arn == f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}"

    sagemaker.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    job = sagemaker.describe_training_job(TrainingJobName=name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["SecondaryStatus"] == "Completed"
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]] == [
        "Starting", "Downloading", "Training", "Uploading", "Completed",
    ]
    assert all("EndTime" in t for t in job["SecondaryStatusTransitions"])
    assert job["TrainingJobArn"] == arn
    assert job["HyperParameters"]["num_round"] == "25"
    assert job["CreationTime"] <= job["TrainingStartTime"] <= job["TrainingEndTime"]
    assert job["TrainingTimeInSeconds"] >= 0 and job["BillableTimeInSeconds"] == job["TrainingTimeInSeconds"]
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 600
    assert job["ResourceConfig"]["InstanceType"] == "ml.m5.large"

    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert {"train:rmse", "validation:rmse", "my:validation-rmse"} <= set(metrics)
    assert metrics["my:validation-rmse"] == metrics["validation:rmse"]
    assert 0 < metrics["train:rmse"] < metrics["validation:rmse"] < 100

    artifact = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifact == f"s3://{diabetes_bucket}/output/{name}/output/model.tar.gz"
    body = s3.get_object(Bucket=diabetes_bucket, Key=f"output/{name}/output/model.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        assert tar.getnames() == ["xgboost-model"]
        model_bytes = tar.extractfile("xgboost-model").read()
    booster = xgboost.Booster()
    booster.load_model(bytearray(model_bytes))
    data = load_diabetes()
    predictions = booster.predict(xgboost.DMatrix(data.data[300:]))
    rmse = float(np.sqrt(np.mean((predictions - data.target[300:]) ** 2)))
    assert abs(rmse - metrics["validation:rmse"]) < 1e-2 * metrics["validation:rmse"]

    tags = sagemaker.list_tags(ResourceArn=arn)["Tags"]
    assert tags == [{"Key": "team", "Value": "ml"}]


def test_manifest_file_channel(sagemaker: Any, s3: Any, diabetes_bucket: str) -> None:
    manifest = f'[{{"prefix": "s3://{diabetes_bucket}/diabetes/"}}, "train/part-0.csv"]'
    s3.put_object(Bucket=diabetes_bucket, Key="manifests/train.manifest", Body=manifest.encode())
    name = unique("xgb-manifest")
    sagemaker.create_training_job(
        **job_request(
            name,
            diabetes_bucket,
            [channel("train", f"s3://{diabetes_bucket}/manifests/train.manifest", data_type="ManifestFile")],
        )
    )
    job = wait_for(sagemaker, name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert {m["MetricName"] for m in job["FinalMetricDataList"]} == {"train:rmse"}
