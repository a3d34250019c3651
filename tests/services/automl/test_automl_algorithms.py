"""AlgorithmsConfig with linear-learner: one tuning job over both algorithms, each candidate deployable."""

from __future__ import annotations

import copy
import csv
import io
import json
from typing import Any

from tests.services.automl.conftest import request, wait_automl
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
