"""The lineage of pipeline executions: a context per execution, and what its steps made.

StartPipelineExecution makes a context (ContextType ``PipelineExecution``, Source.SourceUri
the execution's ARN, its pipeline and execution in Properties). As steps run, the trial
component of each training, processing and transform job a step starts, the artifact of
each model package a RegisterModel step registers and the model-data artifacts of each
model a Model step creates are AssociatedWith that context;
so QueryLineage from the execution's context reaches the jobs, and through their own
lineage the data they read and the models they made. The group of a registered package
keeps the execution's ARN in its context's Properties (PipelineExecutionArn), where the
SDK's ModelPackageGroup lineage looks for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sagebox.services.events import ResourceEvent
from sagebox.services.lineage.vertices import JOB_TRIAL_COMPONENTS

if TYPE_CHECKING:
    from sagebox.services.lineage.recorder import LineageRecorder

EXECUTION_CONTEXT = "PipelineExecution"
_JOB_COMPONENTS = {job.job_kind: job for job in JOB_TRIAL_COMPONENTS}
MAX_CONTEXT_NAME = 120


def context_name(execution_arn: str) -> str:
    """``<pipeline>-<execution id>-aws-pipeline-execution``, within a context name's 120 characters."""
    resource = execution_arn.split(":", 5)[-1]  # pipeline/<pipeline>/execution/<id>
    parts = resource.split("/")
    pipeline, execution = (parts[1], parts[3]) if len(parts) >= 4 else ("pipeline", parts[-1])
    tail = f"-{execution}-aws-pipeline-execution"
    return f"{pipeline[: MAX_CONTEXT_NAME - len(tail)].rstrip('-')}{tail}"


def _context(recorder: LineageRecorder, execution_arn: str, pipeline_arn: str) -> str:
    return recorder.context(
        context_name(execution_arn),
        {
            "Source": {"SourceUri": execution_arn, "SourceType": "ARN"},
            "ContextType": EXECUTION_CONTEXT,
            "Properties": {"PipelineArn": pipeline_arn, "PipelineExecutionArn": execution_arn},
        },
    )


def execution_created(recorder: LineageRecorder, event: ResourceEvent) -> None:
    _context(recorder, event.arn, str(event.document.get("PipelineArn") or ""))


def step_updated(recorder: LineageRecorder, event: ResourceEvent) -> None:
    """A step got a job, or registered a model package: associate it with the execution."""
    execution_arn = event.arn.rsplit("/step/", 1)[0]
    metadata: dict[str, Any] = event.document.get("Metadata") or {}
    pipeline_arn = execution_arn.rsplit("/execution/", 1)[0]
    for kind, job in _JOB_COMPONENTS.items():
        arn = (metadata.get(kind) or {}).get("Arn")
        if arn:
            context = _context(recorder, execution_arn, pipeline_arn)
            component = recorder.trial_component(job, arn.rsplit("/", 1)[-1])
            recorder.connect(component, context, "AssociatedWith")
    model = (metadata.get("Model") or {}).get("Arn")
    if model and event.document.get("StepStatus") == "Succeeded":
        context = _context(recorder, execution_arn, pipeline_arn)
        described = recorder.document("Model", model.rsplit("/", 1)[-1])
        containers = (
            [described["PrimaryContainer"]]
            if described.get("PrimaryContainer")
            else described.get("Containers") or []
        )
        for container in containers:
            if container.get("ModelDataUrl"):
                recorder.connect(
                    recorder.artifact(container["ModelDataUrl"], "Model"), context, "AssociatedWith"
                )
    package = (metadata.get("RegisterModel") or {}).get("Arn")
    if package and event.document.get("StepStatus") == "Succeeded":
        context = _context(recorder, execution_arn, pipeline_arn)
        recorder.connect(recorder.artifact(package, "Model"), context, "AssociatedWith")
        _mark_group(recorder, package, execution_arn)


def _mark_group(recorder: LineageRecorder, package_arn: str, execution_arn: str) -> None:
    parts = package_arn.split(":", 5)[-1].split("/")
    if len(parts) != 3:
        return  # an unversioned package belongs to no group
    group_arn = recorder.arn(f"model-package-group/{parts[1]}")
    found = recorder.contexts.list({"SourceUri": group_arn, "ContextType": "ModelGroup"})[
        "ContextSummaries"
    ]
    for summary in found:
        name = summary["ContextName"]
        properties = dict(recorder.document("Context", name).get("Properties") or {})
        properties["PipelineExecutionArn"] = execution_arn
        recorder.contexts.update_record(name, {"Properties": properties})
