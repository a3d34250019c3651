"""What CreateAutoMLJob / V2 refuse at once, each with a specific ValidationException."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.services.automl.conftest import TARGET, request
from tests.services.training.jobs import ROLE, unique


def _refused(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    assert caught.value.response["Error"]["Code"] == "ValidationException", caught.value.response
    return str(caught.value.response["Error"]["Message"])


def _v2(bucket: str, problem: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "AutoMLJobName": unique("amlv2")[:32],
        "AutoMLJobInputDataConfig": [
            {
                "ChannelType": "training",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/cancer/"}
                },
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "AutoMLProblemTypeConfig": problem,
        "RoleArn": ROLE,
        **extra,
    }


@pytest.mark.parametrize(
    "config, named",
    [
        ({"ImageClassificationJobConfig": {}}, "image classification"),
        (
            {"TextClassificationJobConfig": {"ContentColumn": "a", "TargetLabelColumn": "b"}},
            "text classification",
        ),
        ({"TextGenerationJobConfig": {}}, "text generation"),
    ],
)
def test_problem_types_sagebox_does_not_run(
    sagemaker: Any, automl_bucket: str, config: dict[str, Any], named: str
) -> None:
    message = _refused(sagemaker.create_auto_ml_job_v2, **_v2(automl_bucket, config))
    assert named in message and "not available in sagebox" in message


def test_objective_not_valid_for_the_problem_type(sagemaker: Any, automl_bucket: str) -> None:
    message = _refused(
        sagemaker.create_auto_ml_job,
        **request(
            automl_bucket,
            unique("aml")[:32],
            ProblemType="Regression",
            AutoMLJobObjective={"MetricName": "F1"},
        ),
    )
    assert "'F1' is not valid for ProblemType Regression" in message and "MSE" in message
    message = _refused(
        sagemaker.create_auto_ml_job_v2,
        **_v2(
            automl_bucket,
            {
                "TabularJobConfig": {
                    "TargetAttributeName": TARGET,
                    "ProblemType": "MulticlassClassification",
                }
            },
            AutoMLJobObjective={"MetricName": "AUC"},
        ),
    )
    assert "'AUC' is not valid for ProblemType MulticlassClassification" in message


def test_an_empty_s3_prefix(sagemaker: Any, automl_bucket: str) -> None:
    message = _refused(
        sagemaker.create_auto_ml_job,
        **request(automl_bucket, unique("aml")[:32], prefix="nothing-here"),
    )
    assert f"No data found at s3://{automl_bucket}/nothing-here/" in message


def test_modes_and_algorithms_sagebox_does_not_run(sagemaker: Any, automl_bucket: str) -> None:
    message = _refused(
        sagemaker.create_auto_ml_job,
        **request(
            automl_bucket,
            unique("aml")[:32],
            AutoMLJobConfig={
                "Mode": "ENSEMBLING",
                "CandidateGenerationConfig": {
                    "AlgorithmsConfig": [{"AutoMLAlgorithms": ["lightgbm", "deepforest"]}]
                },
            },
        ),
    )
    assert "Value 'deepforest' at 'autoMLJobConfig.candidateGenerationConfig" in message
    message = _refused(
        sagemaker.create_auto_ml_job,
        **request(
            automl_bucket,
            unique("aml")[:32],
            AutoMLJobConfig={
                "Mode": "ENSEMBLING",
                "CandidateGenerationConfig": {
                    "AlgorithmsConfig": [{"AutoMLAlgorithms": ["lightgbm", "arima"]}]
                },
            },
        ),
    )
    assert "'arima' is not an algorithm of tabular problems" in message
    assert "ENSEMBLING mode runs lightgbm, catboost, xgboost" in message
    message = _refused(
        sagemaker.create_auto_ml_job,
        **request(
            automl_bucket,
            unique("aml")[:32],
            AutoMLJobConfig={
                "Mode": "ENSEMBLING",
                "CandidateGenerationConfig": {"AlgorithmsConfig": [{"AutoMLAlgorithms": ["mlp"]}]},
            },
        ),
    )
    assert "mlp cannot be used in ENSEMBLING mode" in message
    message = _refused(
        sagemaker.create_auto_ml_job,
        **request(
            automl_bucket,
            unique("aml")[:32],
            AutoMLJobConfig={
                "Mode": "HYPERPARAMETER_TUNING",
                "CandidateGenerationConfig": {
                    "AlgorithmsConfig": [{"AutoMLAlgorithms": ["lightgbm"]}]
                },
            },
        ),
    )
    assert "lightgbm cannot be used in HYPERPARAMETER_TUNING mode" in message


def test_sample_weight_columns_refused_at_once(sagemaker: Any, automl_bucket: str) -> None:
    message = _refused(
        sagemaker.create_auto_ml_job_v2,
        **_v2(
            automl_bucket,
            {
                "TabularJobConfig": {
                    "TargetAttributeName": TARGET,
                    "SampleWeightAttributeName": TARGET,
                }
            },
        ),
    )
    assert f"SampleWeightAttributeName '{TARGET}' names the target column" in message
    # HYPERPARAMETER_TUNING: the Linear Learner has no weight column.
    job = request(
        automl_bucket,
        unique("aml")[:32],
        AutoMLJobConfig={
            "Mode": "HYPERPARAMETER_TUNING",
            "CandidateGenerationConfig": {
                "AlgorithmsConfig": [{"AutoMLAlgorithms": ["xgboost", "linear-learner"]}]
            },
        },
    )
    job["InputDataConfig"][0]["SampleWeightAttributeName"] = "row_weight"
    message = _refused(sagemaker.create_auto_ml_job, **job)
    assert "sample weights are used by xgboost candidates only" in message
    job["InputDataConfig"].append(
        {**job["InputDataConfig"][0], "ChannelType": "validation", "SampleWeightAttributeName": "w"}
    )
    job["InputDataConfig"][0]["ChannelType"] = "training"
    message = _refused(sagemaker.create_auto_ml_job, **job)
    assert "every channel must name the same SampleWeightAttributeName" in message


def test_unknown_and_duplicate_jobs(sagemaker: Any, automl_bucket: str) -> None:
    with pytest.raises(ClientError) as caught:
        sagemaker.describe_auto_ml_job(AutoMLJobName="no-such-automl-job")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFound"
    name = unique("aml")[:32]
    sagemaker.create_auto_ml_job(
        **request(automl_bucket, name, GenerateCandidateDefinitionsOnly=True)
    )
    with pytest.raises(ClientError) as caught:
        sagemaker.create_auto_ml_job(**request(automl_bucket, name))
    assert caught.value.response["Error"]["Code"] == "ResourceInUse"
    sagemaker.stop_auto_ml_job(AutoMLJobName=name)


def test_a_validation_fraction_that_leaves_no_rows(sagemaker: Any, automl_bucket: str) -> None:
    message = _refused(
        sagemaker.create_auto_ml_job,
        **request(
            automl_bucket,
            unique("aml")[:32],
            AutoMLJobConfig={"DataSplitConfig": {"ValidationFraction": 1.0}},
        ),
    )
    assert "ValidationFraction must be between 0 and 1" in message and "1.0 was given" in message


def test_candidate_definitions_only_in_hyperparameter_tuning_mode(
    sagemaker: Any, automl_bucket: str
) -> None:
    # Definitions-only is the HPO candidate definition notebook: ENSEMBLING has none to give.
    for call, kwargs in (
        (
            sagemaker.create_auto_ml_job,
            request(
                automl_bucket,
                unique("aml")[:32],
                AutoMLJobConfig={"Mode": "ENSEMBLING"},
                GenerateCandidateDefinitionsOnly=True,
            ),
        ),
        (
            sagemaker.create_auto_ml_job_v2,
            _v2(
                automl_bucket,
                {
                    "TabularJobConfig": {
                        "TargetAttributeName": TARGET,
                        "Mode": "ENSEMBLING",
                        "GenerateCandidateDefinitionsOnly": True,
                    }
                },
            ),
        ),
    ):
        message = _refused(call, **kwargs)
        assert (
            "GenerateCandidateDefinitionsOnly is supported in HYPERPARAMETER_TUNING mode only"
            in (message)
        )
        assert "ENSEMBLING" in message
    # AUTO settles on HYPERPARAMETER_TUNING for a definitions-only job, whatever the data's size.
    name = unique("aml")[:32]
    auto = request(automl_bucket, name, GenerateCandidateDefinitionsOnly=True)
    auto["AutoMLJobConfig"]["Mode"] = "AUTO"
    sagemaker.create_auto_ml_job(**auto)
    try:
        described = sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)
        tabular = described["AutoMLProblemTypeConfig"]["TabularJobConfig"]
        assert tabular["Mode"] == "HYPERPARAMETER_TUNING"
        assert tabular["GenerateCandidateDefinitionsOnly"] is True
    finally:
        sagemaker.stop_auto_ml_job(AutoMLJobName=name)
