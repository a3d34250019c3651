"""The training job API: CreateTrainingJob, Describe, List, Stop; recovery after a restart."""

from __future__ import annotations

import logging
from typing import Any

from sagebox.config import Settings
from sagebox.objects import ObjectStore
from sagebox.runtime.executor import Executor
from sagebox.runtime.metrics import MetricObservation
from sagebox.runtime.scheduler import JobScheduler
from sagebox.services.errors import ResourceInUse, ServiceError, ValidationError
from sagebox.services.families import TRAINING_JOB
from sagebox.services.jobs import JobService
from sagebox.services.training.lifecycle import STATES
from sagebox.services.training.requests import initial_document, plan, plan_from_document
from sagebox.services.training.runner import MetricListener, TrainingRun
from sagebox.store import MetadataStore, ResourceRecord

log = logging.getLogger(__name__)


class TrainingJobService(JobService[TrainingRun]):
    family = TRAINING_JOB
    states = STATES

    def __init__(
        self,
        settings: Settings,
        store: MetadataStore,
        objects: ObjectStore,
        scheduler: JobScheduler,
        executor: Executor,
    ) -> None:
        super().__init__(settings, store, objects, scheduler, executor)
        self.metric_listeners: list[MetricListener] = []

    def not_found(self, name: str) -> ServiceError:
        return ValidationError("Requested resource not found.")

    def already_exists(self, arn: str) -> ServiceError:
        return ResourceInUse(
            "Training job names must be unique within an AWS account and region, and a training job "
            f"with this name already exists ({arn})"
        )

    def create(
        self,
        request: dict[str, Any],
        *,
        tuning_job_arn: str | None = None,
        automl_job_arn: str | None = None,
    ) -> dict[str, Any]:
        """CreateTrainingJob; a tuning job's trials carry the tuning job's ARN, and those an
        AutoML job launched (through its tuning job) the AutoML job's too."""
        members = {"TuningJobArn": tuning_job_arn} if tuning_job_arn else {}
        if automl_job_arn:
            members["AutoMLJobArn"] = automl_job_arn
        return self.create_job(request, parent_arn=tuning_job_arn, members=members)

    def new_document(self, request: dict[str, Any], arn: str, now: float) -> dict[str, Any]:
        job_plan = plan(request, self.context.objects)
        return initial_document(request, arn, job_plan.algorithm, now)

    def build_run(self, record: ResourceRecord) -> TrainingRun:
        return TrainingRun(
            record.name, record.document, self.context, plan_from_document(record.document), self._notify_metric
        )

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

    def _notify_metric(self, job_name: str, observation: MetricObservation) -> None:
        for listener in list(self.metric_listeners):
            try:
                listener(job_name, observation)
            except Exception:
                log.exception("metric listener failed for %s", job_name)
