"""Associations: AddAssociation / DeleteAssociation / ListAssociations, and QueryLineage.

An association is a directed edge from a source to a destination entity, with an optional
AssociationType (ContributedTo, AssociatedWith, DerivedFrom, Produced, SameAs). Both ends
must exist; two experiment entities cannot be joined; joining the same two ends twice is
an error (SageMaker's "an error occurs if you try to create an entity that already
exists"), as is a 6001st association created by hand. Each edge keeps the types of its
ends (SourceType, DestinationType: the artifact's ArtifactType, the action's ActionType,
the context's ContextType, a job trial component's job kind), which never change, so
ListAssociations filters and sorts on them in the store; the names of the ends can change
(UpdateArtifact renames) and are read when a page is answered.

This service also owns the lineage SageMaker records by itself (`recorder.py`): it is
built with the event bus and subscribes its recorder to the resource events of jobs,
models, endpoints and model packages.
"""

from __future__ import annotations

import contextlib
from typing import Any

from sagebox.config import Settings
from sagebox.services.errors import ResourceLimitExceeded, ResourceNotFound, ValidationError
from sagebox.services.events import EventBus
from sagebox.services.families import ASSOCIATION
from sagebox.services.job_states import to_datetime
from sagebox.services.lineage.actions import ActionService
from sagebox.services.lineage.artifacts import ArtifactService
from sagebox.services.lineage.contexts import ContextService
from sagebox.services.lineage.entities import AUTOMATIC, DEFAULT_PAGE_SIZE, now, time_filters
from sagebox.services.lineage.query import LineageQuery
from sagebox.services.lineage.recorder import LineageRecorder
from sagebox.services.lineage.vertices import (
    EXPERIMENT_ENTITIES,
    Vertex,
    VertexResolver,
    resource_type,
)
from sagebox.store import (
    AllOf,
    AlreadyExists,
    ColumnSort,
    Condition,
    DocumentSort,
    InvalidNextToken,
    MetadataStore,
    NotFound,
    ResourceRecord,
)
from sagebox.store.associations import association_record
from sagebox.store.query import Expression, Sort

MANUAL_ASSOCIATIONS_LIMIT = 6000
_EQUALITY_FILTERS = (
    "SourceArn",
    "DestinationArn",
    "SourceType",
    "DestinationType",
    "AssociationType",
)


class AssociationService:
    family = ASSOCIATION

    def __init__(
        self,
        settings: Settings,
        store: MetadataStore,
        events: EventBus,
        artifacts: ArtifactService,
        actions: ActionService,
        contexts: ContextService,
    ) -> None:
        self._settings = settings
        self._edges = store.associations
        self.vertices = VertexResolver(settings, store)
        self._query = LineageQuery(self._edges, self.vertices)
        # Where changes would be published; the platform gives every service the shared bus.
        self.events = events
        self.recorder = LineageRecorder(self, artifacts, actions, contexts, store)
        events.subscribe(self.recorder.record, kinds=set(LineageRecorder.KINDS))

    # -- AddAssociation / DeleteAssociation ----------------------------------------------

    def add(self, request: dict[str, Any]) -> dict[str, Any]:
        source, destination = request["SourceArn"], request["DestinationArn"]
        kinds = {resource_type(source), resource_type(destination)}
        if kinds <= set(EXPERIMENT_ENTITIES):
            raise ValidationError(
                f"An association cannot join two experiment entities: '{source}' and '{destination}'."
            )
        if source == destination:
            raise ValidationError(f"An association cannot join '{source}' to itself.")
        ends = self._existing_ends(source, destination)
        manual = Condition(("_sagebox", AUTOMATIC), "NotEquals", True)
        if self._edges.count(manual) >= MANUAL_ASSOCIATIONS_LIMIT:
            raise ResourceLimitExceeded(
                f"The account already has the maximum of {MANUAL_ASSOCIATIONS_LIMIT} associations "
                "created by hand; delete some to add more."
            )
        try:
            self._record_edge(ends, request.get("AssociationType"), automatic=False)
        except AlreadyExists as exc:
            raise ValidationError(
                f"An association from '{source}' to '{destination}' already exists."
            ) from exc
        return {"SourceArn": source, "DestinationArn": destination}

    def connect(self, source: str, destination: str, association_type: str) -> None:
        """Records an edge SageMaker makes itself; one that exists already is kept as it is."""
        if self._edges.get(source, destination) is not None:
            return
        ends = self._existing_ends(source, destination)
        with contextlib.suppress(AlreadyExists):  # recorded meanwhile by another thread
            self._record_edge(ends, association_type, automatic=True)

    def delete(self, request: dict[str, Any]) -> dict[str, Any]:
        source, destination = request["SourceArn"], request["DestinationArn"]
        try:
            self._edges.delete(source, destination)
        except NotFound as exc:
            raise ResourceNotFound(
                f"Association from '{source}' to '{destination}' does not exist."
            ) from exc
        return {"SourceArn": source, "DestinationArn": destination}

    def _existing_ends(self, source: str, destination: str) -> tuple[Vertex, Vertex]:
        found = self.vertices.resolve([source, destination])
        for role, arn in (("Source", source), ("Destination", destination)):
            if arn not in found:
                raise ResourceNotFound(f"{role} '{arn}' does not exist.")
        return found[source], found[destination]

    def _record_edge(
        self, ends: tuple[Vertex, Vertex], association_type: str | None, *, automatic: bool
    ) -> None:
        source, destination = ends
        created = now()
        document: dict[str, Any] = {
            "SourceArn": source.arn,
            "DestinationArn": destination.arn,
            "SourceType": source.type,
            "DestinationType": destination.type,
            "AssociationType": association_type,
            "CreationTime": created,
        }
        document = {k: v for k, v in document.items() if v is not None}
        if automatic:
            document["_sagebox"] = {AUTOMATIC: True}
        moment = to_datetime(created)
        self._edges.add(
            association_record(
                source.arn,
                destination.arn,
                document,
                creation_time=moment,
                last_modified_time=moment,
            )
        )

    # -- ListAssociations ------------------------------------------------------------

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        conditions: list[Expression] = [
            Condition((member,), "Equals", request[member])
            for member in _EQUALITY_FILTERS
            if request.get(member) is not None
        ]
        conditions += time_filters(request)
        try:
            records, token = self._edges.query(
                AllOf(conditions) if conditions else None,
                self._sort(request),
                source=request.get("SourceArn"),
                destination=request.get("DestinationArn"),
                max_results=request.get("MaxResults") or DEFAULT_PAGE_SIZE,
                next_token=request.get("NextToken"),
            )
        except InvalidNextToken as exc:
            raise ValidationError(
                f"Invalid pagination token: {request.get('NextToken')!r}"
            ) from exc
        return {"AssociationSummaries": self._summaries(records), "NextToken": token}

    def _sort(self, request: dict[str, Any]) -> Sort:
        by = request.get("SortBy") or self.family.default_sort_by
        order = request.get("SortOrder") or self.family.default_sort_order
        if by == "CreationTime":
            return ColumnSort("CreationTime", order)
        return DocumentSort((by,), order, numeric=False)

    def _summaries(self, records: list[ResourceRecord]) -> list[dict[str, Any]]:
        ends = {r.document["SourceArn"] for r in records} | {
            r.document["DestinationArn"] for r in records
        }
        vertices = self.vertices.resolve(sorted(ends))
        summaries = []
        for record in records:
            summary = {k: v for k, v in record.document.items() if not k.startswith("_")}
            for role in ("Source", "Destination"):
                vertex = vertices.get(record.document[f"{role}Arn"])
                if vertex is not None and vertex.name:
                    summary[f"{role}Name"] = vertex.name
            summaries.append(summary)
        return summaries

    # -- QueryLineage ----------------------------------------------------------------------

    def query_lineage(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._query.run(request)

    # -- the platform's lifecycle -------------------------------------------------------------

    def recover(self) -> None:
        """After a restart: associations are plain records, nothing to pick up."""

    def shutdown(self) -> None:
        """Before the server stops: nothing runs here."""
