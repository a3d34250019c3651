"""Search through boto3 and the SageMaker SDK v2 against a live server, on real jobs.

Three tiny built-in XGBoost training jobs with different hyperparameters (and so
different final metrics), a small tuning job and an endpoint. This module's jobs
carry a tag unique to the run, so other tests' jobs on the shared server never
change what is asserted.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from sklearn.datasets import load_diabetes

from tests.services.training.jobs import (
    ROLE,
    XGBOOST_IMAGE,
    channel,
    csv_bytes,
    job_request,
    unique,
    wait_for,
)

RUN = unique("run")
SETTINGS = [("0.1", "2", "5"), ("0.3", "3", "10"), ("0.5", "4", "20")]  # eta, max_depth, num_round


@pytest.fixture(scope="module")
def bucket(s3: Any) -> str:
    name = unique("search-data")
    s3.create_bucket(Bucket=name)
    data = load_diabetes()
    x, y = data.data.astype(np.float64), data.target.astype(np.float64)
    s3.put_object(Bucket=name, Key="train/data.csv", Body=csv_bytes(x[:300], y[:300]))
    s3.put_object(Bucket=name, Key="validation/data.csv", Body=csv_bytes(x[300:], y[300:]))
    return name


@pytest.fixture(scope="module")
def jobs(sagemaker: Any, bucket: str) -> dict[str, dict[str, Any]]:
    """Name -> DescribeTrainingJob of three completed jobs, in creation order."""
    names = []
    for position, (eta, depth, rounds) in enumerate(SETTINGS):
        name = unique(f"search-{position}")
        request = job_request(
            name,
            bucket,
            [
                channel("train", f"s3://{bucket}/train/"),
                channel("validation", f"s3://{bucket}/validation/"),
            ],
            HyperParameters={
                "objective": "reg:squarederror",
                "eta": eta,
                "max_depth": depth,
                "num_round": rounds,
            },
            Tags=[{"Key": "search-run", "Value": RUN}, {"Key": "position", "Value": str(position)}],
        )
        sagemaker.create_training_job(**request)
        names.append(name)
    described = {name: wait_for(sagemaker, name, timeout=300) for name in names}
    for job in described.values():
        assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    return described


def metric(job: dict[str, Any], name: str) -> float:
    return next(m["Value"] for m in job["FinalMetricDataList"] if m["MetricName"] == name)


def ours(*more: dict[str, Any]) -> dict[str, Any]:
    return {"Filters": [{"Name": "Tags.search-run", "Operator": "Equals", "Value": RUN}, *more]}


def found(result: dict[str, Any]) -> list[str]:
    return [record["TrainingJob"]["TrainingJobName"] for record in result["Results"]]


def test_tag_filter_sorted_by_a_final_metric(
    sagemaker: Any, jobs: dict[str, dict[str, Any]]
) -> None:
    result = sagemaker.search(
        Resource="TrainingJob",
        SearchExpression=ours(),
        SortBy="Metrics.validation:rmse",
        SortOrder="Ascending",
    )
    assert found(result) == sorted(jobs, key=lambda name: metric(jobs[name], "validation:rmse"))
    assert result["TotalHits"] == {"Value": 3, "Relation": "EqualTo"}
    record = result["Results"][0]["TrainingJob"]
    described = jobs[record["TrainingJobName"]]
    for member in (
        "TrainingJobArn",
        "HyperParameters",
        "FinalMetricDataList",
        "ModelArtifacts",
        "CreationTime",
    ):
        assert record[member] == described[member], member
    assert {"Key": "search-run", "Value": RUN} in record["Tags"]
    threshold = sorted(metric(job, "validation:rmse") for job in jobs.values())[1]
    below = sagemaker.search(
        Resource="TrainingJob",
        SearchExpression=ours(
            {
                "Name": "Metrics.validation:rmse",
                "Operator": "LessThanOrEqualTo",
                "Value": repr(threshold),
            }
        ),
    )
    assert sorted(found(below)) == sorted(
        n for n, j in jobs.items() if metric(j, "validation:rmse") <= threshold
    )


def test_hyperparameters_compare_and_sort_as_numbers(
    sagemaker: Any, jobs: dict[str, dict[str, Any]]
) -> None:
    by_rounds = {job["HyperParameters"]["num_round"]: name for name, job in jobs.items()}
    # As text, "10" and "20" are less than "9" and "5" greater than it.
    more = sagemaker.search(
        Resource="TrainingJob",
        SearchExpression=ours(
            {"Name": "HyperParameters.num_round", "Operator": "GreaterThan", "Value": "9"}
        ),
        SortBy="HyperParameters.num_round",
        SortOrder="Descending",
    )
    assert found(more) == [by_rounds["20"], by_rounds["10"]]
    small = sagemaker.search(
        Resource="TrainingJob",
        SearchExpression=ours(
            {"Name": "HyperParameters.eta", "Operator": "LessThanOrEqualTo", "Value": "0.3"}
        ),
        SortBy="HyperParameters.eta",
        SortOrder="Ascending",
    )
    assert found(small) == [by_rounds["5"], by_rounds["10"]]
    text = sagemaker.search(
        Resource="TrainingJob",
        SearchExpression=ours(
            {"Name": "HyperParameters.objective", "Operator": "Contains", "Value": "squared"}
        ),
    )
    assert len(found(text)) == 3


def test_pages_and_the_paginator(sagemaker: Any, jobs: dict[str, dict[str, Any]]) -> None:
    everything = found(
        sagemaker.search(Resource="TrainingJob", SearchExpression=ours(), SortBy="TrainingJobName")
    )
    assert everything == sorted(jobs, reverse=True)  # SortOrder defaults to Descending
    pages, token = [], None
    while True:
        page = sagemaker.search(
            Resource="TrainingJob", SearchExpression=ours(), SortBy="TrainingJobName", MaxResults=1,
            **({"NextToken": token} if token else {}),
        )  # fmt: skip
        pages.append(found(page))
        token = page.get("NextToken")
        if token is None:
            break
    assert pages == [[name] for name in everything]
    paginated = sagemaker.get_paginator("search").paginate(
        Resource="TrainingJob", SearchExpression=ours(), SortBy="CreationTime", SortOrder="Ascending",
        PaginationConfig={"PageSize": 2},
    )  # fmt: skip
    assert [name for page in paginated for name in found(page)] == list(jobs)


def test_nested_filters_and_sub_expressions(
    sagemaker: Any, jobs: dict[str, dict[str, Any]], bucket: str
) -> None:
    nested = ours()
    nested["NestedFilters"] = [
        {
            "NestedPropertyName": "InputDataConfig",
            "Filters": [
                {
                    "Name": "InputDataConfig.ChannelName",
                    "Operator": "Equals",
                    "Value": "validation",
                },
                {
                    "Name": "InputDataConfig.DataSource.S3DataSource.S3Uri",
                    "Operator": "Contains",
                    "Value": f"{bucket}/validation",
                },
            ],
        }
    ]
    assert len(found(sagemaker.search(Resource="TrainingJob", SearchExpression=nested))) == 3
    nested["NestedFilters"][0]["Filters"][0]["Value"] = (
        "train"  # no train channel reads validation/
    )
    assert found(sagemaker.search(Resource="TrainingJob", SearchExpression=nested)) == []
    either = {
        "Operator": "And",
        "SubExpressions": [
            ours(),
            {
                "Operator": "Or",
                "Filters": [
                    {"Name": "Tags.position", "Operator": "Equals", "Value": "0"},
                    {"Name": "Tags.position", "Operator": "In", "Value": "2,7"},
                ],
            },
        ],
    }
    names = list(jobs)
    assert sorted(
        found(sagemaker.search(Resource="TrainingJob", SearchExpression=either))
    ) == sorted([names[0], names[2]])
    status = ours({"Name": "TrainingJobStatus", "Operator": "NotEquals", "Value": "Completed"})
    assert found(sagemaker.search(Resource="TrainingJob", SearchExpression=status)) == []
    since = ours(
        {"Name": "TrainingEndTime", "Operator": "GreaterThan", "Value": "2020-01-01T00:00:00"}
    )
    assert len(found(sagemaker.search(Resource="TrainingJob", SearchExpression=since))) == 3


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"Resource": "Pipeline"}, "Search does not support resource Pipeline"),
        ({"Resource": "Bogus"}, "enum value set"),
        ({"SearchExpression": {"Filters": [{"Name": "NoSuchMember", "Value": "x"}]}}, "'NoSuchMember' is not a searchable property of resource TrainingJob"),
        ({"SearchExpression": {"Filters": [{"Name": "TrainingJobName", "Operator": "GreaterThan", "Value": "a"}]}}, "not supported for 'TrainingJobName', which is text"),
        ({"SearchExpression": {"Filters": [{"Name": "Metrics.train:rmse", "Operator": "LessThan", "Value": "low"}]}}, "must be an integer or a decimal number"),
        ({"SearchExpression": {"Filters": [{"Name": "ResourceConfig.InstanceCount", "Operator": "In", "Value": "1,2"}]}}, "not supported"),
        ({"SearchExpression": {"Filters": [{"Name": "FailureReason", "Operator": "Exists", "Value": "x"}]}}, "takes no Value"),
        ({"SearchExpression": {"Filters": [{"Name": "FailureReason", "Operator": "Contains"}]}}, "needs a Value"),
        ({"SearchExpression": {}}, "at least one of Filters, NestedFilters or SubExpressions"),
        ({"SearchExpression": {"Filters": [{"Name": "RoleArn", "Operator": "Contains", "Value": "a"}, {"Name": "TrainingJobName", "Operator": "Contains", "Value": "b"}]}}, "'CONTAINS' operator usage limit of 1 exceeded."),
        ({"SearchExpression": {"NestedFilters": [{"NestedPropertyName": "RoleArn", "Filters": [{"Name": "RoleArn.X", "Value": "y"}]}]}}, "is not a list of objects"),
        ({"SortBy": "Tags.search-run"}, "Cannot sort TrainingJob by the tag property"),
        ({"SortBy": "EnableNetworkIsolation"}, "Cannot sort TrainingJob by 'EnableNetworkIsolation'"),
        ({"NextToken": "not-a-token"}, "Invalid pagination token"),
    ],
)  # fmt: skip
def test_refusals_are_validation_exceptions(
    sagemaker: Any, request_: dict[str, Any], message: str
) -> None:
    with pytest.raises(ClientError) as info:
        sagemaker.search(**{"Resource": "TrainingJob", **request_})
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert message in info.value.response["Error"]["Message"]


def test_tuning_jobs_and_their_training_jobs(sagemaker: Any, bucket: str) -> None:
    name = unique("search-tune")[:32]
    definition = {
        "StaticHyperParameters": {"objective": "reg:squarederror", "num_round": "5"},
        "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "InputDataConfig": [
            channel("train", f"s3://{bucket}/train/"),
            channel("validation", f"s3://{bucket}/validation/"),
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/tuning"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }
    config = {
        "Strategy": "Random",
        "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "validation:rmse"},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 2},
        "ParameterRanges": {
            "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "5"}]
        },
    }
    arn = sagemaker.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, HyperParameterTuningJobConfig=config, TrainingJobDefinition=definition,
        Tags=[{"Key": "search-run", "Value": RUN}],
    )["HyperParameterTuningJobArn"]  # fmt: skip
    deadline = time.time() + 300
    while sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)[
        "HyperParameterTuningJobStatus"
    ] not in ("Completed", "Failed", "Stopped"):
        assert time.time() < deadline, f"tuning job {name} did not finish"
        time.sleep(1)
    tuning = sagemaker.search(
        Resource="HyperParameterTuningJob",
        SearchExpression={
            "Filters": [
                {"Name": "HyperParameterTuningJobName", "Operator": "Equals", "Value": name}
            ]
        },
    )["Results"]
    assert len(tuning) == 1
    record = tuning[0]["HyperParameterTuningJob"]
    assert record["HyperParameterTuningJobArn"] == arn
    assert record["HyperParameterTuningJobStatus"] == "Completed"
    assert record["TrainingJobStatusCounters"]["Completed"] == 2
    assert record["Tags"] == [{"Key": "search-run", "Value": RUN}]
    by_tag = sagemaker.search(Resource="HyperParameterTuningJob", SearchExpression=ours())
    assert [
        r["HyperParameterTuningJob"]["HyperParameterTuningJobName"] for r in by_tag["Results"]
    ] == [name]
    trials = sagemaker.search(
        Resource="TrainingJob",
        SearchExpression={
            "Filters": [{"Name": "TuningJobArn", "Operator": "Equals", "Value": arn}]
        },
        SortBy="Metrics.validation:rmse",
        SortOrder="Ascending",
    )
    assert len(trials["Results"]) == 2
    assert found(trials)[0] == record["BestTrainingJob"]["TrainingJobName"]


def test_endpoints(sagemaker: Any, jobs: dict[str, dict[str, Any]]) -> None:
    job = next(iter(jobs.values()))
    model, config, endpoint = (
        unique("search-model"),
        unique("search-config"),
        unique("search-endpoint"),
    )
    sagemaker.create_model(
        ModelName=model, ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"]},
    )  # fmt: skip
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": model,
        "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large",
    }
    sagemaker.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[variant])
    sagemaker.create_endpoint(
        EndpointName=endpoint, EndpointConfigName=config, Tags=[{"Key": "search-run", "Value": RUN}]
    )
    sagemaker.get_waiter("endpoint_in_service").wait(
        EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    try:
        serving = sagemaker.search(
            Resource="Endpoint",
            SearchExpression=ours(
                {"Name": "EndpointStatus", "Operator": "Equals", "Value": "InService"}
            ),
        )["Results"]
        assert [r["Endpoint"]["EndpointName"] for r in serving] == [endpoint]
        record = serving[0]["Endpoint"]
        assert record["EndpointConfigName"] == config
        assert record["ProductionVariants"][0]["VariantName"] == "AllTraffic"
    finally:
        sagemaker.delete_endpoint(EndpointName=endpoint)
        sagemaker.delete_endpoint_config(EndpointConfigName=config)
        sagemaker.delete_model(ModelName=model)
    assert sagemaker.search(Resource="Endpoint", SearchExpression=ours())["Results"] == []


def test_the_sdk_v2_session_search(sagebox_server: Any, jobs: dict[str, dict[str, Any]]) -> None:
    sdk = pytest.importorskip("sagemaker", reason="the SageMaker Python SDK is a dev dependency")
    from sagemaker.analytics import ExperimentAnalytics

    session = sdk.Session()
    result = session.search(
        resource="TrainingJob",
        search_expression=ours(),
        sort_by="Metrics.train:rmse",
        sort_order="Ascending",
        max_results=2,
    )
    assert found(result) == sorted(jobs, key=lambda name: metric(jobs[name], "train:rmse"))[:2]
    assert "NextToken" in result
    # The SDK's experiment analytics search trial components (none in this run's experiment).
    frame = ExperimentAnalytics(
        experiment_name=unique("no-experiment"), sagemaker_session=session
    ).dataframe()
    assert frame.empty
