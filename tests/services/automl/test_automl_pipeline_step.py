"""An AutoML step in a pipeline: a real AutoML job, and a Model step made from its best candidate."""

from __future__ import annotations

from typing import Any

from tests.services.automl.conftest import request
from tests.services.pipelines.conftest import create_and_start, wait_execution
from tests.services.pipelines.definitions import definition
from tests.services.training.jobs import ROLE, unique


def test_an_automl_step_and_a_model_of_its_best_candidate(
    sagemaker: Any, automl_bucket: str
) -> None:
    arguments = request(
        automl_bucket, "ignored", AutoMLJobConfig={"CompletionCriteria": {"MaxCandidates": 1}}
    )
    del arguments["AutoMLJobName"]  # the pipeline names the job

    def container(index: int) -> dict[str, Any]:
        path = f"Steps.Autopilot.BestCandidate.InferenceContainers[{index}]"
        return {
            "Image": {"Get": f"{path}.Image"},
            "ModelDataUrl": {"Get": f"{path}.ModelDataUrl"},
            "Environment": {"Get": f"{path}.Environment"},
        }

    steps = [
        {"Name": "Autopilot", "Type": "AutoML", "Arguments": arguments},
        {
            "Name": "BestModel",
            "Type": "Model",
            "DependsOn": ["Autopilot"],
            "Arguments": {"ExecutionRoleArn": ROLE, "Containers": [container(i) for i in range(3)]},
        },
    ]
    arn = create_and_start(sagemaker, unique("automl-pipeline"), definition(steps))
    described = wait_execution(sagemaker, arn, timeout=300)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    listed = {
        s["StepName"]: s
        for s in sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)[
            "PipelineExecutionSteps"
        ]
    }
    job_arn = listed["Autopilot"]["Metadata"]["AutoMLJob"]["Arn"]
    job = sagemaker.describe_auto_ml_job(AutoMLJobName=job_arn.rsplit("/", 1)[1])
    assert job["AutoMLJobStatus"] == "Completed"
    model = sagemaker.describe_model(
        ModelName=listed["BestModel"]["Metadata"]["Model"]["Arn"].rsplit("/", 1)[1]
    )
    assert [c["ModelDataUrl"] for c in model["Containers"]] == [
        c["ModelDataUrl"] for c in job["BestCandidate"]["InferenceContainers"]
    ]
