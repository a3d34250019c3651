"""SageMaker Pipelines: the scheduler's own overhead per step, and a fan-out's parallelism.

Overhead: the abalone pipeline of the tests (``tests/services/pipelines/abalone.py``, SDK
v2 code) runs a few times on a fresh ``sagebox serve``. For every step that waits for
other steps, two gaps are measured from what the API reports: from the moment its last
input was done (the end time of the upstream job, or the end of an upstream step that
made no job) to the step starting (StartTime), and from the step starting to its job
being created (the job's CreationTime; a step without a job is done as it starts). Their
sum is the scheduler's overhead for that step; SageMaker itself documents minutes of
step start-up.

Fan-out: 20 independent processing steps that each sleep a few seconds, with
MaxParallelExecutionSteps 4, against a one-step pipeline of the same step, timed in the
same run (create to the execution's end, as the API reports it), on a server with enough
job slots. Ideal is 20 / 4 = 5 times the one step.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sagebox.cli.server_process import ServerProcess

ROLE = "arn:aws:iam::123456789012:role/Bench"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
ABALONE_RUNS = 3
FAN_OUT, PARALLEL, SLEEP_SECONDS = 20, 4, 3
OVERHEAD_TARGET_MS = 100.0
FAN_OUT_TARGET = 1.3
JOB_KINDS = {
    "TrainingJob": ("describe_training_job", "TrainingJobName", "TrainingEndTime"),
    "ProcessingJob": ("describe_processing_job", "ProcessingJobName", "ProcessingEndTime"),
    "TransformJob": ("describe_transform_job", "TransformJobName", "TransformEndTime"),
    "TuningJob": (
        "describe_hyper_parameter_tuning_job",
        "HyperParameterTuningJobName",
        "HyperParameterTuningEndTime",
    ),
}


def _wait(sagemaker: Any, arn: str, timeout: float = 900) -> dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
        if described["PipelineExecutionStatus"] not in ("Executing", "Stopping"):
            if described["PipelineExecutionStatus"] != "Succeeded":
                raise RuntimeError(
                    f"benchmark execution {arn} ended {described['PipelineExecutionStatus']}: {described.get('FailureReason')}"
                )
            return described
        time.sleep(0.2)
    raise TimeoutError(f"benchmark execution {arn} did not end")


def _step_times(sagemaker: Any, step: dict[str, Any]) -> tuple[float, float | None, float]:
    """(start, job created or None, done) of a step, in epoch seconds."""
    start, end = step["StartTime"].timestamp(), step["EndTime"].timestamp()
    for kind, (operation, member, end_member) in JOB_KINDS.items():
        found = (step.get("Metadata") or {}).get(kind)
        if found:
            job = getattr(sagemaker, operation)(**{member: found["Arn"].split("/")[-1]})
            return start, job["CreationTime"].timestamp(), job[end_member].timestamp()
    return start, None, end


def _overheads(sagemaker: Any, arn: str) -> list[tuple[float, float | None]]:
    """(completion-to-start, start-to-job-created or None for a step without a job) of every
    step that had inputs to wait for."""
    definition = json.loads(
        sagemaker.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)[
            "PipelineDefinition"
        ]
    )
    steps = {
        s["StepName"]: s
        for s in sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)[
            "PipelineExecutionSteps"
        ]
    }
    times = {name: _step_times(sagemaker, step) for name, step in steps.items()}
    from sagebox.services.pipelines.definition import parse_definition
    from sagebox.services.pipelines.graph import PipelineGraph

    graph = PipelineGraph(parse_definition(json.dumps(definition)))
    gaps = []
    for name, (start, created, _) in times.items():
        inputs = [times[d][2] for d in graph.dependencies[name] if d in times]
        if not inputs:
            continue
        ready = max(inputs)
        gaps.append((start - ready, (created - start) if created is not None else None))
    return gaps


def _abalone(sagemaker: Any, s3: Any, bucket: str) -> list[tuple[float, float | None]]:
    from tests.services.pipelines.abalone import abalone_pipeline, upload_data

    upload_data(s3, bucket)
    pipeline = abalone_pipeline("bench-abalone", bucket, "BenchAbalone")
    pipeline.upsert(role_arn=ROLE)
    gaps: list[tuple[float, float | None]] = []
    for _ in range(ABALONE_RUNS):
        execution = pipeline.start()
        _wait(sagemaker, execution.arn)
        gaps += _overheads(sagemaker, execution.arn)
    return gaps


def _sleep_step(name: str) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceType": "ml.m5.large",
                    "InstanceCount": 1,
                    "VolumeSizeInGB": 1,
                }
            },
            "AppSpecification": {
                "ImageUri": IMAGE,
                "ContainerEntrypoint": [
                    "python3",
                    "-c",
                    f"import time; time.sleep({SLEEP_SECONDS})",
                ],
            },
            "RoleArn": ROLE,
        },
    }


def _timed_pipeline(sagemaker: Any, steps: int, parallel: int | None) -> float:
    name = f"bench-fan-{steps}-{uuid.uuid4().hex[:6]}"
    definition = {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [_sleep_step(f"Sleep{i}") for i in range(steps)],
    }
    sagemaker.create_pipeline(
        PipelineName=name,
        PipelineDefinition=json.dumps(definition),
        RoleArn=ROLE,
        ClientRequestToken=uuid.uuid4().hex,
    )
    extra = (
        {"ParallelismConfiguration": {"MaxParallelExecutionSteps": parallel}} if parallel else {}
    )
    arn = sagemaker.start_pipeline_execution(
        PipelineName=name, ClientRequestToken=uuid.uuid4().hex, **extra
    )["PipelineExecutionArn"]
    described = _wait(sagemaker, arn)
    return described["LastModifiedTime"].timestamp() - described["CreationTime"].timestamp()


def run() -> dict[str, Any]:
    import boto3

    with tempfile.TemporaryDirectory(prefix="sagebox-bench-") as home:
        server = ServerProcess(Path(home), {"SAGEBOX_MAX_CONCURRENT_JOBS": "8"}).start()
        try:
            os.environ.update(
                AWS_ACCESS_KEY_ID="test",
                AWS_SECRET_ACCESS_KEY="test",
                AWS_DEFAULT_REGION="us-east-1",
                AWS_ENDPOINT_URL=server.endpoint_url,
                SAGEMAKER_SUPPRESS_V2_WARNING="1",
            )
            s3 = boto3.client("s3")
            sagemaker = boto3.client("sagemaker")
            s3.create_bucket(Bucket="bench-pipelines")
            gaps = _abalone(sagemaker, s3, "bench-pipelines")
            singles = [_timed_pipeline(sagemaker, 1, None)]
            fan_out = _timed_pipeline(sagemaker, FAN_OUT, PARALLEL)
            singles.append(_timed_pipeline(sagemaker, 1, None))
        finally:
            server.stop()
    totals = [(a + (b or 0.0)) * 1000 for a, b in gaps]
    p50 = statistics.median(totals)
    waits = statistics.median(a * 1000 for a, _ in gaps)
    creates = statistics.median(b * 1000 for _, b in gaps if b is not None)
    one = statistics.median(singles)
    ratio = fan_out / (FAN_OUT / PARALLEL * one)
    return {
        "name": "pipeline_scheduling",
        "rows": [
            {
                "measure": "scheduler overhead per step, inputs done to job created (ms, p50)",
                "sagebox": f"{p50:.0f}",
                "reference": f"p50s: {waits:.0f} from inputs done to step started, {creates:.0f} from step started "
                f"to job created (steps with a job); p90 {statistics.quantiles(totals, n=10)[-1]:.0f}",
                "target": f"<= {OVERHEAD_TARGET_MS:.0f} ms",
                "met": "yes" if p50 <= OVERHEAD_TARGET_MS else "no",
            },
            {
                "measure": f"fan-out of {FAN_OUT} steps, MaxParallelExecutionSteps {PARALLEL} (s)",
                "sagebox": f"{fan_out:.1f}",
                "reference": f"{one:.1f} (one step's pipeline) x {FAN_OUT // PARALLEL}",
                "ratio": f"{ratio:.2f}x",
                "target": f"<= {FAN_OUT_TARGET}x",
                "met": "yes" if ratio <= FAN_OUT_TARGET else "no",
            },
        ],
        "notes": f"The abalone pipeline of the tests (SDK v2; processing, training, a 2-trial tuning job, evaluation, "
        f"condition, registration, two models and a batch transform), {ABALONE_RUNS} runs, {len(gaps)} steps "
        f"waiting for inputs; the fan-out steps are processing jobs sleeping {SLEEP_SECONDS} s, on a server with "
        "8 job slots; one step's pipeline timed before and after the fan-out (median of 2).",
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
