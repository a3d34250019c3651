"""CreateAutoMLJobV2 (a multiclass table) described by V2 only, and StopAutoMLJob during tuning."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.automl.conftest import request, wait_automl
from tests.services.training.jobs import ROLE, unique


def test_a_v2_tabular_job_infers_multiclass_is_described_by_v2_only_and_deploys(
    sagemaker: Any, runtime: Any, automl_bucket: str
) -> None:
    name = unique("amlv2")[:32]
    sagemaker.create_auto_ml_job_v2(
        AutoMLJobName=name,
        AutoMLJobInputDataConfig=[
            {
                "ChannelType": "training",
                "ContentType": "text/csv;header=present",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{automl_bucket}/cancer/",
                    }
                },
            }
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{automl_bucket}/output"},
        AutoMLProblemTypeConfig={
            "TabularJobConfig": {
                "TargetAttributeName": "size_band",
                "CompletionCriteria": {"MaxCandidates": 1},
                "Mode": "HYPERPARAMETER_TUNING",
            }
        },
        DataSplitConfig={"ValidationFraction": 0.25},
        ModelDeployConfig={"AutoGenerateEndpointName": True},
        RoleArn=ROLE,
    )
    wait_automl(sagemaker, name)
    described = sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)
    assert described["AutoMLJobStatus"] == "Completed", described.get("FailureReason")
    assert described["AutoMLProblemTypeConfigName"] == "Tabular"
    assert (
        described["AutoMLProblemTypeConfig"]["TabularJobConfig"]["TargetAttributeName"]
        == "size_band"
    )
    assert described["DataSplitConfig"] == {"ValidationFraction": 0.25}
    resolved = described["ResolvedAttributes"]
    assert resolved["AutoMLProblemTypeResolvedAttributes"] == {
        "TabularResolvedAttributes": {"ProblemType": "MulticlassClassification"}
    }
    assert resolved["AutoMLJobObjective"] == {"MetricName": "Accuracy"}
    assert resolved["CompletionCriteria"]["MaxCandidates"] == 1
    best = described["BestCandidate"]
    assert best["FinalAutoMLJobObjectiveMetric"]["MetricName"] == "Accuracy"
    assert (
        best["FinalAutoMLJobObjectiveMetric"]["Value"] > 0.8
    )  # the bands follow mean radius closely
    endpoint = described["ModelDeployResult"]["EndpointName"]
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "InService"
    # radius, texture, perimeter, area, smoothness, compactness, date, diagnosis (the target is size_band)
    rows = "20.57,17.77,132.9,1326.0,0.08474,0.07864,2021-03-05,malignant\n10.2,,65.0,320.0,0.1,0.08,,benign\n"
    answer = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=rows.encode()
    )
    assert answer["Body"].read().decode().split() == ["large", "small"]
    # As in SageMaker, a V2 job is described by DescribeAutoMLJobV2 only; both list it.
    with pytest.raises(ClientError) as refused:
        sagemaker.describe_auto_ml_job(AutoMLJobName=name)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert name in refused.value.response["Error"]["Message"]
    assert "DescribeAutoMLJobV2" in refused.value.response["Error"]["Message"]
    listed = sagemaker.list_auto_ml_jobs(NameContains=name)["AutoMLJobSummaries"]
    assert [s["AutoMLJobName"] for s in listed] == [name]


def test_stop_during_model_tuning_stops_its_jobs(sagemaker: Any, automl_bucket: str) -> None:
    name = unique("aml-stop")[:32]
    sagemaker.create_auto_ml_job(
        **request(
            automl_bucket, name, AutoMLJobConfig={"CompletionCriteria": {"MaxCandidates": 20}}
        )
    )
    deadline = time.time() + 120
    while (
        sagemaker.describe_auto_ml_job(AutoMLJobName=name)["AutoMLJobSecondaryStatus"]
        != "ModelTuning"
    ):
        assert time.time() < deadline
        time.sleep(0.2)
    sagemaker.stop_auto_ml_job(AutoMLJobName=name)
    described = wait_automl(sagemaker, name)
    assert described["AutoMLJobStatus"] == "Stopped"
    assert described["AutoMLJobSecondaryStatus"] == "Stopped"
    candidates = sagemaker.list_candidates_for_auto_ml_job(AutoMLJobName=name)["Candidates"]
    assert len(candidates) < 20
    assert all(c["CandidateStatus"] in ("Completed", "Stopped") for c in candidates)
    tuning = candidates[0]["CandidateName"].rsplit("-", 2)[0] if candidates else None
    if tuning:
        assert (
            sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning)[
                "HyperParameterTuningJobStatus"
            ]
            == "Stopped"
        )


def test_max_automl_job_runtime_ends_the_job_on_time(sagemaker: Any, automl_bucket: str) -> None:
    name = unique("aml-budget")[:32]
    budget = 15
    sagemaker.create_auto_ml_job(
        **request(
            automl_bucket,
            name,
            AutoMLJobConfig={
                "CompletionCriteria": {"MaxCandidates": 100, "MaxAutoMLJobRuntimeInSeconds": budget}
            },
        )
    )
    described = wait_automl(sagemaker, name)
    took = (described["EndTime"] - described["CreationTime"]).total_seconds()
    assert (
        took < budget + 10
    )  # the deadline stops the step running then; ending takes a few seconds
    if described["AutoMLJobStatus"] == "Completed":  # at least one candidate finished in time
        assert described["AutoMLJobSecondaryStatus"] == "MaxAutoMLJobRuntimeReached"
        assert "BestCandidate" in described
    else:  # the budget ran out before any candidate finished (a slow machine)
        assert described["AutoMLJobStatus"] == "Failed"
        assert (
            f"MaxAutoMLJobRuntimeInSeconds ({budget} s) was reached" in described["FailureReason"]
        )
