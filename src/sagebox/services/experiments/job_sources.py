"""How SageMaker describes a training, processing or transform job as a trial component.

Pure mapping from a job's Describe document to the trial component SageMaker keeps for
it, named `<job>-aws-training-job`, `<job>-aws-processing-job` or
`<job>-aws-transform-job`: its Source (the job's ARN), Status following the job's,
StartTime / EndTime, Parameters (a training job's hyperparameters, numbers as
NumberValue, and the instance settings as `SageMaker.*` parameters), InputArtifacts
(the image and every input channel) and OutputArtifacts (the model artifact, outputs),
and the Search record's `SourceDetail` (the job's own record).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sagebox.services.events import ResourceEvent

Members = dict[str, Any]
_MEDIA_TYPE_LIMIT = 64


@dataclass(frozen=True)
class JobSource:
    """One job family as a source of trial components."""

    kind: str
    suffix: str
    source_type: str
    status_member: str
    start_member: str
    end_member: str
    parameters: Callable[[Mapping[str, Any]], Members]
    inputs: Callable[[Mapping[str, Any]], Members]
    outputs: Callable[[Mapping[str, Any]], Members]

    def component_name(self, job_name: str) -> str:
        return f"{job_name}-{self.suffix}"

    def creation_request(self, event: ResourceEvent) -> dict[str, Any]:
        """A CreateTrialComponent request describing the job as it was created."""
        document = event.document
        config = document.get("ExperimentConfig") or {}
        request: dict[str, Any] = {
            "TrialComponentName": self.component_name(event.name),
            "DisplayName": config.get("TrialComponentDisplayName"),
            "Parameters": self.parameters(document),
            "InputArtifacts": self.inputs(document),
            "OutputArtifacts": self.outputs(document),
        }
        request.update(self.state(document))
        return request

    def members(self, event: ResourceEvent) -> dict[str, Any]:
        """What a job's component holds beyond CreateTrialComponent's members."""
        source = {"SourceArn": event.arn, "SourceType": self.source_type}
        members: dict[str, Any] = {
            "Source": source,
            "Sources": [source],
            "SourceDetail": {"SourceArn": event.arn, self.kind: event.document},
        }
        run = (event.document.get("ExperimentConfig") or {}).get("RunName")
        if run:
            members["RunName"] = run
        return members

    def state(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """Status, StartTime and EndTime following the job's."""
        status = document.get(self.status_member) or "InProgress"
        state: dict[str, Any] = {"Status": {"PrimaryStatus": status}}
        if status == "Failed" and document.get("FailureReason"):
            state["Status"]["Message"] = str(document["FailureReason"])[:1024]
        state["StartTime"] = document.get(self.start_member) or document.get("CreationTime")
        if document.get(self.end_member) is not None:
            state["EndTime"] = document[self.end_member]
        return state


def _parameter(value: Any) -> dict[str, Any]:
    """A hyperparameter as a trial component parameter: numbers as NumberValue."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"NumberValue": value}
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        return {"StringValue": text[:2500]}
    return {"NumberValue": number} if math.isfinite(number) else {"StringValue": text}


def _instances(resources: Mapping[str, Any]) -> Members:
    parameters: Members = {}
    for member in ("InstanceCount", "InstanceType", "VolumeSizeInGB"):
        if resources.get(member) is not None:
            parameters[f"SageMaker.{member}"] = _parameter(resources[member])
    return parameters


def _artifact(value: str, media_type: str | None = None) -> dict[str, str]:
    artifact = {"Value": value[:2048]}
    if media_type and "/" in media_type and len(media_type) <= _MEDIA_TYPE_LIMIT:
        artifact["MediaType"] = media_type
    return artifact


def _training_parameters(document: Mapping[str, Any]) -> Members:
    parameters = {name: _parameter(value) for name, value in (document.get("HyperParameters") or {}).items()}
    parameters.update(_instances(document.get("ResourceConfig") or {}))
    return parameters


def _training_inputs(document: Mapping[str, Any]) -> Members:
    spec = document.get("AlgorithmSpecification") or {}
    inputs: Members = {}
    if spec.get("TrainingImage"):
        inputs["SageMaker.ImageUri"] = _artifact(spec["TrainingImage"])
    for channel in document.get("InputDataConfig") or []:
        s3 = (channel.get("DataSource") or {}).get("S3DataSource") or {}
        if s3.get("S3Uri"):
            inputs[channel["ChannelName"]] = _artifact(s3["S3Uri"], channel.get("ContentType"))
    return inputs


def _training_outputs(document: Mapping[str, Any]) -> Members:
    model = (document.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    return {"SageMaker.ModelArtifact": _artifact(model)} if model else {}


def _processing_parameters(document: Mapping[str, Any]) -> Members:
    cluster = (document.get("ProcessingResources") or {}).get("ClusterConfig") or {}
    return _instances(cluster)


def _processing_inputs(document: Mapping[str, Any]) -> Members:
    inputs: Members = {}
    image = (document.get("AppSpecification") or {}).get("ImageUri")
    if image:
        inputs["SageMaker.ImageUri"] = _artifact(image)
    for given in document.get("ProcessingInputs") or []:
        uri = (given.get("S3Input") or {}).get("S3Uri")
        if uri:
            inputs[given["InputName"]] = _artifact(uri)
    return inputs


def _processing_outputs(document: Mapping[str, Any]) -> Members:
    outputs: Members = {}
    for given in (document.get("ProcessingOutputConfig") or {}).get("Outputs") or []:
        uri = (given.get("S3Output") or {}).get("S3Uri")
        if uri:
            outputs[given["OutputName"]] = _artifact(uri)
    return outputs


def _transform_parameters(document: Mapping[str, Any]) -> Members:
    parameters = _instances(document.get("TransformResources") or {})
    if document.get("ModelName"):
        parameters["SageMaker.ModelName"] = {"StringValue": document["ModelName"]}
    return parameters


def _transform_inputs(document: Mapping[str, Any]) -> Members:
    given = document.get("TransformInput") or {}
    uri = ((given.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri")
    return {"SageMaker.TransformInput": _artifact(uri, given.get("ContentType"))} if uri else {}


def _transform_outputs(document: Mapping[str, Any]) -> Members:
    given = document.get("TransformOutput") or {}
    path = given.get("S3OutputPath")
    return {"SageMaker.TransformOutput": _artifact(path, given.get("Accept"))} if path else {}


JOB_SOURCES: dict[str, JobSource] = {
    source.kind: source
    for source in (
        JobSource(
            "TrainingJob", "aws-training-job", "SageMakerTrainingJob", "TrainingJobStatus",
            "TrainingStartTime", "TrainingEndTime",
            _training_parameters, _training_inputs, _training_outputs,
        ),
        JobSource(
            "ProcessingJob", "aws-processing-job", "SageMakerProcessingJob", "ProcessingJobStatus",
            "ProcessingStartTime", "ProcessingEndTime",
            _processing_parameters, _processing_inputs, _processing_outputs,
        ),
        JobSource(
            "TransformJob", "aws-transform-job", "SageMakerTransformJob", "TransformJobStatus",
            "TransformStartTime", "TransformEndTime",
            _transform_parameters, _transform_inputs, _transform_outputs,
        ),
    )
}
