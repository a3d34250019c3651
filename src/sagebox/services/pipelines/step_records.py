"""The steps of pipeline executions, each its own record in the store.

ListPipelineExecutionSteps answers from these records, so what an execution did survives
a restart and the engine picks up from them. A record (kind ``PipelineExecutionStep``,
named ``<execution id>/<step name>``, its parent the execution's ARN) holds the step as
the API shows it (StepName, StepStatus, StartTime, EndTime, Metadata, AttemptCount,
CacheHitResult, FailureReason, ...) and, under ``_sagebox``, what the engine needs: the
job it runs, the cache key, the properties of a step that made no job, a callback's token.
A step that never started has no record.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sagebox.services.job_states import public, to_datetime
from sagebox.store import (
    AllOf,
    ColumnSort,
    Condition,
    MetadataStore,
    NotFound,
    ResourceRecord,
)

STEP_KIND = "PipelineExecutionStep"
SUCCEEDED = "Succeeded"


def step_record_name(execution: str, step: str) -> str:
    return f"{execution}/{step}"


class StepRecords:
    """Reads and writes the step records of every execution."""

    def __init__(self, store: MetadataStore) -> None:
        self._repo = store.resources(STEP_KIND)

    def create(
        self, execution: str, execution_arn: str, document: dict[str, Any]
    ) -> ResourceRecord:
        now = time.time()
        name = step_record_name(execution, document["StepName"])
        record = ResourceRecord(
            STEP_KIND,
            name,
            f"{execution_arn}/step/{document['StepName']}",
            document.get("StepStatus", ""),
            to_datetime(now),
            to_datetime(now),
            document,
            parent_arn=execution_arn,
        )
        return self._repo.create(record)

    def get(self, execution: str, step: str) -> ResourceRecord | None:
        return self._repo.get(step_record_name(execution, step))

    def modify(
        self, execution: str, step: str, change: Callable[[ResourceRecord], None]
    ) -> ResourceRecord:
        def changing(record: ResourceRecord) -> None:
            change(record)
            record.status = record.document.get("StepStatus", record.status)
            record.last_modified_time = to_datetime(time.time())

        return self._repo.modify(step_record_name(execution, step), changing)

    def of_execution(self, execution_arn: str) -> list[ResourceRecord]:
        """Every step record of an execution, oldest first."""
        records: list[ResourceRecord] = []
        token = None
        while True:
            page, token = self._repo.list(
                parent_arn=execution_arn,
                sort_by="CreationTime",
                sort_order="Ascending",
                max_results=100,
                next_token=token,
            )
            records.extend(page)
            if not token:
                return records

    def page(
        self, execution_arn: str, sort_order: str, max_results: int, next_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of ListPipelineExecutionSteps (InvalidNextToken for a bad token)."""
        records, token = self._repo.list(
            parent_arn=execution_arn,
            sort_by="CreationTime",
            sort_order=sort_order,
            max_results=max_results,
            next_token=next_token,
        )
        return [public(r.document) for r in records], token

    def delete_of(self, execution_arn: str) -> None:
        for record in self.of_execution(execution_arn):
            try:
                self._repo.delete(record.name)
            except NotFound:
                continue

    def cached(self, cache_key: str, newer_than: float | None) -> ResourceRecord | None:
        """The latest successful run of a step with this cache key (created after `newer_than`)."""
        conditions = [
            Condition(("_sagebox", "cache_key"), "Equals", cache_key),
            Condition(("StepStatus",), "Equals", SUCCEEDED),
        ]
        if newer_than is not None:
            conditions.append(
                Condition(("_sagebox", "ended_at"), "GreaterThanOrEqualTo", newer_than)
            )
        records, _ = self._repo.query(
            AllOf(conditions), ColumnSort("CreationTime", "Descending"), max_results=1
        )
        return records[0] if records else None

    def by_callback_token(self, token: str) -> ResourceRecord | None:
        records, _ = self._repo.query(
            Condition(("_sagebox", "callback_token"), "Equals", token),
            ColumnSort("CreationTime", "Descending"),
            max_results=1,
        )
        return records[0] if records else None
