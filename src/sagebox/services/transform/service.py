"""The transform job API: CreateTransformJob, Describe, List, Stop; recovery after a restart."""

from __future__ import annotations

from typing import Any

from sagebox.config import Settings
from sagebox.objects import ObjectStore
from sagebox.runtime.executor import Executor
from sagebox.runtime.scheduler import JobScheduler
from sagebox.services.errors import ValidationError
from sagebox.services.families import TRANSFORM_JOB
from sagebox.services.hosting.models import ModelService
from sagebox.services.job_states import JobStates
from sagebox.services.jobs import JobFailure, JobService
from sagebox.services.transform.requests import check_request, initial_document
from sagebox.services.transform.runner import TransformRun
from sagebox.store import MetadataStore, ResourceRecord


class TransformJobService(JobService[TransformRun]):
    family = TRANSFORM_JOB
    states = JobStates(TRANSFORM_JOB, interrupted_note="Outputs of input objects finished before then were kept. ")

    def __init__(
        self,
        settings: Settings,
        store: MetadataStore,
        objects: ObjectStore,
        scheduler: JobScheduler,
        executor: Executor,
        models: ModelService,
    ) -> None:
        super().__init__(settings, store, objects, scheduler, executor)
        self._models = models

    def new_document(self, request: dict[str, Any], arn: str, now: float) -> dict[str, Any]:
        check_request(request, self.context.objects, self._models)
        return initial_document(request, arn, now)

    def build_run(self, record: ResourceRecord) -> TransformRun:
        try:
            model = self._models.get(record.document["ModelName"]).document
        except ValidationError as exc:
            raise JobFailure(f"ClientError: {exc.message}") from exc
        return TransformRun(record.name, record.document, self.context, model)
