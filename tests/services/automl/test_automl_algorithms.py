"""AlgorithmsConfig with linear-learner: one tuning job over both algorithms, each candidate
deployable; sample weights in HYPERPARAMETER_TUNING mode."""

from __future__ import annotations

import copy
import csv
import io
import json
from typing import Any

import numpy as np
import pytest

from tests.services.automl.conftest import csv_of, request, table, wait_automl
from tests.services.automl.test_automl_flow import RAW_ROWS, _endpoint
from tests.services.training.jobs import unique


def test_xgboost_and_linear_learner_candidates(
    sagemaker: Any, runtime: Any, automl_bucket: str
) -> None:
    from sagemaker.automl.automl import AutoML

    name = unique("aml-algos")[:32]
    sagemaker.create_auto_ml_job(
        **request(
            automl_bucket,
            name,
            AutoMLJobConfig={
                "CompletionCriteria": {"MaxCandidates": 2},
                "Mode": "HYPERPARAMETER_TUNING",
                "CandidateGenerationConfig": {
                    "AlgorithmsConfig": [{"AutoMLAlgorithms": ["xgboost", "linear-learner"]}]
                },
            },
        )
    )
    described = wait_automl(sagemaker, name)
    assert described["AutoMLJobStatus"] == "Completed", described.get("FailureReason")
    candidates = sagemaker.list_candidates_for_auto_ml_job(AutoMLJobName=name)["Candidates"]
    images = {
        c["InferenceContainers"][1]["Image"].rsplit("/", 1)[1].split(":")[0]: c for c in candidates
    }
    assert set(images) == {"sagemaker-xgboost", "linear-learner"}
    linear = images["linear-learner"]
    assert linear["FinalAutoMLJobObjectiveMetric"]["MetricName"] == "F1"
    assert linear["FinalAutoMLJobObjectiveMetric"]["Value"] > 0.8
    containers = copy.deepcopy(linear["InferenceContainers"])
    AutoML.validate_and_update_inference_response(containers, ["predicted_label", "probabilities"])
    endpoint = _endpoint(sagemaker, containers)
    answer = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=RAW_ROWS.encode()
    )
    rows = list(csv.reader(io.StringIO(answer["Body"].read().decode())))
    assert [row[0] for row in rows] == ["malignant", "benign", "malignant"]
    assert all(abs(sum(json.loads(row[1])) - 1) < 1e-6 for row in rows)


def test_hyperparameter_tuning_with_sample_weights(
    sagemaker: Any, s3: Any, automl_bucket: str
) -> None:
    """HPO mode's XGBoost candidates read the weight column (csv_weights); the job, its
    reports and its best candidate complete as without weights."""
    frame = table()
    frame["importance"] = np.where(frame["mean radius"] > 15, 3.0, 1.0)
    frame.loc[frame.index[::50], "importance"] = 0.0
    s3.put_object(Bucket=automl_bucket, Key="hpo-weighted/train.csv", Body=csv_of(frame))
    name = unique("aml-hpow")[:32]
    job = request(
        automl_bucket,
        name,
        prefix="hpo-weighted",
        AutoMLJobConfig={"CompletionCriteria": {"MaxCandidates": 1}},
    )
    job["InputDataConfig"][0]["SampleWeightAttributeName"] = "importance"
    sagemaker.create_auto_ml_job(**job)
    described = wait_automl(sagemaker, name)
    assert described["AutoMLJobStatus"] == "Completed", described.get("FailureReason")
    assert described["InputDataConfig"][0]["SampleWeightAttributeName"] == "importance"
    best = described["BestCandidate"]
    assert best["FinalAutoMLJobObjectiveMetric"]["Value"] > 0.8
    trial = sagemaker.describe_training_job(TrainingJobName=best["CandidateName"])
    assert trial["HyperParameters"]["csv_weights"] == "1"
    assert trial["Environment"] == {"SAGEBOX_WEIGHTED_METRICS": "1"}
    locations = best["CandidateProperties"]["CandidateArtifactLocations"]
    assert "Explainability" in locations and "ModelInsights" in locations
    # The objective (F1, computed by the container, not by xgboost) is weighed by the sample
    # weights, as the model insights' metrics are; the insights' confusion matrix counts rows.
    bucket, _, key = locations["ModelInsights"].removeprefix("s3://").partition("/")
    insights = json.loads(
        s3.get_object(Bucket=bucket, Key=f"{key}/model_insights.json")["Body"].read()
    )
    objective = best["FinalAutoMLJobObjectiveMetric"]["Value"]
    assert objective == pytest.approx(insights["metrics"]["F1"], abs=1e-4)
    (_, false_positive), (false_negative, true_positive) = insights["confusion_matrix"]
    unweighted = 2 * true_positive / (2 * true_positive + false_positive + false_negative)
    assert abs(objective - unweighted) > 1e-3  # the weights change the value on this split
