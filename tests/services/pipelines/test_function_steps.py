"""The abalone pipeline written with ``@step`` functions, through the SDK v2 against a live server.

Each function runs as a training job with this machine's Python: the SDK's driver reads
the pickled function and arguments from S3, and the return value goes back to S3 as
SageMaker's does, where the next function and ``execution.result()`` read it. A second,
selective execution runs only the condition against a lower threshold, reusing the
first execution's functions, and fails at the FailStep.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.services.pipelines.abalone import ROLE
from tests.services.pipelines.conftest import unique
from tests.services.pipelines.functions import function_pipeline


def test_function_steps_run_as_jobs_and_pass_their_results(
    sagebox_server: Any, pipelines_bucket: str, sagemaker: Any
) -> None:
    from sagemaker.workflow.selective_execution_config import SelectiveExecutionConfig

    pipeline = function_pipeline(unique("abalone-functions"), pipelines_bucket)
    pipeline.upsert(role_arn=ROLE)
    execution = pipeline.start()
    execution.wait(delay=1, max_attempts=400)
    steps = {s["StepName"]: s for s in execution.list_steps()}
    assert {name: s["StepStatus"] for name, s in steps.items()} == {
        "Train": "Succeeded",
        "Evaluate": "Succeeded",
        "CheckMse": "Succeeded",
    }
    job = sagemaker.describe_training_job(
        TrainingJobName=steps["Evaluate"]["Metadata"]["TrainingJob"]["Arn"].split("/")[-1]
    )
    assert job["AlgorithmSpecification"]["ContainerEntrypoint"][0] == "/bin/bash"
    report = execution.result("Evaluate")
    assert report["rows"] == 89 and 1000 < report["mse"] < 6000
    model, test_rows = execution.result("Train")
    assert test_rows.shape == (89, 11) and model.num_boosted_rounds() == 20

    again = pipeline.start(
        parameters={"MseThreshold": 10.0},
        selective_execution_config=SelectiveExecutionConfig(
            source_pipeline_execution_arn=execution.arn, selected_steps=["CheckMse"]
        ),
    )
    with pytest.raises(Exception, match="terminal failure state"):
        again.wait(delay=1, max_attempts=120)
    described = again.describe()
    assert described["SelectiveExecutionConfig"]["SourcePipelineExecutionArn"] == execution.arn
    assert "MSE is above 10.0" in described["FailureReason"]
    reran = {s["StepName"]: s for s in again.list_steps()}
    assert reran["Evaluate"]["SelectiveExecutionResult"] == {
        "SourcePipelineExecutionArn": execution.arn
    }
    assert reran["Evaluate"]["Metadata"] == steps["Evaluate"]["Metadata"]
    assert reran["CheckMse"]["Metadata"] == {"Condition": {"Outcome": "False"}}
    assert reran["MseTooHigh"]["StepStatus"] == "Failed"
