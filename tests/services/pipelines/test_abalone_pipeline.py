"""The abalone MLOps pipeline through the SageMaker Python SDK v2, unchanged, against a live server.

First run: every step runs as a real job (or model, registry entry, transform), the
condition holds, the model is registered and created and the batch transform runs.
Second run: a threshold the model misses ends the execution Failed at the FailStep with
its Join-built message. Third run, the pipeline upserted with CacheConfig: the unchanged
steps reuse the second run's jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.services.pipelines.abalone import ROLE, abalone_pipeline
from tests.services.pipelines.conftest import steps_of, unique

JOB_STEPS = {
    "AbaloneProcess": "ProcessingJob",
    "AbaloneTrain": "TrainingJob",
    "AbaloneTune": "TuningJob",
    "AbaloneEval": "ProcessingJob",
    "AbaloneTransform": "TransformJob",
}


@dataclass
class Abalone:
    name: str
    group: str
    bucket: str
    pipeline: Any
    first: Any
    second: Any = None
    """The run that failed at the FailStep, whose steps the cached run reuses."""


@pytest.fixture(scope="module")
def abalone(sagebox_server: Any, pipelines_bucket: str) -> Abalone:
    name, group = unique("abalone"), unique("AbaloneGroup")
    pipeline = abalone_pipeline(name, pipelines_bucket, group)
    pipeline.upsert(role_arn=ROLE, description="the abalone example")
    execution = pipeline.start(
        parameters={"MseThreshold": 6000.0, "TrainingInstanceType": "ml.m5.large"}
    )
    execution.wait(delay=1, max_attempts=300)
    return Abalone(name, group, pipelines_bucket, pipeline, execution)


def test_the_first_run_runs_every_step_for_real(abalone: Abalone, sagemaker: Any, s3: Any) -> None:
    described = abalone.first.describe()
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    steps = {s["StepName"]: s for s in abalone.first.list_steps()}
    assert set(steps) == {
        "AbaloneProcess",
        "AbaloneTrain",
        "AbaloneTune",
        "AbaloneEval",
        "AbaloneMSECond",
        "AbaloneRegisterModel-RegisterModel",
        "AbaloneCreateModel-CreateModel",
        "AbaloneTransform",
        "AbaloneBestTunedModel-CreateModel",
    }  # the FailStep of the branch not taken did not run
    assert all(s["StepStatus"] == "Succeeded" and s["AttemptCount"] == 1 for s in steps.values())
    assert steps["AbaloneMSECond"]["Metadata"] == {"Condition": {"Outcome": "True"}}
    training = sagemaker.describe_training_job(
        TrainingJobName=steps["AbaloneTrain"]["Metadata"]["TrainingJob"]["Arn"].split("/")[-1]
    )
    assert training["TrainingJobStatus"] == "Completed"
    processed = sagemaker.describe_processing_job(
        ProcessingJobName=steps["AbaloneProcess"]["Metadata"]["ProcessingJob"]["Arn"].split("/")[-1]
    )
    execution_id = abalone.first.arn.split("/")[-1]
    train_uri = processed["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    assert execution_id in train_uri  # the SDK's output paths hold the execution id, resolved
    assert training["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == train_uri
    tags = {
        t["Key"]: t["Value"]
        for t in sagemaker.list_tags(ResourceArn=training["TrainingJobArn"])["Tags"]
    }
    assert tags["sagemaker:pipeline-execution-arn"] == abalone.first.arn
    package = sagemaker.describe_model_package(
        ModelPackageName=steps["AbaloneRegisterModel-RegisterModel"]["Metadata"]["RegisterModel"][
            "Arn"
        ]
    )
    assert package["ModelPackageGroupName"] == abalone.group
    assert (
        package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
        == training["ModelArtifacts"]["S3ModelArtifacts"]
    )
    transform = sagemaker.describe_transform_job(
        TransformJobName=steps["AbaloneTransform"]["Metadata"]["TransformJob"]["Arn"].split("/")[-1]
    )
    model_name = steps["AbaloneCreateModel-CreateModel"]["Metadata"]["Model"]["Arn"].split("/")[-1]
    assert transform["TransformJobStatus"] == "Completed" and transform["ModelName"] == model_name
    listed = s3.list_objects_v2(Bucket=abalone.bucket, Prefix="abalone/transform/")["Contents"]
    predictions = (
        s3.get_object(Bucket=abalone.bucket, Key=listed[0]["Key"])["Body"].read().decode().split()
    )
    assert len(predictions) == 20  # one per row of the batch data
    tuning = sagemaker.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=steps["AbaloneTune"]["Metadata"]["TuningJob"]["Arn"].split("/")[
            -1
        ]
    )
    best = sagemaker.describe_model(
        ModelName=steps["AbaloneBestTunedModel-CreateModel"]["Metadata"]["Model"]["Arn"].split("/")[
            -1
        ]
    )
    assert tuning["BestTrainingJob"]["TrainingJobName"] in best["PrimaryContainer"]["ModelDataUrl"]


def test_the_execution_keeps_its_parameters_and_definition(
    abalone: Abalone, sagemaker: Any
) -> None:
    parameters = {
        p["Name"]: p["Value"] for p in abalone.first.list_parameters()["PipelineParameters"]
    }
    assert parameters["MseThreshold"] == "6000.0"
    assert parameters["ProcessingInstanceCount"] == "1"  # defaults are listed too
    assert parameters["ShuffleData"] == "true"
    processed = sagemaker.describe_processing_job(
        ProcessingJobName=abalone.first.list_steps()[-1]["Metadata"]["ProcessingJob"]["Arn"].split(
            "/"
        )[-1]
    )
    assert processed["AppSpecification"]["ContainerArguments"] == ["--shuffle", "true"]
    definition = sagemaker.describe_pipeline_definition_for_execution(
        PipelineExecutionArn=abalone.first.arn
    )
    assert '"AbaloneMSEFail"' in definition["PipelineDefinition"]
    listed = sagemaker.list_pipeline_executions(PipelineName=abalone.name)[
        "PipelineExecutionSummaries"
    ]
    assert (
        listed[0]["PipelineExecutionArn"] == abalone.first.arn
        and listed[0]["PipelineExecutionStatus"] == "Succeeded"
    )
    pipeline = sagemaker.describe_pipeline(PipelineName=abalone.name)
    assert (
        pipeline["PipelineDescription"] == "the abalone example"
        and pipeline["LastRunTime"] is not None
    )


def test_a_missed_threshold_fails_at_the_fail_step_with_its_message(
    abalone: Abalone, sagemaker: Any
) -> None:
    execution = abalone.pipeline.start(parameters={"MseThreshold": 10.0})
    with pytest.raises(Exception, match="Waiter encountered a terminal failure state"):
        execution.wait(delay=1, max_attempts=300)
    described = execution.describe()
    assert described["PipelineExecutionStatus"] == "Failed"
    assert "AbaloneMSEFail" in described["FailureReason"]
    assert "Execution failed due to MSE > 10.0" in described["FailureReason"]
    steps = {s["StepName"]: s for s in execution.list_steps()}
    assert steps["AbaloneMSECond"]["Metadata"] == {"Condition": {"Outcome": "False"}}
    assert steps["AbaloneMSEFail"]["StepStatus"] == "Failed"
    assert (
        steps["AbaloneMSEFail"]["Metadata"]["Fail"]["ErrorMessage"]
        == "Execution failed due to MSE > 10.0"
    )
    assert "AbaloneRegisterModel-RegisterModel" not in steps and "AbaloneTransform" not in steps
    abalone.second = execution


def test_a_cached_run_reuses_the_unchanged_steps(abalone: Abalone, sagemaker: Any) -> None:
    second = abalone.second
    if second is None:
        pytest.skip("needs the second run")
    cached = abalone_pipeline(abalone.name, abalone.bucket, abalone.group, cache=True)
    answer = cached.upsert(role_arn=ROLE)
    assert answer["PipelineVersionId"] == 2
    execution = cached.start()
    execution.wait(delay=1, max_attempts=300)
    steps = {s["StepName"]: s for s in execution.list_steps()}
    earlier = steps_of(sagemaker, second.arn)
    for name in ("AbaloneProcess", "AbaloneTrain", "AbaloneTune", "AbaloneEval"):
        assert steps[name]["CacheHitResult"] == {"SourcePipelineExecutionArn": second.arn}, name
        assert steps[name]["Metadata"] == earlier[name]["Metadata"], name
    assert (
        "CacheHitResult" not in steps["AbaloneTransform"]
    )  # its model is new, so its inputs changed
    versions = sagemaker.list_pipeline_versions(PipelineName=abalone.name)[
        "PipelineVersionSummaries"
    ]
    assert [v["PipelineVersionId"] for v in versions] == [2, 1]
    assert versions[0]["LastExecutionPipelineExecutionArn"] == execution.arn


def test_the_execution_is_a_lineage_context_with_its_jobs_and_models(
    abalone: Abalone, sagemaker: Any
) -> None:
    contexts = sagemaker.list_contexts(SourceUri=abalone.first.arn)["ContextSummaries"]
    assert len(contexts) == 1 and contexts[0]["ContextType"] == "PipelineExecution"
    edges = sagemaker.list_associations(DestinationArn=contexts[0]["ContextArn"], MaxResults=100)
    sources = {e["SourceArn"] for e in edges["AssociationSummaries"]}
    steps = {s["StepName"]: s for s in abalone.first.list_steps()}
    training = sagemaker.describe_training_job(
        TrainingJobName=steps["AbaloneTrain"]["Metadata"]["TrainingJob"]["Arn"].split("/")[-1]
    )
    assert any(a.endswith(f"/{training['TrainingJobName']}-aws-training-job") for a in sources)
    package = steps["AbaloneRegisterModel-RegisterModel"]["Metadata"]["RegisterModel"]["Arn"]
    model_data = training["ModelArtifacts"]["S3ModelArtifacts"]
    for uri in (package, model_data):
        artifact = sagemaker.list_artifacts(SourceUri=uri)["ArtifactSummaries"][0]["ArtifactArn"]
        assert artifact in sources, uri
