"""What a schedule runs, whichever way it was given: a `MonitoringJob`.

A schedule names a job definition (``MonitoringJobDefinitionName`` and ``MonitoringType``,
what the SDK does) or carries one inline (``MonitoringJobDefinition``, the older form,
always data quality); both become the same view here, so that executions are built one
way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sagebox.objects import ObjectStore
from sagebox.services.errors import ValidationError
from sagebox.services.monitoring import checks
from sagebox.store import MetadataStore

TYPES = ("DataQuality", "ModelQuality", "ModelBias", "ModelExplainability")
DEFINITION_KINDS = {kind: f"{kind}JobDefinition" for kind in TYPES}
DEFAULT_MAX_RUNTIME_SECONDS = 3600


@dataclass(frozen=True)
class MonitoringJob:
    monitoring_type: str
    definition_name: str | None
    app: dict[str, Any]
    """ImageUri, ContainerEntrypoint, ContainerArguments, RecordPreprocessorSourceUri,
    PostAnalyticsProcessorSourceUri, ProblemType, ConfigUri."""
    job_input: dict[str, Any]
    """EndpointInput or BatchTransformInput, and GroundTruthS3Input."""
    output: dict[str, Any]
    """MonitoringOutputs (one) and KmsKeyId."""
    cluster: dict[str, Any]
    role_arn: str
    baseline: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    network: dict[str, Any] | None = None
    max_runtime_seconds: int = DEFAULT_MAX_RUNTIME_SECONDS

    @property
    def endpoint_input(self) -> dict[str, Any] | None:
        return self.job_input.get("EndpointInput")

    @property
    def batch_input(self) -> dict[str, Any] | None:
        return self.job_input.get("BatchTransformInput")

    @property
    def data_input(self) -> dict[str, Any]:
        return self.endpoint_input or self.batch_input or {}

    @property
    def endpoint_name(self) -> str | None:
        return (self.endpoint_input or {}).get("EndpointName")

    @property
    def s3_output(self) -> dict[str, Any]:
        return self.output["MonitoringOutputs"][0]["S3Output"]


def from_definition(monitoring_type: str, document: dict[str, Any]) -> MonitoringJob:
    app = dict(document[f"{monitoring_type}AppSpecification"])
    environment = dict(app.pop("Environment", None) or {})
    stopping = document.get("StoppingCondition") or {}
    return MonitoringJob(
        monitoring_type=monitoring_type,
        definition_name=document["JobDefinitionName"],
        app=app,
        job_input=document[f"{monitoring_type}JobInput"],
        output=document[f"{monitoring_type}JobOutputConfig"],
        cluster=document["JobResources"]["ClusterConfig"],
        role_arn=document["RoleArn"],
        baseline=document.get(f"{monitoring_type}BaselineConfig") or {},
        environment=environment,
        network=document.get("NetworkConfig"),
        max_runtime_seconds=stopping.get("MaxRuntimeInSeconds") or DEFAULT_MAX_RUNTIME_SECONDS,
    )


def from_inline(definition: dict[str, Any]) -> MonitoringJob:
    inputs = definition["MonitoringInputs"]
    if len(inputs) != 1:
        raise ValidationError(
            f"MonitoringScheduleConfig.MonitoringJobDefinition.MonitoringInputs must hold exactly one input, got {len(inputs)}."
        )
    stopping = definition.get("StoppingCondition") or {}
    return MonitoringJob(
        monitoring_type="DataQuality",
        definition_name=None,
        app=dict(definition["MonitoringAppSpecification"]),
        job_input=dict(inputs[0]),
        output=definition["MonitoringOutputConfig"],
        cluster=definition["MonitoringResources"]["ClusterConfig"],
        role_arn=definition["RoleArn"],
        baseline=definition.get("BaselineConfig") or {},
        environment=dict(definition.get("Environment") or {}),
        network=definition.get("NetworkConfig"),
        max_runtime_seconds=stopping.get("MaxRuntimeInSeconds") or DEFAULT_MAX_RUNTIME_SECONDS,
    )


def resolve(config: dict[str, Any], store: MetadataStore) -> MonitoringJob:
    """The job a MonitoringScheduleConfig runs; ValidationError when it names none that exists."""
    name, inline = config.get("MonitoringJobDefinitionName"), config.get("MonitoringJobDefinition")
    if (name is None) == (inline is None):
        raise ValidationError(
            "MonitoringScheduleConfig must contain exactly one of MonitoringJobDefinitionName or MonitoringJobDefinition."
        )
    if inline is not None:
        if config.get("MonitoringType", "DataQuality") != "DataQuality":
            raise ValidationError(
                "MonitoringScheduleConfig.MonitoringJobDefinition defines a data quality job; "
                f"MonitoringType '{config['MonitoringType']}' needs a job definition named by MonitoringJobDefinitionName."
            )
        return from_inline(inline)
    monitoring_type = config.get("MonitoringType") or "DataQuality"
    record = store.resources(DEFINITION_KINDS[monitoring_type]).get(name)
    if record is None:
        raise ValidationError(
            f"Could not find the {monitoring_type} job definition '{name}' named by "
            "MonitoringScheduleConfig.MonitoringJobDefinitionName (MonitoringType "
            f"{monitoring_type}); create it first with Create{monitoring_type}JobDefinition."
        )
    return from_definition(monitoring_type, record.document)


def check_inline(job: MonitoringJob, objects: ObjectStore, processing: checks.ProcessingJobs) -> None:
    """The checks a job definition family makes at creation, for an inline definition."""
    where = "MonitoringScheduleConfig.MonitoringJobDefinition"
    path = checks.check_job_input(f"{where}.MonitoringInputs[0]", job.job_input, ground_truth=False)
    checks.check_output(f"{where}.MonitoringOutputConfig", job.output, path)
    checks.check_app(f"{where}.MonitoringAppSpecification", job.app)
    checks.check_baseline(f"{where}.BaselineConfig", job.baseline, objects, processing)
