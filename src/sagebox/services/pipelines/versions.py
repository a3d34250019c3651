"""Pipeline versions: every CreatePipeline and every UpdatePipeline with a definition makes one.

A version is a record of its own (kind ``PipelineVersion``, named
``<pipeline>/<version id>``, its parent the pipeline's ARN) holding its definition, its
display name, description and aliases, and the last execution started from it. An alias
names one version at a time: giving it to a version takes it from the others.
"""

from __future__ import annotations

import time
from typing import Any

from sagebox.services.errors import ResourceNotFound, ValidationError
from sagebox.services.job_states import internal, to_datetime
from sagebox.store import InvalidNextToken, MetadataStore, NotFound, ResourceRecord

VERSION_KIND = "PipelineVersion"
DEFAULT_PAGE_SIZE = 10


class PipelineVersions:
    def __init__(self, store: MetadataStore) -> None:
        self._repo = store.resources(VERSION_KIND)

    def add(
        self, pipeline: ResourceRecord, version: int, definition: str, aliases: list[str] | None
    ) -> ResourceRecord:
        now = round(time.time(), 3)
        if aliases:
            self.take_aliases(pipeline.arn, aliases)
        document: dict[str, Any] = {
            "PipelineArn": pipeline.arn,
            "PipelineVersionId": version,
            "CreationTime": now,
            "PipelineVersionAliases": list(aliases or []),
            "_sagebox": {"definition": definition},
        }
        record = ResourceRecord(
            VERSION_KIND,
            f"{pipeline.name}/{version}",
            f"{pipeline.arn}/version/{version}",
            "",
            to_datetime(now),
            to_datetime(now),
            document,
            parent_arn=pipeline.arn,
        )
        return self._repo.create(record)

    def get(self, pipeline: ResourceRecord, version: int) -> ResourceRecord:
        record = self._repo.get(f"{pipeline.name}/{version}")
        if record is None:
            raise ResourceNotFound(f"Pipeline '{pipeline.arn}' has no version {version}.")
        return record

    def with_alias(self, pipeline: ResourceRecord, alias: str) -> ResourceRecord:
        found = next(
            (
                r
                for r in self.of(pipeline.arn)
                if alias in (r.document.get("PipelineVersionAliases") or [])
            ),
            None,
        )
        if found is None:
            raise ResourceNotFound(
                f"No version of pipeline '{pipeline.arn}' has the alias '{alias}'."
            )
        return found

    def of(self, pipeline_arn: str) -> list[ResourceRecord]:
        records: list[ResourceRecord] = []
        token = None
        while True:
            page, token = self._repo.list(
                parent_arn=pipeline_arn,
                sort_by="CreationTime",
                sort_order="Ascending",
                max_results=100,
                next_token=token,
            )
            records.extend(page)
            if not token:
                return records

    @staticmethod
    def definition(record: ResourceRecord) -> str:
        return str(internal(record)["definition"])

    def take_aliases(self, pipeline_arn: str, aliases: list[str]) -> None:
        """Removes `aliases` from every version of the pipeline (one version holds an alias)."""

        def without(version: ResourceRecord) -> None:
            held = version.document.get("PipelineVersionAliases") or []
            version.document["PipelineVersionAliases"] = [a for a in held if a not in aliases]

        for record in self.of(pipeline_arn):
            if set(record.document.get("PipelineVersionAliases") or []) & set(aliases):
                self._repo.modify(record.name, without)

    def note_execution(self, pipeline: ResourceRecord, version: int, execution_arn: str) -> None:
        try:
            self._repo.modify(
                f"{pipeline.name}/{version}",
                lambda r: r.document.__setitem__(
                    "LastExecutionPipelineExecutionArn", execution_arn
                ),
            )
        except NotFound:
            return

    def update(self, pipeline: ResourceRecord, request: dict[str, Any]) -> ResourceRecord:
        """UpdatePipelineVersion: display name, description and aliases added or removed."""
        record = self.get(pipeline, int(request["PipelineVersionId"]))
        operations = request.get("PipelineVersionAliasOperations") or {}
        added, removed = list(operations.get("Add") or []), list(operations.get("Remove") or [])
        both = set(added) & set(removed)
        if both:
            raise ValidationError(f"Aliases {sorted(both)} cannot be both added and removed.")
        if added:
            self.take_aliases(pipeline.arn, added)

        def change(version: ResourceRecord) -> None:
            for member in ("PipelineVersionDisplayName", "PipelineVersionDescription"):
                if request.get(member) is not None:
                    version.document[member] = request[member]
            held = [
                a for a in version.document.get("PipelineVersionAliases") or [] if a not in removed
            ]
            version.document["PipelineVersionAliases"] = held + [a for a in added if a not in held]

        return self._repo.modify(record.name, change)

    def page(self, pipeline_arn: str, request: dict[str, Any]) -> dict[str, Any]:
        try:
            records, token = self._repo.list(
                parent_arn=pipeline_arn,
                creation_time_after=request.get("CreatedAfter"),
                creation_time_before=request.get("CreatedBefore"),
                sort_by="CreationTime",
                sort_order=request.get("SortOrder") or "Descending",
                max_results=request.get("MaxResults") or DEFAULT_PAGE_SIZE,
                next_token=request.get("NextToken"),
            )
        except InvalidNextToken as exc:
            raise ValidationError(
                f"Invalid pagination token: {request.get('NextToken')!r}"
            ) from exc
        fields = (
            "PipelineArn",
            "PipelineVersionId",
            "CreationTime",
            "PipelineVersionDescription",
            "PipelineVersionDisplayName",
            "LastExecutionPipelineExecutionArn",
            "PipelineVersionAliases",
        )
        summaries = [{k: r.document[k] for k in fields if k in r.document} for r in records]
        return {"PipelineVersionSummaries": summaries, "NextToken": token}

    def delete_of(self, pipeline_arn: str) -> None:
        for record in self.of(pipeline_arn):
            try:
                self._repo.delete(record.name)
            except NotFound:
                continue
