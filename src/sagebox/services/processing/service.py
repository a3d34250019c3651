"""The processing job API: CreateProcessingJob, Describe, List, Stop, Delete; recovery after a restart."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from typing import Any

from sagebox.runtime.processing_workspace import job_root
from sagebox.services.errors import ResourceInUse, ResourceNotFound, ServiceError, ValidationError
from sagebox.services.families import PROCESSING_JOB
from sagebox.services.job_states import JobStates
from sagebox.services.jobs import JobFailure, JobService
from sagebox.services.processing.requests import initial_document, link_members, plan
from sagebox.services.processing.runner import ProcessingRun
from sagebox.store import NotFound, ResourceRecord


class ProcessingJobService(JobService[ProcessingRun]):
    family = PROCESSING_JOB
    states = JobStates(PROCESSING_JOB)

    def already_exists(self, arn: str) -> ServiceError:
        return ValidationError(
            "Job name must be unique within an AWS account and region, and a job with this name "
            f"already exists ({arn})"
        )

    def create(self, request: dict[str, Any], *, links: Mapping[str, str] | None = None) -> dict[str, Any]:
        """CreateProcessingJob; `links` are the MonitoringScheduleArn / AutoMLJobArn /
        TrainingJobArn of a job another service starts."""
        return self.create_job(request, members=link_members(links))

    def new_document(self, request: dict[str, Any], arn: str, now: float) -> dict[str, Any]:
        plan(request, self.context.objects)
        return initial_document(request, arn, now)

    def build_run(self, record: ResourceRecord) -> ProcessingRun:
        try:
            job_plan = plan(record.document)
        except ValidationError as exc:  # a record an older sagebox accepted
            raise JobFailure(f"ClientError: {exc.message}") from exc
        # The job reaches this server's API as a SageMaker container reaches AWS (Clarify's
        # shadow endpoint, a script's boto3 calls): services/job_api_access.py.
        api = self.context.api.environment()
        return ProcessingRun(record.name, record.document, self.context, job_plan, api_environment=api)

    def delete(self, name: str) -> dict[str, Any]:
        """DeleteProcessingJob: a finished job's record, tags and folder (its log too) go."""
        record = self._repo.get(name)
        if record is None:
            raise ResourceNotFound(f"Could not find requested job with name {name}")
        if not self.states.is_terminal(record):
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
