"""An AutoML job through boto3: create, wait, candidates, the best one deployed and invoked with raw rows."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.services.automl.conftest import check_report_steps, request, wait_automl
from tests.services.training.jobs import unique

# Raw rows as a client sends them: the training columns less the target, strings and gaps as they come.
RAW_ROWS = (
    "17.99,,122.8,1001.0,0.1184,0.2776,large,2020-01-01\n"  # a malignant row with a missing value
    "13.54,14.36,87.46,566.3,0.09779,0.08129,,2020-06-01\n"  # a benign row with a missing category
    "20.57,17.77,132.9,1326.0,0.08474,0.07864,large,2021-03-05\n"
)


@pytest.fixture(scope="module")
def finished(sagemaker: Any, automl_bucket: str) -> dict[str, Any]:
    name = unique("aml")[:32]
    sagemaker.create_auto_ml_job(
        **request(automl_bucket, name, Tags=[{"Key": "team", "Value": "ml"}])
    )
    seen: list[str] = []
    return {**wait_automl(sagemaker, name, seen=seen), "seen": seen}


def test_each_report_is_made_in_its_own_status_in_sagemakers_order(
    sagemaker: Any, finished: dict[str, Any]
) -> None:
    check_report_steps(sagemaker, finished["AutoMLJobName"], finished["seen"])
    assert finished["seen"][-3:] == [
        "GeneratingExplainabilityReport",
        "GeneratingModelInsightsReport",
        "MaxCandidatesReached",
    ]


def test_job_completes_with_a_best_candidate(finished: dict[str, Any]) -> None:
    assert finished["AutoMLJobStatus"] == "Completed", finished.get("FailureReason")
    assert finished["AutoMLJobSecondaryStatus"] == "MaxCandidatesReached"
    assert "ProblemType" not in finished  # not given: reported in ResolvedAttributes
    assert finished["ResolvedAttributes"] == {
        "AutoMLJobObjective": {"MetricName": "F1"},
        "ProblemType": "BinaryClassification",
        "CompletionCriteria": {
            "MaxCandidates": 2,
            "MaxRuntimePerTrainingJobInSeconds": 86400,
            "MaxAutoMLJobRuntimeInSeconds": 2592000,
        },
    }
    assert finished["EndTime"] >= finished["CreationTime"]
    best = finished["BestCandidate"]
    assert best["FinalAutoMLJobObjectiveMetric"]["MetricName"] == "F1"
    assert best["FinalAutoMLJobObjectiveMetric"]["Type"] == "Maximize"
    assert best["FinalAutoMLJobObjectiveMetric"]["Value"] > 0.8
    assert best["ObjectiveStatus"] == "Succeeded"
    assert [c["Image"].rsplit("/", 1)[1].split(":")[0] for c in best["InferenceContainers"]] == [
        "sagemaker-sklearn-automl",
        "sagemaker-xgboost",
        "sagemaker-sklearn-automl",
    ]
    assert (
        best["InferenceContainers"][2]["Environment"]["AUTOML_TRANSFORM_MODE"]
        == "inverse-label-transform"
    )


def test_the_work_is_visible_as_processing_tuning_and_training_jobs(
    sagemaker: Any, finished: dict[str, Any]
) -> None:
    steps = finished["BestCandidate"]["CandidateSteps"]
    assert [s["CandidateStepType"] for s in steps] == [
        "AWS::SageMaker::ProcessingJob",
        "AWS::SageMaker::ProcessingJob",
        "AWS::SageMaker::TrainingJob",
    ]
    for step in steps[:2]:
        job = sagemaker.describe_processing_job(ProcessingJobName=step["CandidateStepName"])
        assert job["ProcessingJobStatus"] == "Completed"
        assert job["ProcessingJobArn"] == step["CandidateStepArn"]
        assert job["AutoMLJobArn"] == finished["AutoMLJobArn"]
    training = sagemaker.describe_training_job(TrainingJobName=steps[2]["CandidateStepName"])
    assert training["TrainingJobStatus"] == "Completed"
    assert "TuningJobArn" in training  # candidates come from a real tuning job
    assert training["AutoMLJobArn"] == finished["AutoMLJobArn"]
    tuning = training["TuningJobArn"].rsplit("/", 1)[1]
    assert "AutoMLJobArn" not in sagemaker.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning
    )
    listed = sagemaker.list_training_jobs(NameContains=finished["AutoMLJobName"][:19])[
        "TrainingJobSummaries"
    ]
    assert steps[2]["CandidateStepName"] in {job["TrainingJobName"] for job in listed}


def test_the_best_candidate_has_its_reports(s3: Any, finished: dict[str, Any]) -> None:
    import json

    locations = finished["BestCandidate"]["CandidateProperties"]["CandidateArtifactLocations"]

    def read(uri: str, name: str) -> dict[str, Any]:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return json.loads(s3.get_object(Bucket=bucket, Key=f"{key}/{name}")["Body"].read())

    insights = read(locations["ModelInsights"], "model_insights.json")
    assert insights["labels"] == ["benign", "malignant"]
    assert sum(map(sum, insights["confusion_matrix"])) == 114  # the validation split's rows
    # The objective is the kept model's (early stopping keeps the best round's, and reports it):
    # the insights score that model on the same validation split (xgboost prints 5 decimals).
    objective = finished["BestCandidate"]["FinalAutoMLJobObjectiveMetric"]["Value"]
    assert insights["metrics"]["F1"] == pytest.approx(objective, abs=1e-5)
    assert len(insights["roc_curve"]["true_positive_rate"]) > 2
    shap = read(locations["Explainability"], "analysis.json")["explanations"]["kernel_shap"][
        "label0"
    ]["global_shap_values"]
    assert set(shap) <= {
        "mean radius",
        "mean texture",
        "mean perimeter",
        "mean area",
        "mean smoothness",
        "mean compactness",
        "size_band",
        "seen",
    }
    assert max(shap, key=shap.get) in {
        "mean radius",
        "mean perimeter",
        "mean area",
        "mean compactness",
    }


def test_data_exploration_and_candidate_definition_notebooks(
    s3: Any, finished: dict[str, Any]
) -> None:
    import json

    artifacts = finished["AutoMLJobArtifacts"]

    def read(uri: str) -> bytes:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    for location in artifacts.values():
        assert json.loads(read(location))["nbformat"] == 4
    folder = artifacts["DataExplorationNotebookLocation"].rsplit("/", 1)[0]
    exploration = json.loads(read(f"{folder}/data_exploration.json"))
    assert exploration["columns"]["mean texture"]["missing"] == 40
    assert exploration["columns"]["size_band"]["type"] == "categorical"
    assert exploration["columns"]["seen"]["type"] == "datetime"
    assert exploration["target_distribution"] == {"benign": 357, "malignant": 212}


def test_candidates_filter_sort_and_page(sagemaker: Any, finished: dict[str, Any]) -> None:
    name = finished["AutoMLJobName"]
    everything = sagemaker.list_candidates_for_auto_ml_job(AutoMLJobName=name)["Candidates"]
    assert len(everything) == 2
    ranked = sagemaker.list_candidates_for_auto_ml_job(
        AutoMLJobName=name, SortBy="FinalObjectiveMetricValue", SortOrder="Descending"
    )["Candidates"]
    values = [c["FinalAutoMLJobObjectiveMetric"]["Value"] for c in ranked]
    assert values == sorted(values, reverse=True)
    assert (
        ranked[0]["FinalAutoMLJobObjectiveMetric"]["Value"]
        == finished["BestCandidate"]["FinalAutoMLJobObjectiveMetric"]["Value"]
    )
    one = sagemaker.list_candidates_for_auto_ml_job(
        AutoMLJobName=name, CandidateNameEquals=everything[1]["CandidateName"]
    )
    assert [c["CandidateName"] for c in one["Candidates"]] == [everything[1]["CandidateName"]]
    assert (
        sagemaker.list_candidates_for_auto_ml_job(AutoMLJobName=name, StatusEquals="Failed")[
            "Candidates"
        ]
        == []
    )
    page = sagemaker.list_candidates_for_auto_ml_job(AutoMLJobName=name, MaxResults=1)
    rest = sagemaker.list_candidates_for_auto_ml_job(
        AutoMLJobName=name, MaxResults=1, NextToken=page["NextToken"]
    )
    assert [c["CandidateName"] for c in page["Candidates"] + rest["Candidates"]] == [
        c["CandidateName"] for c in everything
    ]
    metrics = {
        m["StandardMetricName"]: m for m in everything[0]["CandidateProperties"]["CandidateMetrics"]
    }
    assert set(metrics) == {"F1", "AUC", "Accuracy", "LogLoss"}
    assert metrics["F1"]["Value"] == everything[0]["FinalAutoMLJobObjectiveMetric"]["Value"]
    assert {"MetricName": "AUC", "Set": "Validation"}.items() <= metrics["AUC"].items()
    assert 0.5 < metrics["Accuracy"]["Value"] <= 1 and "MetricName" not in metrics["LogLoss"]


def test_list_auto_ml_jobs_filters_and_tags(sagemaker: Any, finished: dict[str, Any]) -> None:
    name = finished["AutoMLJobName"]
    listed = sagemaker.list_auto_ml_jobs(NameContains=name, StatusEquals="Completed")[
        "AutoMLJobSummaries"
    ]
    assert [job["AutoMLJobName"] for job in listed] == [name]
    assert listed[0]["AutoMLJobSecondaryStatus"] == "MaxCandidatesReached"
    assert (
        sagemaker.list_auto_ml_jobs(NameContains=name, StatusEquals="Failed")["AutoMLJobSummaries"]
        == []
    )
    tags = sagemaker.list_tags(ResourceArn=finished["AutoMLJobArn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "ml"}]


def _endpoint(sagemaker: Any, containers: list[dict[str, Any]]) -> str:
    model = unique("aml-model")
    sagemaker.create_model(
        ModelName=model,
        Containers=containers,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
    )
    endpoint = unique("aml-endpoint")
    sagemaker.create_endpoint_config(
        EndpointConfigName=endpoint,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=endpoint)
    sagemaker.get_waiter("endpoint_in_service").wait(
        EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 90}
    )
    return endpoint


def test_best_candidate_serves_raw_rows_with_labels(
    sagemaker: Any, runtime: Any, finished: dict[str, Any]
) -> None:
    endpoint = _endpoint(sagemaker, finished["BestCandidate"]["InferenceContainers"])
    answer = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=RAW_ROWS.encode()
    )
    labels = answer["Body"].read().decode().split()
    assert labels == ["malignant", "benign", "malignant"]


def test_inference_response_keys_as_the_sdk_sets_them(
    sagemaker: Any, runtime: Any, finished: dict[str, Any]
) -> None:
    from sagemaker.automl.automl import AutoML

    containers = copy.deepcopy(finished["BestCandidate"]["InferenceContainers"])
    AutoML.validate_and_update_inference_response(
        containers, ["predicted_label", "probability", "probabilities", "labels"]
    )
    endpoint = _endpoint(sagemaker, containers)
    answer = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=RAW_ROWS.encode()
    )
    import csv
    import io
    import json

    rows = list(csv.reader(io.StringIO(answer["Body"].read().decode())))
    assert [row[0] for row in rows] == ["malignant", "benign", "malignant"]
    for label, probability, probabilities, labels in rows:
        assert json.loads(labels) == ["benign", "malignant"]
        pair = json.loads(probabilities)
        assert abs(sum(pair) - 1) < 1e-6
        assert float(probability) == pytest.approx(
            pair[1]
        )  # binary: the second class's probability
        assert (pair[1] > 0.5) == (label == "malignant")


def test_best_candidate_in_a_batch_transform(
    sagemaker: Any, s3: Any, automl_bucket: str, finished: dict[str, Any]
) -> None:
    model = unique("aml-batch")
    sagemaker.create_model(
        ModelName=model,
        Containers=finished["BestCandidate"]["InferenceContainers"],
        ExecutionRoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
    )
    s3.put_object(Bucket=automl_bucket, Key="batch/in/rows.csv", Body=RAW_ROWS.encode())
    job = unique("aml-batch")
    sagemaker.create_transform_job(
        TransformJobName=job,
        ModelName=model,
        TransformInput={
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"s3://{automl_bucket}/batch/in/",
                }
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={
            "S3OutputPath": f"s3://{automl_bucket}/batch/out/",
            "AssembleWith": "Line",
        },
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )
    sagemaker.get_waiter("transform_job_completed_or_stopped").wait(
        TransformJobName=job, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    described = sagemaker.describe_transform_job(TransformJobName=job)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    out = s3.get_object(Bucket=automl_bucket, Key="batch/out/rows.csv.out")["Body"].read().decode()
    assert out.split() == ["malignant", "benign", "malignant"]
