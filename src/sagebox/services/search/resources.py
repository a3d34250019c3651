"""The resources Search serves: one row each, from Search's Resource name to the store.

A row names the store kind holding the resource's records, the member of
``SearchRecord`` it fills (botocore's shape of that member is the spec of the
record and of the property names a filter may use), how ``Metrics.<name>`` reads
for it, which properties allow several Contains filters, and which document paths
its kind keeps in the document index (`sagebox.store.document_index`) so that
sorting and filtering on them does not read every document.

A record is the stored document (the Describe answer plus the members only Search
shows, such as a trial component's ``Parents`` or a trial's
``TrialComponentSummaries``), or the family's Describe answer where part of it is
computed (``described``), with ``Tags`` from the tags table; members the shape lacks
are left out by the serializer.

Adding a resource is one row here once its family stores its records, e.g.::

    SearchResource("Pipeline", "Pipeline", "Pipeline", "PipelineName")
    SearchResource("PipelineExecution", "PipelineExecution", "PipelineExecution", "PipelineExecutionArn")
    SearchResource("FeatureGroup", "FeatureGroup", "FeatureGroup", "FeatureGroupName")
    SearchResource("Project", "Project", "Project", "ProjectName")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from botocore.model import Shape

from sagebox.service_models import service_model
from sagebox.services.search.properties import MetricsStyle
from sagebox.store import ANY_MEMBER, EACH, ByField, IndexedPath


@dataclass(frozen=True)
class SearchResource:
    resource: str
    """Search's ``Resource`` value (ExperimentTrialComponent)."""
    kind: str
    """The store kind of its records (TrialComponent)."""
    member: str
    """The ``SearchRecord`` member a record fills (TrialComponent)."""
    name_member: str | None
    """The record's member that is the store record's name (SortBy on it sorts by name);
    None where the store names records otherwise."""
    metrics: MetricsStyle = None
    """How ``Metrics.<name>`` reads: "final" (FinalMetricDataList), "summary" (metric
    summaries with statistics), or not at all."""
    contains_anywhere: frozenset[str] = frozenset()
    """Properties (or their first member) that several Contains filters may name."""
    indexed: tuple[IndexedPath, ...] = field(default=())
    described: bool = False
    """Build records with the family service's Describe rather than from the stored document:
    a tuning job's counters and best training job, an endpoint's ProductionVariants are
    computed when described, so filters cannot use them, but its records show them."""

    @cached_property
    def shape(self) -> Shape:
        return service_model("sagemaker").shape_for("SearchRecord").members[self.member]  # type: ignore[attr-defined]


def _stats(*names: str) -> tuple[IndexedPath, ...]:
    return tuple(IndexedPath(("Metrics", ByField("MetricName"), name)) for name in names)


def _status(member: str) -> IndexedPath:
    return IndexedPath((member,))


SEARCH_RESOURCES: tuple[SearchResource, ...] = (
    SearchResource(
        "TrainingJob", "TrainingJob", "TrainingJob", "TrainingJobName", metrics="final",
        indexed=(
            IndexedPath(("FinalMetricDataList", ByField("MetricName"), "Value")),
            IndexedPath(("HyperParameters", ANY_MEMBER), numeric_strings=True),
            _status("TrainingJobStatus"),
        ),
    ),
    SearchResource(
        "HyperParameterTuningJob", "HyperParameterTuningJob", "HyperParameterTuningJob",
        "HyperParameterTuningJobName", described=True,
        indexed=(_status("HyperParameterTuningJobStatus"),),
    ),
    SearchResource(
        "Endpoint", "Endpoint", "Endpoint", "EndpointName", described=True,
        indexed=(_status("EndpointStatus"),),
    ),
    SearchResource(
        "Experiment", "Experiment", "Experiment", "ExperimentName",
        contains_anywhere=frozenset({"displayname", "experimentname", "tags"}),
    ),
    SearchResource(
        "ExperimentTrial", "Trial", "Trial", "TrialName",
        contains_anywhere=frozenset({"displayname", "trialname", "tags"}),
        indexed=(IndexedPath(("ExperimentName",)),),
    ),
    SearchResource(
        "ExperimentTrialComponent", "TrialComponent", "TrialComponent", "TrialComponentName",
        metrics="summary",
        contains_anywhere=frozenset(
            {"displayname", "trialcomponentname", "tags", "inputartifacts", "outputartifacts"}
        ),
        indexed=(
            *_stats("Max", "Min", "Last", "Avg"),
            IndexedPath(("Parameters", ANY_MEMBER, "NumberValue")),
            IndexedPath(("Parameters", ANY_MEMBER, "StringValue")),
            IndexedPath(("Parents", EACH, "ExperimentName")),
            IndexedPath(("Parents", EACH, "TrialName")),
            IndexedPath(("StartTime",)),
            IndexedPath(("EndTime",)),
        ),
    ),
    SearchResource(
        "ModelPackage", "ModelPackage", "ModelPackage", None,
        indexed=(
            IndexedPath(("ModelPackageGroupName",)),
            IndexedPath(("ModelPackageVersion",)),
            _status("ModelApprovalStatus"),
        ),
    ),
    SearchResource(
        "ModelPackageGroup", "ModelPackageGroup", "ModelPackageGroup", "ModelPackageGroupName"
    ),
)  # fmt: skip

BY_RESOURCE = {row.resource: row for row in SEARCH_RESOURCES}
