"""The transform job API: CreateTransformJob, Describe, List, Stop; recovery after a restart."""

from __future__ import annotations

import threading
import time
from typing import Any

from sagebox.config import Settings
from sagebox.objects import ObjectStore
from sagebox.runtime.process import end_orphan
from sagebox.runtime.scheduler import JobScheduler
from sagebox.services.errors import ResourceInUse, ValidationError
from sagebox.services.hosting.models import ModelService
from sagebox.services.listing import list_resources
from sagebox.services.transform import states
from sagebox.services.transform.requests import check_request, initial_document
from sagebox.services.transform.runner import SERVER_STOPPED_REASON, TransformRun
from sagebox.store import AlreadyExists, MetadataStore, NotFound, ResourceRecord

KIND = "TransformJob"
MODEL_SERVER_MODULE = "sagebox.serving"
_SUMMARY_FIELDS = (
    "TransformJobName", "TransformJobArn", "CreationTime", "TransformEndTime", "LastModifiedTime",
    "TransformJobStatus", "FailureReason",
)


def _not_found(name: str) -> ValidationError:
    return ValidationError(f"Could not find requested job with name {name}")


class TransformJobService:
    def __init__(
        self,
        settings: Settings,
        store: MetadataStore,
        objects: ObjectStore,
        scheduler: JobScheduler,
        models: ModelService,
    ) -> None:
        self._settings = settings
        self._repo = store.resources(KIND)
        self._store = store
        self._objects = objects
        self._scheduler = scheduler
        self._models = models
        self._runs: dict[str, TransformRun] = {}
        self._lock = threading.Lock()

    # -- API -----------------------------------------------------------------------

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["TransformJobName"]
        arn = self._settings.arn(f"transform-job/{name.lower()}")
        if self._repo.get(name) is not None:
            raise _in_use(arn)
        check_request(request, self._objects, self._models)
        now = time.time()
        record = ResourceRecord(
            kind=KIND,
            name=name,
            arn=arn,
            status="InProgress",
            creation_time=states.to_datetime(now),
            last_modified_time=states.to_datetime(now),
            document=initial_document(request, arn, now),
        )
        try:
            self._repo.create(record)
        except AlreadyExists as exc:
            raise _in_use(arn) from exc
        if request.get("Tags"):
            self._store.tags.add(arn, request["Tags"])
        self._launch(name)
        return {"TransformJobArn": arn}

    def describe(self, name: str) -> dict[str, Any]:
        record = self._repo.get(name)
        if record is None:
            raise _not_found(name)
        return {k: v for k, v in record.document.items() if not k.startswith("_")}

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        summaries, token = list_resources(
            self._repo, request, summary_fields=_SUMMARY_FIELDS, default_sort_order="Descending"
        )
        return {"TransformJobSummaries": summaries, "NextToken": token}

    def stop(self, name: str) -> dict[str, Any]:
        with self._lock:
            run = self._runs.get(name)

            def stopping(record: ResourceRecord) -> None:
                if record.status != "InProgress":
                    raise ValidationError(
                        f"The transform job {name} is in status {record.status} and cannot be stopped; "
                        "only an InProgress job can be stopped."
                    )
                now = time.time()
                queued = run is None and not states.internal(record).get("launched")
                states.advance(record, "Stopped" if queued else "Stopping", now)

            try:
                self._repo.modify(name, stopping)
            except NotFound as exc:
                raise _not_found(name) from exc
            if run is not None:
                run.stop()
        return {}

    # -- execution -----------------------------------------------------------------

    def _launch(self, name: str) -> None:
        self._scheduler.submit(f"transform-job {name}", lambda: self._execute(name))

    def _execute(self, name: str) -> None:
        record = self._repo.get(name)
        if record is None or record.status != "InProgress":
            return
        try:
            model = self._models.get(record.document["ModelName"]).document
        except ValidationError as exc:
            reason = f"ClientError: {exc.message}"
            self._repo.modify(name, lambda r: states.fail(r, reason, time.time()))
            return
        run = TransformRun(name, model, settings=self._settings, repository=self._repo, objects=self._objects)
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
            for pid in states.internal(record).get("pids") or []:
                end_orphan(pid, MODEL_SERVER_MODULE)

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


def _in_use(arn: str) -> ResourceInUse:
    return ResourceInUse(
        "Job name must be unique within an AWS account and region, and a job with this name "
        f"already exists ({arn})"
    )
