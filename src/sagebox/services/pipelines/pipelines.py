"""Pipelines: CreatePipeline / DescribePipeline / ListPipelines / UpdatePipeline / DeletePipeline,
ListPipelineVersions and UpdatePipelineVersion.

A pipeline is its current definition and settings; every definition it was given is a
version (`versions.py`) that executions start from. A definition comes inline or from
PipelineDefinitionS3Location (the SDK uploads one over 100 KB) and is checked before it
is kept (`validation.py`): a step, parameter or property that does not exist, or a
cycle, is refused naming it. Deleting a pipeline deletes its versions and executions,
once none is running.
"""

from __future__ import annotations

import time
from typing import Any

from sagebox.config import Settings
from sagebox.objects import ObjectStore, ObjectStoreError, s3_uri
from sagebox.services.callers import user_context
from sagebox.services.errors import ConflictError, ResourceNotFound, ValidationError
from sagebox.services.events import CREATED, DELETED, UPDATED
from sagebox.services.families import PIPELINE
from sagebox.services.job_states import internal, public, to_datetime
from sagebox.services.pipelines.definition import (
    DefinitionError,
    PipelineDefinition,
    parse_definition,
)
from sagebox.services.pipelines.naming import pipeline_name_of
from sagebox.services.pipelines.step_records import StepRecords
from sagebox.services.pipelines.validation import validate
from sagebox.services.pipelines.versions import PipelineVersions
from sagebox.services.resources import RecordService
from sagebox.store import (
    AllOf,
    AlreadyExists,
    ColumnSort,
    Condition,
    InvalidNextToken,
    MetadataStore,
    NotFound,
    ResourceRecord,
)
from sagebox.store.query import Expression

EXECUTION_KIND = "PipelineExecution"
ACTIVE_EXECUTION_STATUSES = ("Executing", "Stopping")
DEFAULT_PAGE_SIZE = 10


def checked_definition(text: str) -> PipelineDefinition:
    """The parsed definition once every check passes (ValidationError naming what is wrong)."""
    try:
        definition = parse_definition(text)
        validate(definition)
    except DefinitionError as exc:
        raise ValidationError(f"Invalid pipeline definition: {exc}") from exc
    return definition


class PipelineService(RecordService):
    family = PIPELINE

    def __init__(self, settings: Settings, store: MetadataStore, objects: ObjectStore) -> None:
        super().__init__(settings, store)
        self._objects = objects
        self.versions = PipelineVersions(store)
        self._executions = store.resources(EXECUTION_KIND)
        self._steps = StepRecords(store)

    # -- create -------------------------------------------------------------------------

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["PipelineName"]
        arn = self.arn_of(name)
        existing = self._repo.get(name)
        token = request.get("ClientRequestToken")
        if existing is not None:
            if token and internal(existing).get("client_token") == token:
                return {"PipelineArn": existing.arn}  # a retry of the request that created it
            raise ValidationError(
                f"Pipeline names must be unique within an account and region: {arn} already exists."
            )
        text = self._definition_text(request)
        checked_definition(text)
        now = round(time.time(), 3)
        caller = user_context(self._settings.account_id)
        document: dict[str, Any] = {
            "PipelineArn": arn,
            "PipelineName": name,
            "PipelineDisplayName": request.get("PipelineDisplayName") or name,
            "PipelineDefinition": text,
            "PipelineDescription": request.get("PipelineDescription"),
            "RoleArn": request["RoleArn"],
            "PipelineStatus": "Active",
            "CreationTime": now,
            "LastModifiedTime": now,
            "CreatedBy": caller,
            "LastModifiedBy": caller,
            "ParallelismConfiguration": request.get("ParallelismConfiguration"),
            "_sagebox": {"client_token": token, "version": 1},
        }
        document = {k: v for k, v in document.items() if v is not None}
        record = ResourceRecord(
            self.family.kind, name, arn, "Active", to_datetime(now), to_datetime(now), document
        )
        try:
            self._repo.create(record)
        except AlreadyExists as exc:
            raise ValidationError(
                f"Pipeline names must be unique within an account and region: {arn} already exists."
            ) from exc
        self.versions.add(record, 1, text, request.get("PipelineVersionAliases"))
        if request.get("Tags"):
            self._store.tags.add(arn, request["Tags"])
        self.publish(CREATED, record)
        return {"PipelineArn": arn}

    def _definition_text(self, request: dict[str, Any], required: bool = True) -> str:
        inline, location = (
            request.get("PipelineDefinition"),
            request.get("PipelineDefinitionS3Location"),
        )
        if inline is not None and location is not None:
            raise ValidationError(
                "Give either PipelineDefinition or PipelineDefinitionS3Location, not both."
            )
        if inline is not None:
            return str(inline)
        if location is None:
            if required:
                raise ValidationError(
                    "Either PipelineDefinition or PipelineDefinitionS3Location must be given."
                )
            return ""
        uri = s3_uri(location["Bucket"], location["ObjectKey"])
        try:
            return self._objects.read_bytes(uri).decode("utf-8")
        except (ObjectStoreError, UnicodeDecodeError) as exc:
            raise ValidationError(
                f"PipelineDefinitionS3Location {uri} cannot be read: {exc}"
            ) from exc

    # -- read -----------------------------------------------------------------------------

    def get(self, name_or_arn: str) -> ResourceRecord:
        record = self.find(name_or_arn)
        if record is None:
            arn = name_or_arn if name_or_arn.startswith("arn:") else self.arn_of(name_or_arn)
            raise ResourceNotFound(f"Pipeline '{arn}' does not exist.")
        return record

    def find(self, name_or_arn: str) -> ResourceRecord | None:
        if name_or_arn.startswith("arn:"):
            return self._repo.get_by_arn(name_or_arn) if pipeline_name_of(name_or_arn) else None
        return self._repo.get(name_or_arn)

    def describe_pipeline(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self.get(request["PipelineName"])
        document = public(record.document)
        version = self.version_of(
            record, request.get("PipelineVersionId"), request.get("PipelineVersionAlias")
        )
        if version is not None:
            document["PipelineDefinition"] = self.versions.definition(version)
            for member in (
                "PipelineVersionDisplayName",
                "PipelineVersionDescription",
                "PipelineVersionAliases",
            ):
                if version.document.get(member) is not None:
                    document[member] = version.document[member]
        return document

    def version_of(
        self, record: ResourceRecord, version_id: int | None, alias: str | None
    ) -> ResourceRecord | None:
        """The version a request names by id or alias (None when it names none)."""
        if version_id is not None and alias is not None:
            raise ValidationError(
                "Give either PipelineVersionId or PipelineVersionAlias, not both."
            )
        if version_id is not None:
            return self.versions.get(record, int(version_id))
        if alias is not None:
            return self.versions.with_alias(record, alias)
        return None

    def current_version(self, record: ResourceRecord) -> int:
        return int(internal(record).get("version") or 1)

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        conditions: list[Expression] = []
        prefix = request.get("PipelineNamePrefix")
        if prefix:  # a prefix is the range [prefix, prefix + the last code point)
            conditions.append(Condition(("PipelineName",), "GreaterThanOrEqualTo", prefix))
            conditions.append(Condition(("PipelineName",), "LessThan", prefix + "\U0010ffff"))
        if request.get("CreatedAfter") is not None:
            conditions.append(
                Condition(("CreationTime",), "GreaterThan", request["CreatedAfter"].timestamp())
            )
        if request.get("CreatedBefore") is not None:
            conditions.append(
                Condition(("CreationTime",), "LessThan", request["CreatedBefore"].timestamp())
            )
        sort = ColumnSort(
            "Name" if request.get("SortBy") == "Name" else "CreationTime",
            request.get("SortOrder") or "Descending",
        )
        try:
            records, token = self._repo.query(
                AllOf(conditions) if conditions else None,
                sort,
                max_results=request.get("MaxResults") or DEFAULT_PAGE_SIZE,
                next_token=request.get("NextToken"),
            )
        except InvalidNextToken as exc:
            raise ValidationError(
                f"Invalid pagination token: {request.get('NextToken')!r}"
            ) from exc
        summaries = []
        for record in records:
            summary = {
                k: record.document[k] for k in self.family.summary_fields if k in record.document
            }
            if record.document.get("LastRunTime") is not None:
                summary["LastExecutionTime"] = record.document["LastRunTime"]
            summaries.append(summary)
        return {"PipelineSummaries": summaries, "NextToken": token}

    def list_versions(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.versions.page(self.get(request["PipelineName"]).arn, request)

    # -- update -------------------------------------------------------------------------

    def update(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self.get(request["PipelineName"])
        text = self._definition_text(request, required=False)
        if text:
            checked_definition(text)
        version = self.current_version(record) + 1 if text else self.current_version(record)

        def change(pipeline: ResourceRecord) -> None:
            document = pipeline.document
            for member in (
                "PipelineDisplayName",
                "PipelineDescription",
                "RoleArn",
                "ParallelismConfiguration",
            ):
                if request.get(member) is not None:
                    document[member] = request[member]
            if text:
                document["PipelineDefinition"] = text
                internal(pipeline)["version"] = version
            now = round(time.time(), 3)
            document["LastModifiedTime"] = now
            document["LastModifiedBy"] = user_context(self._settings.account_id)
            pipeline.last_modified_time = to_datetime(now)

        updated = self._modify(record, change)
        if text:
            self.versions.add(updated, version, text, request.get("PipelineVersionAliases"))
        elif request.get("PipelineVersionAliases"):
            self.versions.update(
                updated,
                {
                    "PipelineVersionId": version,
                    "PipelineVersionAliasOperations": {"Add": request["PipelineVersionAliases"]},
                },
            )
        self.publish(UPDATED, updated)
        return {"PipelineArn": updated.arn, "PipelineVersionId": version}

    def update_version(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self.get(request["PipelineArn"])
        version = self.versions.update(record, request)
        return {
            "PipelineArn": record.arn,
            "PipelineVersionId": version.document["PipelineVersionId"],
        }

    def note_execution(
        self, record: ResourceRecord, version: int, execution_arn: str, when: float
    ) -> None:
        """An execution started: the pipeline's LastRunTime and the version's last execution."""
        self._modify(record, lambda p: p.document.__setitem__("LastRunTime", when))
        self.versions.note_execution(record, version, execution_arn)

    def _modify(self, record: ResourceRecord, change: Any) -> ResourceRecord:
        try:
            return self._repo.modify(record.name, change)
        except NotFound as exc:
            raise ResourceNotFound(f"Pipeline '{record.arn}' does not exist.") from exc

    # -- delete ---------------------------------------------------------------------------

    def delete(self, name: str) -> dict[str, Any]:
        record = self.get(name)
        running, _ = self._executions.query(
            AllOf(
                [
                    Condition(("PipelineArn",), "Equals", record.arn),
                    Condition(("PipelineExecutionStatus",), "In", list(ACTIVE_EXECUTION_STATUSES)),
                ]
            ),
            max_results=1,
        )
        if running:
            raise ConflictError(
                f"Pipeline '{record.arn}' has a running execution ({running[0].arn}); stop its executions "
                "with StopPipelineExecution before deleting it."
            )
        token = None
        while True:
            page, token = self._executions.list(
                parent_arn=record.arn, max_results=100, next_token=token
            )
            for execution in page:
                self._steps.delete_of(execution.arn)
                try:
                    self._executions.delete(execution.name)
                except NotFound:
                    continue
            if not token:
                break
        self.versions.delete_of(record.arn)
        try:
            self._repo.delete(record.name)
        except NotFound as exc:
            raise ResourceNotFound(f"Pipeline '{record.arn}' does not exist.") from exc
        self._store.tags.delete_all(record.arn)
        self.publish(DELETED, record)
        return {"PipelineArn": record.arn}
