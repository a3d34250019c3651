"""The processing job API: CreateProcessingJob, Describe, List, Stop, Delete; recovery after a restart."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Mapping
from typing import Any

from sagebox.config import Settings
from sagebox.objects import ObjectStore
from sagebox.runtime.process import end_orphan_of_job
from sagebox.runtime.scheduler import JobScheduler
from sagebox.services.errors import ResourceInUse, ResourceNotFound, ValidationError
from sagebox.services.listing import list_resources
from sagebox.services.processing import states
from sagebox.services.processing.requests import initial_document, plan
from sagebox.services.processing.runner import SERVER_STOPPED_REASON, ProcessingRun
from sagebox.services.processing.workspace import JOB_ARN_VARIABLE, job_root
from sagebox.store import AlreadyExists, MetadataStore, NotFound, ResourceRecord

KIND = "ProcessingJob"
_SUMMARY_FIELDS = (
    "ProcessingJobName", "ProcessingJobArn", "CreationTime", "ProcessingEndTime", "LastModifiedTime",
    "ProcessingJobStatus", "FailureReason", "ExitMessage",
)


def _not_found(name: str) -> ValidationError:
    return ValidationError(f"Could not find requested job with name {name}")


def _in_use(arn: str) -> ValidationError:
    return ValidationError(
        "Job name must be unique within an AWS account and region, and a job with this name "
        f"already exists ({arn})"
    )


class ProcessingJobService:
    def __init__(
        self, settings: Settings, store: MetadataStore, objects: ObjectStore, scheduler: JobScheduler
    ) -> None:
        self._settings = settings
        self._repo = store.resources(KIND)
        self._store = store
        self._objects = objects
        self._scheduler = scheduler
        self._runs: dict[str, ProcessingRun] = {}
        self._lock = threading.Lock()

    # -- API -----------------------------------------------------------------------

    def create(self, request: dict[str, Any], *, links: Mapping[str, str] | None = None) -> dict[str, Any]:
        """CreateProcessingJob; `links` are the MonitoringScheduleArn / AutoMLJobArn /
        TrainingJobArn of a job another service starts."""
        name = request["ProcessingJobName"]
        arn = self._settings.arn(f"processing-job/{name.lower()}")
        if self._repo.get(name) is not None:
            raise _in_use(arn)
        plan(request, self._objects)
        now = time.time()
        record = ResourceRecord(
            kind=KIND,
            name=name,
            arn=arn,
            status="InProgress",
            creation_time=states.to_datetime(now),
            last_modified_time=states.to_datetime(now),
            document=initial_document(request, arn, now, links),
        )
        try:
            self._repo.create(record)
        except AlreadyExists as exc:
            raise _in_use(arn) from exc
        if request.get("Tags"):
            self._store.tags.add(arn, request["Tags"])
        self._launch(name)
        return {"ProcessingJobArn": arn}

    def record(self, name: str) -> ResourceRecord | None:
        return self._repo.get(name)

    def describe(self, name: str) -> dict[str, Any]:
        record = self._repo.get(name)
        if record is None:
            raise _not_found(name)
        return {k: v for k, v in record.document.items() if not k.startswith("_")}

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        summaries, token = list_resources(self._repo, request, summary_fields=_SUMMARY_FIELDS)
        return {"ProcessingJobSummaries": summaries, "NextToken": token}

    def stop(self, name: str) -> dict[str, Any]:
        with self._lock:
            run = self._runs.get(name)

            def stopping(record: ResourceRecord) -> None:
                if record.status != "InProgress":
                    raise ValidationError(
                        f"The processing job {name} is in status {record.status} and cannot be stopped; "
                        "only an InProgress job can be stopped."
                    )
                queued = run is None and not states.internal(record).get("launched")
                states.advance(record, "Stopped" if queued else "Stopping", time.time())

            try:
                self._repo.modify(name, stopping)
            except NotFound as exc:
                raise _not_found(name) from exc
            if run is not None:
                run.stop()
        return {}

    def delete(self, name: str) -> dict[str, Any]:
        """DeleteProcessingJob: a finished job's record, tags and folder (its log too) go."""
        record = self._repo.get(name)
        if record is None:
            raise ResourceNotFound(f"Could not find requested job with name {name}")
        if record.status not in states.TERMINAL:
            raise ResourceInUse(
                f"The processing job {name} is in status {record.status}; only a job that has ended "
                "(Completed, Failed or Stopped) can be deleted."
            )
        try:
            self._repo.delete(name)
        except NotFound as exc:
            raise ResourceNotFound(f"Could not find requested job with name {name}") from exc
        self._store.tags.delete_all(record.arn)
        shutil.rmtree(job_root(self._settings.jobs_dir, name), ignore_errors=True)
        return {}

    # -- execution -----------------------------------------------------------------

    def _launch(self, name: str) -> None:
        self._scheduler.submit(f"processing-job {name}", lambda: self._execute(name))

    def _execute(self, name: str) -> None:
        record = self._repo.get(name)
        if record is None or record.status != "InProgress":
            return
        try:
            job_plan = plan(record.document)
        except ValidationError as exc:  # a record an older sagebox accepted
            reason = f"ClientError: {exc.message}"
            self._repo.modify(name, lambda r: states.fail(r, reason, time.time()))
            return
        run = ProcessingRun(
            name, job_plan, settings=self._settings, repository=self._repo, objects=self._objects
        )
        with self._lock:
            self._runs[name] = run
        try:
            run.execute()
        finally:
            with self._lock:
                self._runs.pop(name, None)

    def recover(self) -> None:
        """After a restart: jobs that were running failed with the server; queued ones run."""
        for record in self._repo.list_by_status(["InProgress", "Stopping"]):
            if record.status == "InProgress" and not states.internal(record).get("launched"):
                self._launch(record.name)
                continue
            pid = states.internal(record).get("pid")
            if pid:
                end_orphan_of_job(int(pid), JOB_ARN_VARIABLE, record.arn)

            def interrupted(r: ResourceRecord) -> None:
                now = time.time()
                if r.status == "Stopping":
                    states.advance(r, "Stopped", now)
                else:
                    states.fail(r, SERVER_STOPPED_REASON, now)

            self._repo.modify(record.name, interrupted)

    def shutdown(self) -> None:
        """Ends every running job as Failed: the server going away is not a user's stop."""
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.interrupt()
