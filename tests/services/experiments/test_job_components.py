"""The trial components SageMaker keeps for jobs, and where ExperimentConfig puts them."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from botocore.exceptions import ClientError

from tests.services.processing.jobs import python_job, s3_output
from tests.services.processing.jobs import wait_for as wait_for_processing
from tests.services.training.jobs import channel, job_request, unique
from tests.services.training.jobs import wait_for as wait_for_training
from tests.services.transform.jobs import train_model, transform_request, wait_for_transform


def _record(sagemaker: Any, component: str, timeout: float = 10) -> dict[str, Any]:
    """The component's Search record once its job's end has reached it."""
    deadline = time.time() + timeout
    while True:
        found = sagemaker.search(
            Resource="ExperimentTrialComponent",
            SearchExpression={"Filters": [{"Name": "TrialComponentName", "Operator": "Equals", "Value": component}]},
        )["Results"]
        record = found[0]["TrialComponent"] if found else {}
        if record.get("EndTime") or time.time() > deadline:
            return record
        time.sleep(0.1)


def test_a_processing_job_with_an_experiment_only_gets_a_trial_of_its_own(sagemaker: Any, s3: Any) -> None:
    bucket, experiment, job = unique("proc-exp"), unique("exp"), unique("proc")
    s3.create_bucket(Bucket=bucket)
    sagemaker.create_experiment(ExperimentName=experiment)
    output = f"s3://{bucket}/out"
    arn = sagemaker.create_processing_job(
        **python_job(
            job, "open('/opt/ml/processing/output/x.txt', 'w').write('x')",
            ProcessingOutputConfig={"Outputs": [s3_output("result", output, "/opt/ml/processing/output")]},
            ExperimentConfig={"ExperimentName": experiment},
        )
    )["ProcessingJobArn"]
    component = f"{job}-aws-processing-job"
    running = sagemaker.describe_trial_component(TrialComponentName=component)
    assert running["Source"] == {"SourceArn": arn, "SourceType": "SageMakerProcessingJob"}
    assert wait_for_processing(sagemaker, job)["ProcessingJobStatus"] == "Completed"
    record = _record(sagemaker, component)
    assert record["Status"] == {"PrimaryStatus": "Completed"}
    assert record["EndTime"] >= record["StartTime"]
    assert record["Parameters"] == {
        "SageMaker.InstanceCount": {"NumberValue": 1.0},
        "SageMaker.InstanceType": {"StringValue": "ml.m5.large"},
        "SageMaker.VolumeSizeInGB": {"NumberValue": 5.0},
    }
    assert record["OutputArtifacts"] == {"result": {"Value": output}}
    assert set(record["InputArtifacts"]) == {"SageMaker.ImageUri"}
    assert record["Parents"] == [{"TrialName": component, "ExperimentName": experiment}]
    assert sagemaker.describe_trial(TrialName=component)["ExperimentName"] == experiment
    assert record["SourceDetail"]["ProcessingJob"]["ProcessingJobStatus"] == "Completed"


def test_a_failed_training_job_in_a_named_trial(sagemaker: Any, s3: Any) -> None:
    bucket, experiment, trial, job = unique("fail-exp"), unique("exp"), unique("trial"), unique("fails")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="train/data.csv", Body=b"label,first,second\nnot,a,number\n")
    sagemaker.create_experiment(ExperimentName=experiment)
    sagemaker.create_trial(TrialName=trial, ExperimentName=experiment)
    sagemaker.create_training_job(
        **job_request(
            job, bucket, [channel("train", f"s3://{bucket}/train/")],
            HyperParameters={"objective": "reg:squarederror", "num_round": "2"},
            ExperimentConfig={"TrialName": trial, "TrialComponentDisplayName": "Training"},
        )
    )
    described = wait_for_training(sagemaker, job)
    assert described["TrainingJobStatus"] == "Failed"
    record = _record(sagemaker, f"{job}-aws-training-job")
    assert record["DisplayName"] == "Training"
    assert record["Status"] == {"PrimaryStatus": "Failed", "Message": described["FailureReason"]}
    assert record["Parents"] == [{"TrialName": trial, "ExperimentName": experiment}]
    assert record["Parameters"]["objective"] == {"StringValue": "reg:squarederror"}
    assert record["Metrics"] == [] and "SageMaker.ModelArtifact" not in record["OutputArtifacts"]


def test_every_job_gets_a_component_and_a_transform_job_joins_its_trial(sagemaker: Any, s3: Any) -> None:
    bucket, experiment, trial = unique("tr-exp"), unique("exp"), unique("trial")
    s3.create_bucket(Bucket=bucket)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 2))
    model = train_model(sagemaker, s3, bucket, x, x @ np.array([1.0, 2.0]))
    trained = sagemaker.list_trial_components(
        SourceArn=sagemaker.describe_model(ModelName=model.name)["PrimaryContainer"]["ModelDataUrl"]
    )["TrialComponentSummaries"]
    assert trained == []  # a model's data is no job's ARN
    sagemaker.create_experiment(ExperimentName=experiment)
    sagemaker.create_trial(TrialName=trial, ExperimentName=experiment)
    s3.put_object(Bucket=bucket, Key="batch/in.csv", Body=b"0.5,1.5\n1,2\n")
    job = unique("transform")
    arn = sagemaker.create_transform_job(
        **transform_request(
            job, model, f"s3://{bucket}/batch/", f"s3://{bucket}/batch-out",
            ExperimentConfig={"ExperimentName": experiment, "TrialName": trial},
        )
    )["TransformJobArn"]
    assert wait_for_transform(sagemaker, job)["TransformJobStatus"] == "Completed"
    record = _record(sagemaker, f"{job}-aws-transform-job")
    assert record["Source"] == {"SourceArn": arn, "SourceType": "SageMakerTransformJob"}
    assert record["Status"] == {"PrimaryStatus": "Completed"}
    assert record["InputArtifacts"] == {
        "SageMaker.TransformInput": {"Value": f"s3://{bucket}/batch/", "MediaType": "text/csv"}
    }
    assert record["OutputArtifacts"] == {"SageMaker.TransformOutput": {"Value": f"s3://{bucket}/batch-out"}}
    assert record["Parameters"]["SageMaker.ModelName"] == {"StringValue": model.name}
    assert record["Parents"] == [{"TrialName": trial, "ExperimentName": experiment}]
    training = sagemaker.search(
        Resource="ExperimentTrialComponent",
        SearchExpression={"Filters": [
            {"Name": "Source.SourceType", "Operator": "Equals", "Value": "SageMakerTrainingJob"},
            {"Name": "Parameters.num_round", "Operator": "Equals", "Value": "15"},
            {"Name": "Metrics.train:rmse.Count", "Operator": "Equals", "Value": "15"},
        ]},
    )["Results"]
    assert len(training) >= 1 and all(r["TrialComponent"]["Parents"] == [] for r in training)


def test_an_experiment_config_naming_what_does_not_exist_refuses_the_job(sagemaker: Any, s3: Any) -> None:
    experiment, other, trial = unique("exp"), unique("other"), unique("trial")
    sagemaker.create_experiment(ExperimentName=experiment)
    sagemaker.create_experiment(ExperimentName=other)
    sagemaker.create_trial(TrialName=trial, ExperimentName=other)
    cases = [
        ({"ExperimentName": unique("absent")}, "ResourceNotFound", "ExperimentConfig.ExperimentName"),
        ({"TrialName": unique("absent")}, "ResourceNotFound", "ExperimentConfig.TrialName"),
        ({"ExperimentName": experiment, "TrialName": trial}, "ValidationException", f"'{other}'"),
    ]
    for config, code, words in cases:
        job = unique("refused")
        try:
            sagemaker.create_processing_job(**python_job(job, "print('never')", ExperimentConfig=config))
            raise AssertionError(f"{config} was accepted")
        except ClientError as error:
            assert error.response["Error"]["Code"] == code, (config, error.response)
            assert words in error.response["Error"]["Message"], error.response
        try:
            sagemaker.describe_processing_job(ProcessingJobName=job)
            raise AssertionError("a refused job must not exist")
        except ClientError as error:
            assert "Could not find" in error.response["Error"]["Message"]
