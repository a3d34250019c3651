"""The family table: one declarative row per SageMaker resource family sagebox serves.

A row says what botocore's model cannot: the ARN's resource type, which service object
(`Platform` attribute and class) serves the family, which standard verbs it implements,
how messages name one, and, for families with a lifecycle, the status and end-time
members. Everything else is read from botocore's SageMaker model, so it cannot drift:
the member that names a resource (the one required member of Describe<Kind>), the
List<Kind>s answer's list member and its summary fields.

From the table: the edge generates its Create/Describe/List/Update/Delete/Stop
operations, tagging resolves an ARN to its family, ARNs are made, and the platform
builds, starts, recovers and shuts down every family's service alike.

Adding a plain resource family = one row here + one service module (see
docs/architecture.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from sagebox.config import Settings
from sagebox.service_models import service_model

_DEFAULT = re.compile(r"default(?: value)? is (\w+)")
STANDARD_VERBS = ("Create", "Describe", "List", "Update", "Delete", "Stop")
# Verbs whose handler gets the resource's name; the others get the whole request.
NAMED_VERBS = ("Describe", "Delete", "Stop")


@dataclass(frozen=True)
class Family:
    kind: str
    """SageMaker's name for the resource, as in its operations (TrainingJob) and the store's kind."""
    arn_type: str
    """The ARN's resource type (training-job in arn:aws:sagemaker:...:training-job/name)."""
    attribute: str
    """The `Platform` attribute holding the family's service object."""
    implementation: str
    """``module:Class`` of the service; the platform builds it, passing each constructor
    parameter by name (settings, store, objects, scheduler, executor, or another family's
    attribute)."""
    verbs: tuple[str, ...]
    """The standard operations the service implements (methods create, describe, ...)."""
    noun: str
    """How SageMaker's messages name one ("training job", "endpoint configuration")."""
    status_member: str | None = None
    """The Describe member holding the status (TrainingJobStatus), for families with one."""
    end_time_member: str | None = None
    """The member stamped when a job reaches a terminal status (TrainingEndTime)."""
    is_job: bool = False
    """A long-running resource with the job lifecycle (services/jobs.py)."""

    def operation(self, verb: str) -> str:
        """The SageMaker operation of a standard verb: ListTrainingJobs, StopTrainingJob, ..."""
        return f"{verb}{self.kind}s" if verb == "List" else f"{verb}{self.kind}"

    @cached_property
    def name_member(self) -> str:
        """The request member that names one resource (TrainingJobName)."""
        shape = service_model("sagemaker").operation_model(f"Describe{self.kind}").input_shape
        required = shape.required_members if shape is not None else []
        if len(required) != 1:
            raise LookupError(f"Describe{self.kind} does not name its resource with one member: {required}")
        return str(required[0])

    @property
    def arn_member(self) -> str:
        return f"{self.kind}Arn"

    @cached_property
    def list_member(self) -> str:
        """The List<Kind>s answer's member holding the summaries (TrainingJobSummaries)."""
        shape = service_model("sagemaker").operation_model(self.operation("List")).output_shape
        members = [name for name in shape.members if name != "NextToken"] if shape is not None else []
        if len(members) != 1:
            raise LookupError(f"{self.operation('List')} answers with members {members}, not one list")
        return members[0]

    @cached_property
    def summary_fields(self) -> tuple[str, ...]:
        """The members of one summary in the List answer, as botocore's model defines them."""
        shape = service_model("sagemaker").operation_model(self.operation("List")).output_shape
        summary = shape.members[self.list_member].member  # type: ignore[union-attr,attr-defined]
        return tuple(summary.members)

    @cached_property
    def default_sort_order(self) -> str:
        """List<Kind>s' SortOrder when none is given, as its documentation states."""
        return self._documented_default("SortOrder", "Ascending")

    @cached_property
    def default_sort_by(self) -> str:
        """List<Kind>s' SortBy when none is given, as its documentation states."""
        default = self._documented_default("SortBy", "CreationTime")
        return "CreationTime" if default == "CreatedTime" else default

    def _documented_default(self, member: str, fallback: str) -> str:
        shape = service_model("sagemaker").operation_model(self.operation("List")).input_shape
        documented = shape.members.get(member) if shape is not None else None
        text = re.sub(r"<[^>]+>", "", documented.documentation or "") if documented is not None else ""
        found = _DEFAULT.search(text)
        return found.group(1) if found else fallback

    def arn(self, settings: Settings, name: str) -> str:
        """The resource's ARN; SageMaker lowercases the name in it."""
        return settings.arn(f"{self.arn_type}/{name.lower()}")


MODEL_PACKAGE_GROUP = Family(
    "ModelPackageGroup", "model-package-group", "model_package_groups",
    "sagebox.services.registry.groups:ModelPackageGroupService",
    ("Create", "Describe", "List", "Delete"), "model package group",
)
MODEL_PACKAGE = Family(
    "ModelPackage", "model-package", "model_packages", "sagebox.services.registry.packages:ModelPackageService",
    ("Create", "Describe", "List", "Update", "Delete"), "model package",
)
MODEL = Family(
    "Model", "model", "models", "sagebox.services.hosting.models:ModelService",
    ("Create", "Describe", "List", "Delete"), "model",
)
ENDPOINT_CONFIG = Family(
    "EndpointConfig", "endpoint-config", "endpoint_configs",
    "sagebox.services.hosting.endpoint_configs:EndpointConfigService",
    ("Create", "Describe", "List", "Delete"), "endpoint configuration",
)
ENDPOINT = Family(
    "Endpoint", "endpoint", "endpoints", "sagebox.services.hosting.endpoints:EndpointService",
    ("Create", "Describe", "List", "Update", "Delete"), "endpoint", status_member="EndpointStatus",
)
TRAINING_JOB = Family(
    "TrainingJob", "training-job", "training", "sagebox.services.training.service:TrainingJobService",
    ("Create", "Describe", "List", "Stop"), "training job",
    status_member="TrainingJobStatus", end_time_member="TrainingEndTime", is_job=True,
)
HYPER_PARAMETER_TUNING_JOB = Family(
    "HyperParameterTuningJob", "hyper-parameter-tuning-job", "tuning",
    "sagebox.services.tuning.service:TuningJobService",
    ("Create", "Describe", "List", "Stop"), "hyperparameter tuning job",
    status_member="HyperParameterTuningJobStatus", end_time_member="HyperParameterTuningEndTime", is_job=True,
)
PROCESSING_JOB = Family(
    "ProcessingJob", "processing-job", "processing", "sagebox.services.processing.service:ProcessingJobService",
    ("Create", "Describe", "List", "Stop", "Delete"), "processing job",
    status_member="ProcessingJobStatus", end_time_member="ProcessingEndTime", is_job=True,
)
TRANSFORM_JOB = Family(
    "TransformJob", "transform-job", "transform", "sagebox.services.transform.service:TransformJobService",
    ("Create", "Describe", "List", "Stop"), "transform job",
    status_member="TransformJobStatus", end_time_member="TransformEndTime", is_job=True,
)

# Experiments (services/experiments/).
EXPERIMENT = Family(
    "Experiment", "experiment", "experiments", "sagebox.services.experiments.experiments:ExperimentService",
    ("Create", "Describe", "List", "Update", "Delete"), "experiment",
)
TRIAL = Family(
    "Trial", "experiment-trial", "trials", "sagebox.services.experiments.trials:TrialService",
    ("Create", "Describe", "List", "Update", "Delete"), "trial",
)
TRIAL_COMPONENT = Family(
    "TrialComponent", "experiment-trial-component", "trial_components",
    "sagebox.services.experiments.trial_components:TrialComponentService",
    ("Create", "Describe", "List", "Update", "Delete"), "trial component",
)

# ML Lineage Tracking (services/lineage/): artifacts are named by their ARN (DescribeArtifact
# takes ArtifactArn; the store's name is the ARN's 32-hex id), associations are edges kept
# in the store's association repository and served by ListAssociations (plus the explicit
# AddAssociation, DeleteAssociation and QueryLineage rows in edge/sagemaker.py).
ARTIFACT = Family(
    "Artifact", "artifact", "artifacts", "sagebox.services.lineage.artifacts:ArtifactService",
    ("Create", "Describe", "List", "Update"), "artifact",
)
ACTION = Family(
    "Action", "action", "actions", "sagebox.services.lineage.actions:ActionService",
    ("Create", "Describe", "List", "Update", "Delete"), "action",
)
CONTEXT = Family(
    "Context", "context", "contexts", "sagebox.services.lineage.contexts:ContextService",
    ("Create", "Describe", "List", "Update", "Delete"), "context",
)
ASSOCIATION = Family(
    "Association", "association", "associations",
    "sagebox.services.lineage.associations:AssociationService", ("List",), "association",
)

# SageMaker Pipelines (services/pipelines/): a pipeline's versions and an execution's steps are
# records of their own kinds (PipelineVersion, PipelineExecutionStep); an execution is a job whose
# statuses are Executing / Stopping / Stopped / Failed / Succeeded, named by its ARN (its resource
# type is the pipeline's: pipeline/<name>/execution/<id>). Explicit rows in edge/sagemaker.py serve
# StartPipelineExecution, the versions, the steps, parameters and definition of an execution, Retry
# and the callback answers.
PIPELINE = Family(
    "Pipeline", "pipeline", "pipelines", "sagebox.services.pipelines.pipelines:PipelineService",
    ("Create", "List", "Update", "Delete"), "pipeline",
)
PIPELINE_EXECUTION = Family(
    "PipelineExecution", "pipeline", "pipeline_executions",
    "sagebox.services.pipelines.executions:PipelineExecutionService",
    ("Describe", "List", "Update", "Stop"), "pipeline execution",
    status_member="PipelineExecutionStatus", is_job=True,
)

# Model Monitor (services/monitoring/): the four job definition families (records), then the
# schedules, whose executions are processing jobs started on the definitions' images.
DATA_QUALITY_JOB_DEFINITION = Family(
    "DataQualityJobDefinition", "data-quality-job-definition", "data_quality_job_definitions",
    "sagebox.services.monitoring.definitions:DataQualityJobDefinitionService",
    ("Create", "Describe", "List", "Delete"), "data quality job definition",
)
MODEL_QUALITY_JOB_DEFINITION = Family(
    "ModelQualityJobDefinition", "model-quality-job-definition", "model_quality_job_definitions",
    "sagebox.services.monitoring.definitions:ModelQualityJobDefinitionService",
    ("Create", "Describe", "List", "Delete"), "model quality job definition",
)
MODEL_BIAS_JOB_DEFINITION = Family(
    "ModelBiasJobDefinition", "model-bias-job-definition", "model_bias_job_definitions",
    "sagebox.services.monitoring.definitions:ModelBiasJobDefinitionService",
    ("Create", "Describe", "List", "Delete"), "model bias job definition",
)
MODEL_EXPLAINABILITY_JOB_DEFINITION = Family(
    "ModelExplainabilityJobDefinition", "model-explainability-job-definition", "model_explainability_job_definitions",
    "sagebox.services.monitoring.definitions:ModelExplainabilityJobDefinitionService",
    ("Create", "Describe", "List", "Delete"), "model explainability job definition",
)
MONITORING_SCHEDULE = Family(
    "MonitoringSchedule", "monitoring-schedule", "monitoring_schedules",
    "sagebox.services.monitoring.schedules:MonitoringScheduleService",
    ("Create", "Describe", "List", "Update", "Delete", "Stop"), "monitoring schedule",
    status_member="MonitoringScheduleStatus",
)

# Autopilot (services/automl/): an AutoML job runs processing, tuning and training jobs and may
# deploy its best candidate; explicit rows in edge/sagemaker.py serve the V2 operations and
# ListCandidatesForAutoMLJob.
AUTOML_JOB = Family(
    "AutoMLJob", "automl-job", "automl", "sagebox.services.automl.service:AutoMLJobService",
    ("Create", "Describe", "List", "Stop"), "AutoML job",
    status_member="AutoMLJobStatus", end_time_member="EndTime", is_job=True,
)

# Notebook instances (services/notebooks/): an InService instance is a JupyterLab server; explicit
# rows in edge/sagemaker.py serve StartNotebookInstance and CreatePresignedNotebookInstanceUrl.
NOTEBOOK_INSTANCE_LIFECYCLE_CONFIG = Family(
    "NotebookInstanceLifecycleConfig", "notebook-instance-lifecycle-config", "notebook_lifecycle_configs",
    "sagebox.services.notebooks.lifecycle_configs:NotebookInstanceLifecycleConfigService",
    ("Create", "Describe", "List", "Update", "Delete"), "notebook instance lifecycle config",
)
NOTEBOOK_INSTANCE = Family(
    "NotebookInstance", "notebook-instance", "notebook_instances",
    "sagebox.services.notebooks.instances:NotebookInstanceService",
    ("Create", "Describe", "List", "Update", "Delete", "Stop"), "notebook instance",
    status_member="NotebookInstanceStatus",
)

# In construction order: a family comes after every family its service is built with.
# Recovery after a restart follows this order; shutdown goes in reverse.
FAMILIES: tuple[Family, ...] = (
    MODEL_PACKAGE_GROUP,  # the Model Registry: CreateModel resolves model packages into containers
    MODEL_PACKAGE,
    MODEL,
    ENDPOINT_CONFIG,
    ENDPOINT,
    TRAINING_JOB,
    HYPER_PARAMETER_TUNING_JOB,
    PROCESSING_JOB,
    TRANSFORM_JOB,
    EXPERIMENT,  # Experiments: trial components follow the jobs above through their events
    TRIAL,
    TRIAL_COMPONENT,
    ARTIFACT,  # ML Lineage Tracking: follows the families above through their events
    ACTION,
    CONTEXT,
    ASSOCIATION,
    AUTOML_JOB,  # Autopilot: built with processing, tuning, training and hosting
    PIPELINE,  # Pipelines: executions run steps through the job, hosting and registry services
    PIPELINE_EXECUTION,
    DATA_QUALITY_JOB_DEFINITION,  # Model Monitor: built with the processing service
    MODEL_QUALITY_JOB_DEFINITION,
    MODEL_BIAS_JOB_DEFINITION,
    MODEL_EXPLAINABILITY_JOB_DEFINITION,
    MONITORING_SCHEDULE,  # follows processing jobs' events; built with endpoints and processing
    NOTEBOOK_INSTANCE_LIFECYCLE_CONFIG,  # Notebook instances: run their configurations' scripts
    NOTEBOOK_INSTANCE,
)


def family_of_arn(arn: str) -> Family | None:
    """The family whose ARNs look like `arn` (by resource type), if sagebox serves it."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[2] != "sagemaker":
        return None
    resource_type = parts[5].split("/", 1)[0]
    return next((family for family in FAMILIES if family.arn_type == resource_type), None)
