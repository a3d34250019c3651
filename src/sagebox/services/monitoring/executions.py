"""Monitoring executions: the processing jobs schedules start, and how each one ended.

An execution is a record of kind ``MonitoringExecution`` named by its processing job (its
``parent_arn`` is the schedule's ARN), holding what ListMonitoringExecutions answers:
ScheduledTime, MonitoringExecutionStatus (``Pending`` until its job is created, then the
job's status, ``CompletedWithViolations`` when the job found violations), ProcessingJobArn,
FailureReason. It follows its processing job through the job's Ended event; once a
completed job has left CloudWatch metrics and the job asked for them, they are published.
Executions stay after their schedule is deleted, as SageMaker keeps the history.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sagebox.config import Settings
from sagebox.objects import ObjectStore, ObjectStoreError
from sagebox.services.errors import ServiceError
from sagebox.services.events import ENDED, ResourceEvent
from sagebox.services.job_states import internal, public, to_datetime
from sagebox.services.monitoring import listing
from sagebox.services.monitoring.execution_plans import (
    ExecutionPlanner,
    NotRunnable,
    processing_job_name,
)
from sagebox.services.monitoring.jobs import MonitoringJob
from sagebox.services.monitoring.published_metrics import MetricPublisher, publish_job_metrics
from sagebox.services.monitoring.windows import Window
from sagebox.store import AlreadyExists, MetadataStore, ResourceRecord

log = logging.getLogger(__name__)

KIND = "MonitoringExecution"
TERMINAL = ("Completed", "CompletedWithViolations", "Failed", "Stopped")
SUMMARY_FIELDS = (
    "MonitoringScheduleName", "ScheduledTime", "CreationTime", "LastModifiedTime", "MonitoringExecutionStatus",
    "ProcessingJobArn", "EndpointName", "FailureReason", "MonitoringJobDefinitionName", "MonitoringType",
)


def summary(record: ResourceRecord) -> dict[str, Any]:
    return {k: record.document[k] for k in SUMMARY_FIELDS if record.document.get(k) is not None}


class ExecutionService:
    def __init__(
        self,
        settings: Settings,
        store: MetadataStore,
        objects: ObjectStore,
        planner: ExecutionPlanner,
        processing: Any,
        metrics: MetricPublisher | None,
        on_change: Callable[[ResourceRecord], None],
    ) -> None:
        self._settings = settings
        self._repo = store.resources(KIND)
        self._objects = objects
        self._planner = planner
        self._processing = processing
        self._metrics = metrics
        self._on_change = on_change

    # -- starting ------------------------------------------------------------------------

    def start(self, schedule: ResourceRecord, job: MonitoringJob, scheduled: datetime, window: Window) -> ResourceRecord:
        """Records the execution of the run scheduled at `scheduled` and starts its job (once)."""
        document = schedule.document
        name = processing_job_name(schedule.arn, document["CreationTime"], scheduled)
        now = time.time()
        record = ResourceRecord(KIND, name, f"{schedule.arn}/execution/{name}", "Pending", to_datetime(now), to_datetime(now), {
            "MonitoringScheduleName": schedule.name, "ScheduledTime": scheduled.timestamp(), "CreationTime": now,
            "LastModifiedTime": now, "MonitoringExecutionStatus": "Pending", "EndpointName": job.endpoint_name,
            "MonitoringJobDefinitionName": job.definition_name, "MonitoringType": job.monitoring_type,
        }, schedule.arn)
        try:
            self._repo.create(record)
        except AlreadyExists:
            existing = self._repo.get(name)
            if existing is not None:
                return existing
        try:
            plan = self._planner.plan(job, public(document), scheduled, window, to_datetime(now))
        except NotRunnable as exc:
            return self._end(name, "Failed", exc.reason)
        except Exception as exc:
            log.exception("could not plan monitoring execution %s", name)
            return self._end(name, "Failed", f"InternalServerError: sagebox could not start the execution: {exc!r}")
        self._repo.modify(name, lambda r: internal(r).update(publish_metrics=plan.publish_metrics, namespace=plan.namespace))
        try:
            arn = self._processing.create(plan.request, links={"MonitoringScheduleArn": schedule.arn})["ProcessingJobArn"]
        except ServiceError as exc:
            return self._end(name, "Failed", f"ClientError: {exc.message}")

        def running(record: ResourceRecord) -> None:
            record.document["ProcessingJobArn"] = arn
            if record.status == "Pending":
                self._set(record, "InProgress")

        started = self._repo.modify(name, running)
        self._on_change(started)
        return started

    def _set(self, record: ResourceRecord, status: str, reason: str | None = None) -> None:
        now = time.time()
        record.status = status
        record.document["MonitoringExecutionStatus"] = status
        record.document["LastModifiedTime"] = now
        record.last_modified_time = to_datetime(now)
        if reason:
            record.document["FailureReason"] = reason[:1024]

    def _end(self, name: str, status: str, reason: str | None) -> ResourceRecord:
        def ending(record: ResourceRecord) -> None:
            if record.status not in TERMINAL:
                self._set(record, status, reason)

        ended = self._repo.modify(name, ending)
        self._on_change(ended)
        return ended

    # -- following the processing jobs -------------------------------------------------------

    def on_event(self, event: ResourceEvent) -> None:
        if event.kind != "ProcessingJob" or event.change != ENDED or not event.document.get("MonitoringScheduleArn"):
            return
        self.finish(event.name, event.document)

    def finish(self, name: str, job: dict[str, Any]) -> None:
        """Ends the execution of the processing job `name` as the job ended."""
        record = self._repo.get(name)
        if record is None or record.status in TERMINAL:
            return
        status = job.get("ProcessingJobStatus")
        reason = job.get("FailureReason")
        if status == "Completed":
            status = "CompletedWithViolations" if self._found_violations(job) else "Completed"
            if internal(record).get("publish_metrics") and self._metrics is not None:
                publish_job_metrics(self._metrics, self._settings.jobs_dir, name, internal(record).get("namespace", ""))
        elif status not in ("Failed", "Stopped"):
            return

        def ending(current: ResourceRecord) -> None:
            current.document.setdefault("ProcessingJobArn", job.get("ProcessingJobArn"))
            if current.status not in TERMINAL:
                self._set(current, status, reason if status == "Failed" else None)

        self._on_change(self._repo.modify(name, ending))

    def _found_violations(self, job: dict[str, Any]) -> bool:
        message = str(job.get("ExitMessage") or "")
        if message.startswith("CompletedWithViolations"):
            return True
        if message.startswith("Completed"):
            return False
        outputs = (job.get("ProcessingOutputConfig") or {}).get("Outputs") or []
        if not outputs or "S3Output" not in outputs[0]:
            return False
        try:
            found = json.loads(self._objects.read_bytes(outputs[0]["S3Output"]["S3Uri"].rstrip("/") + "/constraint_violations.json"))
        except (ObjectStoreError, ValueError):
            return False
        return bool(isinstance(found, dict) and found.get("violations"))

    def recover(self) -> None:
        """After a restart: executions whose job ended meanwhile end too; one the server left
        before its job was created fails, saying so."""
        for record in self._repo.list_by_status(["Pending", "InProgress", "Stopping"]):
            arn = record.document.get("ProcessingJobArn")
            job = self._processing.record(record.name)
            if job is not None and job.status in ("Completed", "Failed", "Stopped"):
                self.finish(record.name, public(job.document))
            elif job is None and arn is None:
                self._end(record.name, "Failed",
                          "InternalServerError: the sagebox server stopped before the execution's processing job was created.")

    # -- ListMonitoringExecutions ----------------------------------------------------------

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        filters = listing.conditions(request, "MonitoringScheduleName", "MonitoringExecutionStatus")
        for member, path in (("MonitoringScheduleName", ("MonitoringScheduleName",)), ("EndpointName", ("EndpointName",)),
                             ("MonitoringJobDefinitionName", ("MonitoringJobDefinitionName",)),
                             ("MonitoringTypeEquals", ("MonitoringType",))):
            if request.get(member):
                filters.append(listing.equals(path, request[member]))
        return listing.page(self._repo, request, filters, "MonitoringExecutionSummaries", summary,
                            document_sorts={"ScheduledTime": "ScheduledTime"})
