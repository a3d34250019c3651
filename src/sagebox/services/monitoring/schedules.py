"""Monitoring schedules: Create / Describe / List / Update / Delete / Start / Stop, and their runs.

A schedule is ``Pending`` when created, updated or started, ``Scheduled`` once the
scheduler (`scheduler.py`, started by `recover`) has taken it up, ``Stopped`` after
StopMonitoringSchedule and ``Failed`` when what it monitors can no longer be run. Its
next run time is kept in the record: when it is due the scheduler claims it (in one
transaction that moves the next run on), then starts the execution; after a restart a
schedule whose runs were missed runs once, for the latest of them, and goes on from there.
``NOW`` schedules run once, at once, over DataAnalysisStartTime..DataAnalysisEndTime.

Schedules on an endpoint must have data capture enabled, and the job they name must exist
with its baseline, when they are created or updated.
"""

from __future__ import annotations

import contextlib
import copy
import time
from datetime import UTC, datetime
from typing import Any

from sagebox.config import Settings
from sagebox.objects import ObjectStore
from sagebox.services.errors import ResourceInUse, ResourceNotFound, ServiceError, ValidationError
from sagebox.services.events import CREATED, DELETED, UPDATED, EventBus
from sagebox.services.families import MONITORING_SCHEDULE
from sagebox.services.job_states import internal, to_datetime
from sagebox.services.leases import Leases
from sagebox.services.monitoring import checks, cron, jobs, listing, windows
from sagebox.services.monitoring.execution_plans import ExecutionPlanner
from sagebox.services.monitoring.executions import ExecutionService, summary
from sagebox.services.monitoring.scheduler import MonitoringScheduler
from sagebox.services.resources import RecordService
from sagebox.store import AlreadyExists, MetadataStore, NotFound, ResourceRecord

SCHEDULE_SUMMARY = ("MonitoringScheduleName", "MonitoringScheduleArn", "CreationTime", "LastModifiedTime",
                    "MonitoringScheduleStatus", "EndpointName", "MonitoringJobDefinitionName", "MonitoringType")


class MonitoringScheduleService(RecordService):
    family = MONITORING_SCHEDULE

    def __init__(
        self, settings: Settings, store: MetadataStore, objects: ObjectStore, processing: Any, endpoints: Any,
        events: EventBus, metrics: Any,
    ) -> None:
        super().__init__(settings, store)
        self._objects = objects
        self._processing = processing
        self._endpoints = endpoints
        planner = ExecutionPlanner(objects, processing, endpoints)
        self.executions = ExecutionService(settings, store, objects, planner, processing, metrics, self._execution_changed)
        events.subscribe(self.executions.on_event, kinds={"ProcessingJob"})
        self.scheduler = MonitoringScheduler(self.tick)
        # Servers sharing a store: one of them schedules (the platform gives the server's leases).
        self.leases = Leases(None)
        self._scheduler_lease = f"arn:aws:sagemaker:{settings.region}:{settings.account_id}:sagebox/monitoring-scheduler"

    # -- validation ----------------------------------------------------------------------

    def _check(self, config: dict[str, Any]) -> tuple[jobs.MonitoringJob, str]:
        """The job the config runs and its monitoring type; ValidationError on bad input."""
        job = jobs.resolve(config, self._store)
        if job.definition_name is None:
            jobs.check_inline(job, self._objects, self._processing)
        schedule = config.get("ScheduleConfig") or {}
        expression = schedule.get("ScheduleExpression")
        if expression is not None:
            cron.parse(expression)
            if expression.strip() == cron.NOW and not (schedule.get("DataAnalysisStartTime") and schedule.get("DataAnalysisEndTime")):
                raise ValidationError(
                    "ScheduleConfig.DataAnalysisStartTime and ScheduleConfig.DataAnalysisEndTime are required when "
                    "ScheduleExpression is NOW: they say which window of captured data the one-time run analyzes."
                )
        windows.check_data_analysis_times(schedule.get("DataAnalysisStartTime"), schedule.get("DataAnalysisEndTime"))
        if job.endpoint_name is not None:
            self._check_endpoint(job.endpoint_name)
        return job, job.monitoring_type

    def _check_endpoint(self, name: str) -> None:
        checks.check_capturing_endpoint("the EndpointInput of MonitoringScheduleConfig's job", name, self._endpoints)

    # -- API -------------------------------------------------------------------------------

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        name, config = request["MonitoringScheduleName"], copy.deepcopy(request["MonitoringScheduleConfig"])
        job, monitoring_type = self._check(config)
        now = time.time()
        arn = self.arn_of(name)
        document: dict[str, Any] = {
            "MonitoringScheduleArn": arn, "MonitoringScheduleName": name, "MonitoringScheduleStatus": "Pending",
            "MonitoringType": monitoring_type, "CreationTime": now, "LastModifiedTime": now,
            "MonitoringScheduleConfig": config,
        }
        if job.endpoint_name:
            document["EndpointName"] = job.endpoint_name
        moment = to_datetime(now)
        record = ResourceRecord(self.family.kind, name, arn, "Pending", moment, moment, document)
        try:
            self._repo.create(record)
        except AlreadyExists as exc:
            raise ResourceInUse(f"Monitoring schedule {name} already exists ({arn}).") from exc
        if request.get("Tags"):
            self._store.tags.add(arn, request["Tags"])
        self.publish(CREATED, record)
        self.scheduler.wake()
        return {"MonitoringScheduleArn": arn}

    def get(self, name: str) -> ResourceRecord:
        record = self._repo.get(name)
        if record is None:
            raise ResourceNotFound(f"Monitoring schedule {name} not found ({self.arn_of(name)}).")
        return record

    def update(self, request: dict[str, Any]) -> dict[str, Any]:
        name, config = request["MonitoringScheduleName"], copy.deepcopy(request["MonitoringScheduleConfig"])
        self.get(name)
        job, monitoring_type = self._check(config)

        def updating(record: ResourceRecord) -> None:
            record.document.update({"MonitoringScheduleConfig": config, "MonitoringType": monitoring_type})
            record.document.pop("EndpointName", None)
            if job.endpoint_name:
                record.document["EndpointName"] = job.endpoint_name
            internal(record).pop("next_run", None)
            internal(record).pop("done", None)
            self._status(record, "Pending")

        record = self._modify(name, updating)
        self.publish(UPDATED, record)
        self.scheduler.wake()
        return {"MonitoringScheduleArn": record.arn}

    def delete(self, name: str) -> dict[str, Any]:
        record = self.get(name)
        try:
            self._repo.delete(name)
        except NotFound as exc:
            raise ResourceNotFound(f"Monitoring schedule {name} not found.") from exc
        self._store.tags.delete_all(record.arn)
        self.publish(DELETED, record)
        return {}

    def start(self, name: str) -> dict[str, Any]:
        def starting(record: ResourceRecord) -> None:
            if record.status in ("Stopped", "Failed"):
                internal(record).pop("next_run", None)
                self._status(record, "Pending")

        self._modify(name, starting)
        self.scheduler.wake()
        return {}

    def stop(self, name: str) -> dict[str, Any]:
        def stopping(record: ResourceRecord) -> None:
            internal(record).pop("next_run", None)
            self._status(record, "Stopped")

        self._modify(name, stopping)
        return {}

    def summary(self, record: ResourceRecord) -> dict[str, Any]:
        found = {k: record.document[k] for k in SCHEDULE_SUMMARY if record.document.get(k) is not None}
        definition = (record.document.get("MonitoringScheduleConfig") or {}).get("MonitoringJobDefinitionName")
        if definition:
            found["MonitoringJobDefinitionName"] = definition
        return found

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        filters = listing.conditions(request, "MonitoringScheduleName", "MonitoringScheduleStatus")
        for member, path in (("EndpointName", ("EndpointName",)), ("MonitoringTypeEquals", ("MonitoringType",)),
                             ("MonitoringJobDefinitionName", ("MonitoringScheduleConfig", "MonitoringJobDefinitionName"))):
            if request.get(member):
                filters.append(listing.equals(path, request[member]))
        return listing.page(self._repo, request, filters, self.family.list_member, self.summary)

    def list_executions(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.executions.list(request)

    # -- state -----------------------------------------------------------------------------

    def _status(self, record: ResourceRecord, status: str, reason: str | None = None) -> None:
        now = time.time()
        record.status = status
        record.document["MonitoringScheduleStatus"] = status
        record.document["LastModifiedTime"] = now
        record.last_modified_time = to_datetime(now)
        if reason:
            record.document["FailureReason"] = reason
        else:
            record.document.pop("FailureReason", None)

    def _modify(self, name: str, change: Any) -> ResourceRecord:
        try:
            return self._repo.modify(name, change)
        except NotFound as exc:
            raise ResourceNotFound(f"Monitoring schedule {name} not found ({self.arn_of(name)}).") from exc

    def _execution_changed(self, execution: ResourceRecord) -> None:
        """The schedule's LastMonitoringExecutionSummary follows its newest execution."""
        def noting(record: ResourceRecord) -> None:
            if record.arn != execution.parent_arn:
                return
            last = record.document.get("LastMonitoringExecutionSummary") or {}
            if last.get("ScheduledTime", 0) <= execution.document["ScheduledTime"]:
                record.document["LastMonitoringExecutionSummary"] = summary(execution)

        with contextlib.suppress(NotFound):  # a deleted schedule's executions stay
            self._repo.modify(execution.document["MonitoringScheduleName"], noting)

    # -- the scheduler's work -------------------------------------------------------------------

    def tick(self, now: datetime) -> float | None:
        """Starts every run that is due; returns the seconds until the next one. Only the
        server holding the scheduler's lease does: the others wait to take it over."""
        if not self._drives_scheduling():
            return None
        soonest: float | None = None
        for record in self._repo.list_by_status(["Pending", "Scheduled"]):
            try:
                upcoming = self._advance(record.name, now)
            except ServiceError as exc:
                self._modify(record.name, lambda r, m=exc.message: self._status(r, "Failed", m))
                continue
            if upcoming is not None:
                wait = max(0.0, upcoming - now.timestamp())
                soonest = wait if soonest is None else min(soonest, wait)
        return soonest

    def _advance(self, name: str, now: datetime) -> float | None:
        """Takes up a Pending schedule, starts its due run; answers its next run time."""
        claimed: list[float] = []

        def claiming(record: ResourceRecord) -> None:
            if record.status not in ("Pending", "Scheduled"):
                return
            state = internal(record)
            expression = ((record.document["MonitoringScheduleConfig"].get("ScheduleConfig") or {}).get("ScheduleExpression"))
            if record.status == "Pending":
                jobs.resolve(record.document["MonitoringScheduleConfig"], self._store)
                self._status(record, "Scheduled")
                state["now_time"] = now.timestamp()
            if "pending_run" in state:
                claimed.append(state["pending_run"])
            if expression is not None and expression.strip() == cron.NOW:
                if not state.get("done"):
                    state["done"] = True
                    state["pending_run"] = state.get("now_time", now.timestamp())
                    claimed.append(state["pending_run"])
                return
            schedule = _cron_of(expression, record.document["CreationTime"])
            if state.get("next_run") is None:
                state["next_run"] = schedule.next_after(now).timestamp()
            elif state["next_run"] <= now.timestamp():
                run = schedule.latest_at_or_before(now).timestamp()  # missed runs: only the latest
                state["pending_run"] = run
                state["next_run"] = schedule.next_after(now).timestamp()
                claimed.append(run)

        record = self._repo.modify(name, claiming)
        for run in dict.fromkeys(claimed):
            self._run(record, datetime.fromtimestamp(run, tz=UTC))
        return internal(record).get("next_run")

    def _run(self, record: ResourceRecord, scheduled: datetime) -> None:
        config = record.document["MonitoringScheduleConfig"]
        job = jobs.resolve(config, self._store)
        schedule = config.get("ScheduleConfig") or {}
        expression = schedule.get("ScheduleExpression")
        period = _cron_of(expression, record.document["CreationTime"]).period if expression and expression.strip() != cron.NOW else None
        window = windows.window(
            scheduled, period or windows.MAX_WINDOW, schedule.get("DataAnalysisStartTime"), schedule.get("DataAnalysisEndTime"),
            job.data_input.get("StartTimeOffset"), job.data_input.get("EndTimeOffset"),
        )
        self.executions.start(record, job, scheduled, window)
        self._repo.modify(record.name, lambda r: internal(r).pop("pending_run", None))

    def _drives_scheduling(self) -> bool:
        """Whether this server schedules monitoring runs; the one that takes the scheduler's
        lease (at start, or when its holder died) first lets executions catch up with their jobs."""
        if self.leases.holds(self._scheduler_lease):
            return True
        if not self.leases.adopt(self._scheduler_lease):
            return False
        self.executions.recover()
        return True

    def recover(self) -> None:
        """After a restart: executions catch up with their jobs; the scheduler starts."""
        self._drives_scheduling()
        self.scheduler.start()

    def shutdown(self) -> None:
        self.scheduler.stop()


def _cron_of(expression: str | None, created: float) -> cron.Cron:
    """A schedule's cron; without a ScheduleExpression SageMaker picks a daily time (here:
    the hour the schedule was created)."""
    if expression is None:
        return cron.Cron((datetime.fromtimestamp(created, tz=UTC).hour,))
    parsed = cron.parse(expression)
    if parsed is None:
        raise ValidationError("NOW schedules have no cron")
    return parsed
