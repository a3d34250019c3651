"""What an ARN is as a vertex of the lineage graph: its LineageType, Type, name and times.

A vertex is a lineage entity (artifact, action, context), an experiment entity (trial
component, experiment), or the trial component SageMaker makes for a job
(``experiment-trial-component/<job>-aws-training-job``, ``-aws-processing-job``,
``-aws-transform-job``). Experiments' own records are used when the store has them (kinds
``TrialComponent`` and ``Experiment``); a job's trial component is known from its job even
before, or without, such a record, so a job's lineage never depends on another family.

`VertexResolver.resolve` answers for many ARNs with one store query (two when job trial
components need their jobs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sagebox.config import Settings
from sagebox.store import MetadataStore, ResourceRecord

ARTIFACT = "Artifact"
ACTION = "Action"
CONTEXT = "Context"
TRIAL_COMPONENT = "TrialComponent"

LINEAGE_TYPES = {
    "artifact": ARTIFACT,
    "action": ACTION,
    "context": CONTEXT,
    "experiment-trial-component": TRIAL_COMPONENT,
}
"""The QueryLineage LineageType of each ARN resource type that has one."""
EXPERIMENT_ENTITIES = ("experiment", "experiment-trial", "experiment-trial-component")
"""ARN resource types of experiment entities: no association may join two of them."""


@dataclass(frozen=True)
class JobTrialComponent:
    """The trial component SageMaker makes for each job of one kind."""

    suffix: str
    job_kind: str
    job_arn_type: str

    def trial_component_name(self, job_name: str) -> str:
        return f"{job_name.lower()}{self.suffix}"


JOB_TRIAL_COMPONENTS = (
    JobTrialComponent("-aws-training-job", "TrainingJob", "training-job"),
    JobTrialComponent("-aws-processing-job", "ProcessingJob", "processing-job"),
    JobTrialComponent("-aws-transform-job", "TransformJob", "transform-job"),
)
TYPE_MEMBERS = {ARTIFACT: "ArtifactType", ACTION: "ActionType", CONTEXT: "ContextType"}
NAME_MEMBERS = {ARTIFACT: "ArtifactName", ACTION: "ActionName", CONTEXT: "ContextName"}


@dataclass(frozen=True)
class Vertex:
    arn: str
    lineage_type: str | None
    """TrialComponent, Artifact, Context or Action (None for an experiment)."""
    type: str | None
    """The entity's own type (DataSet, Model, Endpoint, ModelDeployment, TrainingJob, ...)."""
    name: str | None
    creation_time: float | None = None
    last_modified_time: float | None = None
    properties: dict[str, str] = field(default_factory=dict)


def resource_type(arn: str) -> str:
    """The ARN's resource type (``artifact`` in ``arn:aws:sagemaker:...:artifact/...``)."""
    parts = arn.split(":", 5)
    return parts[5].split("/", 1)[0] if len(parts) == 6 else ""


def resource_name(arn: str) -> str:
    parts = arn.split(":", 5)
    return parts[5].split("/", 1)[1] if len(parts) == 6 and "/" in parts[5] else ""


def job_of(arn: str) -> JobTrialComponent | None:
    """The kind of job whose trial component `arn` is, if it is one SageMaker made for a job."""
    if resource_type(arn) != "experiment-trial-component":
        return None
    name = resource_name(arn)
    return next((job for job in JOB_TRIAL_COMPONENTS if name.endswith(job.suffix)), None)


class VertexResolver:
    def __init__(self, settings: Settings, store: MetadataStore) -> None:
        self._settings = settings
        self._store = store

    def arn(self, resource: str) -> str:
        """The ARN of `resource` (``type/name``) in this server's account and region."""
        return self._settings.arn(resource)

    def trial_component_arn(self, job: JobTrialComponent, job_name: str) -> str:
        return self._settings.arn(
            f"experiment-trial-component/{job.trial_component_name(job_name)}"
        )

    def resolve(self, arns: list[str]) -> dict[str, Vertex]:
        """The vertices of those `arns` that exist (an ARN that names nothing is left out)."""
        records = self._store.associations.records_with_arns(arns)
        vertices = {arn: _from_record(arn, record) for arn, record in records.items()}
        missing = {arn: job for arn in arns if arn not in vertices and (job := job_of(arn))}
        if missing:
            jobs = {self._job_arn(arn, job): (arn, job) for arn, job in missing.items()}
            for job_arn, record in self._store.associations.records_with_arns(list(jobs)).items():
                arn, job = jobs[job_arn]
                if record.kind == job.job_kind:
                    vertices[arn] = _job_vertex(arn, job, record)
        return vertices

    def _job_arn(self, arn: str, job: JobTrialComponent) -> str:
        return self._settings.arn(f"{job.job_arn_type}/{resource_name(arn)[: -len(job.suffix)]}")


def _from_record(arn: str, record: ResourceRecord) -> Vertex:
    document: dict[str, Any] = record.document
    lineage_type = LINEAGE_TYPES.get(resource_type(arn))
    created, modified = _epoch(record.creation_time), _epoch(record.last_modified_time)
    if lineage_type in TYPE_MEMBERS:
        return Vertex(
            arn,
            lineage_type,
            document.get(TYPE_MEMBERS[lineage_type]),
            document.get(NAME_MEMBERS[lineage_type]),
            created,
            modified,
            dict(document.get("Properties") or {}),
        )
    job = job_of(arn)
    kind = job.job_kind if job is not None else None
    name = document.get(f"{record.kind}Name") or resource_name(arn)
    return Vertex(arn, lineage_type, kind, name, created, modified)


def _job_vertex(arn: str, job: JobTrialComponent, record: ResourceRecord) -> Vertex:
    return Vertex(
        arn,
        TRIAL_COMPONENT,
        job.job_kind,
        resource_name(arn),
        _epoch(record.creation_time),
        _epoch(record.last_modified_time),
    )


def _epoch(moment: datetime) -> float:
    return moment.timestamp()
