"""The lineage of training, processing and transform jobs, as SageMaker records it.

Every job is represented by its trial component
(``experiment-trial-component/<job>-aws-training-job``, ``-aws-processing-job``,
``-aws-transform-job``). What a job reads ContributedTo it: a training job's image
(``Image`` artifact of TrainingImage), the S3 data source of each input channel
(``DataSet``) and its checkpoint location (``Checkpoint``); a processing job's image and
inputs; a transform job's input. What it writes it Produced: a processing job's outputs and
a transform job's results (``DataSet``), and, once a training job has completed, its model
(the ``Model`` artifact of ModelArtifacts.S3ModelArtifacts, which CreateModel's
ModelDataUrl then names, joining the training and the hosting halves of the graph).
S3 artifacts are the URIs the Create request gave, not the objects' keys or ETags.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sagebox.services.events import ResourceEvent
from sagebox.services.lineage.vertices import JOB_TRIAL_COMPONENTS

if TYPE_CHECKING:
    from sagebox.services.lineage.recorder import LineageRecorder

TRAINING, PROCESSING, TRANSFORM = JOB_TRIAL_COMPONENTS
DATA_SET, IMAGE, MODEL, CHECKPOINT = "DataSet", "Image", "Model", "Checkpoint"


def training_job_created(recorder: LineageRecorder, event: ResourceEvent) -> None:
    job = event.document
    component = recorder.trial_component(TRAINING, event.name)
    image = (job.get("AlgorithmSpecification") or {}).get("TrainingImage")
    inputs: list[tuple[str, str]] = [(image, IMAGE)] if image else []
    inputs += [(uri, DATA_SET) for uri in _channel_uris(job.get("InputDataConfig") or [])]
    checkpoint = (job.get("CheckpointConfig") or {}).get("S3Uri")
    if checkpoint:
        inputs.append((checkpoint, CHECKPOINT))
    _read(recorder, component, inputs)


def training_job_ended(recorder: LineageRecorder, event: ResourceEvent) -> None:
    job = event.document
    model = (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    if job.get("TrainingJobStatus") != "Completed" or not model:
        return
    component = recorder.trial_component(TRAINING, event.name)
    recorder.connect(component, recorder.artifact(model, MODEL), "Produced")


def processing_job_created(recorder: LineageRecorder, event: ResourceEvent) -> None:
    job = event.document
    component = recorder.trial_component(PROCESSING, event.name)
    image = (job.get("AppSpecification") or {}).get("ImageUri")
    inputs: list[tuple[str, str]] = [(image, IMAGE)] if image else []
    for given in job.get("ProcessingInputs") or []:
        uri = (given.get("S3Input") or {}).get("S3Uri")
        if uri:
            inputs.append((uri, DATA_SET))
    _read(recorder, component, inputs)
    outputs = (job.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    uris = [(o.get("S3Output") or {}).get("S3Uri") for o in outputs]
    _write(recorder, component, [(uri, DATA_SET) for uri in uris if uri])


def transform_job_created(recorder: LineageRecorder, event: ResourceEvent) -> None:
    job = event.document
    component = recorder.trial_component(TRANSFORM, event.name)
    source = ((job.get("TransformInput") or {}).get("DataSource") or {}).get("S3DataSource") or {}
    if source.get("S3Uri"):
        _read(recorder, component, [(source["S3Uri"], DATA_SET)])
    output = (job.get("TransformOutput") or {}).get("S3OutputPath")
    if output:
        _write(recorder, component, [(output, DATA_SET)])


def _channel_uris(channels: list[dict[str, Any]]) -> list[str]:
    uris = []
    for channel in channels:
        uri = ((channel.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri")
        if uri and uri not in uris:
            uris.append(uri)
    return uris


def _read(recorder: LineageRecorder, component: str, inputs: list[tuple[str, str]]) -> None:
    for uri, artifact_type in inputs:
        recorder.connect(recorder.artifact(uri, artifact_type), component, "ContributedTo")


def _write(recorder: LineageRecorder, component: str, outputs: list[tuple[str, str]]) -> None:
    for uri, artifact_type in outputs:
        recorder.connect(component, recorder.artifact(uri, artifact_type), "Produced")
