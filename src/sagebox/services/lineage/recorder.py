"""The lineage SageMaker records by itself, from the resource events of other families.

As the developer guide's "Amazon SageMaker–Created Tracking Entities" lists, for jobs
(`job_lineage.py`) and for models, endpoints and model packages (`hosting_lineage.py`).
Entities are reused rather than made twice (one artifact per source URI), associations
made again are kept as they are, and nothing here counts against the limits on entities
made by hand. A resource's deletion removes none of its lineage: the graph is the history
of what was made from what (an endpoint deleted and made again keeps the contexts of both).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sagebox.services.errors import ResourceNotFound
from sagebox.services.events import CREATED, ENDED, UPDATED, ResourceEvent
from sagebox.services.lineage import hosting_lineage, job_lineage, pipeline_lineage
from sagebox.services.lineage.actions import ActionService
from sagebox.services.lineage.artifacts import ArtifactService
from sagebox.services.lineage.contexts import ContextService
from sagebox.services.lineage.vertices import JobTrialComponent
from sagebox.store import AlreadyExists, MetadataStore

if TYPE_CHECKING:
    from sagebox.services.lineage.associations import AssociationService

CONTRIBUTED_TO = "ContributedTo"
ASSOCIATED_WITH = "AssociatedWith"
PRODUCED = "Produced"
ARN_SOURCE = "ARN"
"""The SourceType of an action or context whose Source.SourceUri is a SageMaker ARN."""
_MAX_NAME_ATTEMPTS = 100

Handler = Callable[["LineageRecorder", ResourceEvent], None]


class LineageRecorder:
    """Turns resource events into lineage entities and associations."""

    HANDLERS: dict[tuple[str, str], Handler] = {
        ("TrainingJob", CREATED): job_lineage.training_job_created,
        ("TrainingJob", ENDED): job_lineage.training_job_ended,
        ("ProcessingJob", CREATED): job_lineage.processing_job_created,
        ("TransformJob", CREATED): job_lineage.transform_job_created,
        ("Model", CREATED): hosting_lineage.model_created,
        ("Endpoint", CREATED): hosting_lineage.endpoint_created,
        ("ModelPackage", CREATED): hosting_lineage.model_package_created,
        ("ModelPackage", UPDATED): hosting_lineage.model_package_updated,
        ("PipelineExecution", CREATED): pipeline_lineage.execution_created,
        ("PipelineExecutionStep", UPDATED): pipeline_lineage.step_updated,
    }
    KINDS = frozenset(kind for kind, _ in HANDLERS)

    def __init__(
        self,
        associations: AssociationService,
        artifacts: ArtifactService,
        actions: ActionService,
        contexts: ContextService,
        store: MetadataStore,
    ) -> None:
        self.associations = associations
        self.artifacts = artifacts
        self.actions = actions
        self.contexts = contexts
        self._store = store

    def record(self, event: ResourceEvent) -> None:
        """The event bus's subscriber: records the lineage of one change, if it has any."""
        handler = self.HANDLERS.get((event.kind, event.change))
        if handler is not None:
            handler(self, event)

    # -- what the handlers build with ---------------------------------------------------

    def artifact(self, source_uri: str, artifact_type: str) -> str:
        """The ARN of the artifact of `source_uri` (made unless it exists)."""
        return self.artifacts.ensure(source_uri, artifact_type).arn

    def connect(
        self, source: str, destination: str, association_type: str = CONTRIBUTED_TO
    ) -> None:
        self.associations.connect(source, destination, association_type)

    def trial_component(self, job: JobTrialComponent, job_name: str) -> str:
        """The ARN of the trial component SageMaker makes for the job `job_name`."""
        return self.associations.vertices.trial_component_arn(job, job_name)

    def arn(self, resource: str) -> str:
        return self.associations.vertices.arn(resource)

    def context(self, name: str, request: dict[str, Any]) -> str:
        """The ARN of the context `name` (made from a CreateContext-shaped request unless it exists)."""
        return self.contexts.ensure(name, request).arn

    def action(self, name: str, request: dict[str, Any]) -> str:
        return self.actions.ensure(name, request).arn

    def existing_action(self, name: str) -> str | None:
        """The ARN of the action `name`, if there is one."""
        if not name:
            return None
        try:
            return self.actions.get(name).arn
        except ResourceNotFound:
            return None

    def document(self, kind: str, name: str) -> dict[str, Any]:
        """The stored document of another family's resource (empty if it is gone)."""
        record = self._store.resources(kind).get(name) if name else None
        return record.document if record is not None else {}

    def new_context(self, base: str, request: dict[str, Any]) -> str:
        """A new context named `base` with a time stamp, unique even if `base` comes again."""
        return _unique(base, lambda name: self.contexts.insert_new(name, request).arn)

    def new_action(self, base: str, request: dict[str, Any]) -> str:
        return _unique(base, lambda name: self.actions.insert_new(name, request).arn)


def _unique(base: str, insert: Callable[[str], str]) -> str:
    stamp = int(time.time() * 1000)
    for attempt in range(_MAX_NAME_ATTEMPTS):
        head, _, tail = base.partition("{stamp}")
        try:
            return insert(f"{head}{stamp + attempt}{tail}")
        except AlreadyExists:
            continue
    raise RuntimeError(f"no free name like {base!r} after {_MAX_NAME_ATTEMPTS} attempts")
