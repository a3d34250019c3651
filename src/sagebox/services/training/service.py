"""The training job API: CreateTrainingJob, Describe, List, Stop; recovery after a restart."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sagebox.config import Settings
from sagebox.objects import ObjectStore
from sagebox.runtime.process import end_orphan_of_job
from sagebox.runtime.scheduler import JobScheduler
from sagebox.services.errors import ResourceInUse, ValidationError
from sagebox.services.listing import list_resources
from sagebox.services.training import lifecycle
from sagebox.services.training.requests import initial_document, plan, plan_from_document
from sagebox.services.training.runner import SERVER_STOPPED_REASON, MetricListener, TrainingRun
from sagebox.store import AlreadyExists, MetadataStore, NotFound, ResourceRecord

log = logging.getLogger(__name__)

KIND = "TrainingJob"
_SUMMARY_FIELDS = (
    "TrainingJobName", "TrainingJobArn", "CreationTime", "TrainingEndTime", "LastModifiedTime",
    "TrainingJobStatus", "SecondaryStatus", "WarmPoolStatus",
)
_NOT_FOUND = "Requested resource not found."


class TrainingJobService:
    def __init__(
        self, settings: Settings, store: MetadataStore, objects: ObjectStore, scheduler: JobScheduler
    ) -> None:
        self._settings = settings
        self._repo = store.resources(KIND)
        self._store = store
        self._objects = objects
        self._scheduler = scheduler
        self._runs: dict[str, TrainingRun] = {}
        self._lock = threading.Lock()
        self.metric_listeners: list[MetricListener] = []

    # -- API -----------------------------------------------------------------------

    def create(self, request: dict[str, Any], *, tuning_job_arn: str | None = None) -> dict[str, Any]:
        """CreateTrainingJob; a tuning job's trials carry the tuning job's ARN."""
        name = request["TrainingJobName"]
        job_plan = plan(request, self._objects)
        arn = self._settings.arn(f"training-job/{name.lower()}")
        now = time.time()
        record = ResourceRecord(
            kind=KIND,
            name=name,
            arn=arn,
            status="InProgress",
            creation_time=lifecycle.to_datetime(now),
            last_modified_time=lifecycle.to_datetime(now),
            document=initial_document(request, arn, job_plan.algorithm, now),
            parent_arn=tuning_job_arn,
        )
        if tuning_job_arn:
            record.document["TuningJobArn"] = tuning_job_arn
        try:
            self._repo.create(record)
        except AlreadyExists as exc:
            raise ResourceInUse(f"Training job names must be unique within an AWS account and region, and a training job with this name already exists ({arn})") from exc
        if request.get("Tags"):
            self._store.tags.add(arn, request["Tags"])
        self._launch(name)
        return {"TrainingJobArn": arn}

    def record(self, name: str) -> ResourceRecord | None:
        return self._repo.get(name)

    def trials_of(self, tuning_job_arn: str) -> list[ResourceRecord]:
        """Every training job a tuning job started, oldest first."""
        records: list[ResourceRecord] = []
        token = None
        while True:
            page, token = self._repo.list(
                parent_arn=tuning_job_arn, sort_by="CreationTime", sort_order="Ascending",
                max_results=100, next_token=token,
            )
            records.extend(page)
            if not token:
                return records

    def describe(self, name: str) -> dict[str, Any]:
        record = self._repo.get(name)
        if record is None:
            raise ValidationError(_NOT_FOUND)
        return _public(record.document)

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        summaries, token = list_resources(self._repo, request, summary_fields=_SUMMARY_FIELDS)
        return {"TrainingJobSummaries": summaries, "NextToken": token}

    def stop(self, name: str) -> dict[str, Any]:
        with self._lock:
            run = self._runs.get(name)

            def stopping(record: ResourceRecord) -> None:
                if record.status != "InProgress":
                    raise ValidationError(
                        f"The training job {name} is in status {record.status} and cannot be stopped; "
                        "only an InProgress job can be stopped."
                    )
                now = time.time()
                if run is None and not lifecycle.internal(record).get("launched"):
                    lifecycle.advance(record, "Stopped", now)  # still queued: nothing to signal
                else:
                    lifecycle.advance(record, "Stopping", now)

            try:
                self._repo.modify(name, stopping)
            except NotFound as exc:
                raise ValidationError(_NOT_FOUND) from exc
            if run is not None:
                run.stop()
        return {}

    # -- execution -----------------------------------------------------------------

    def _launch(self, name: str) -> None:
        self._scheduler.submit(f"training-job {name}", lambda: self._execute(name))

    def _execute(self, name: str) -> None:
        record = self._repo.get(name)
        if record is None or record.status != "InProgress":
            return
        job_plan = plan_from_document(record.document)
        run = TrainingRun(
            name,
            job_plan,
            settings=self._settings,
            repository=self._repo,
            objects=self._objects,
            metric_listener=self._notify_metric,
        )
        with self._lock:
            self._runs[name] = run
        try:
            run.execute()
        finally:
            with self._lock:
                self._runs.pop(name, None)

    def _notify_metric(self, job_name: str, observation: Any) -> None:
        for listener in list(self.metric_listeners):
            try:
                listener(job_name, observation)
            except Exception:
                log.exception("metric listener failed for %s", job_name)

    def recover(self) -> None:
        """After a restart: jobs that were running failed with the server; queued ones run."""
        for record in self._repo.list_by_status(["InProgress", "Stopping"]):
            launched = lifecycle.internal(record).get("launched")
            if record.status == "InProgress" and not launched:
                self._launch(record.name)
                continue

            bookkeeping = lifecycle.internal(record)
            orphans = bookkeeping.get("pids") or ([bookkeeping["pid"]] if bookkeeping.get("pid") else [])
            for orphan in orphans:
                end_orphan_of_job(orphan, "TRAINING_JOB_ARN", record.arn)

            def interrupted(r: ResourceRecord) -> None:
                now = time.time()
                if r.status == "Stopping":
                    lifecycle.advance(r, "Stopped", now)
                else:
                    lifecycle.fail(r, SERVER_STOPPED_REASON, now)

            self._repo.modify(record.name, interrupted)

    def shutdown(self) -> None:
        """Ends every running job as Failed: the server going away is not a user's stop."""
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.interrupt()


def _public(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if not k.startswith("_")}
