"""Training, Processing, Transform and Tuning steps: real jobs through the job services.

The step's resolved arguments are the job's Create request; the pipeline names the job
(``pipelines-<execution id>-<step>-<random>``) and tags it with the execution's ARN and
the step's name, as SageMaker does (the SDK's lineage helpers find a job's execution by
the ``sagemaker:pipeline-execution-arn`` tag). A ``@step`` function is a training step
whose job runs the SDK's remote-function driver; its job is told where this server is
(AWS_ENDPOINT_URL and credentials), since the driver reads its function from S3 and
writes the pickled result back, as it does on SageMaker with the job's role.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagebox.services.errors import ServiceError
from sagebox.services.job_states import ACTIVE, COMPLETED, FAILED, STOPPED
from sagebox.services.jobs import JobService
from sagebox.services.pipelines.definition import Step
from sagebox.services.pipelines.expressions import Scope
from sagebox.services.pipelines.step_kinds import EXECUTING, Progress, Started, StepContext
from sagebox.services.pipelines.step_kinds import FAILED as STEP_FAILED
from sagebox.services.pipelines.step_kinds import STOPPED as STEP_STOPPED
from sagebox.services.pipelines.step_kinds import SUCCEEDED as STEP_SUCCEEDED

EXECUTION_TAG, STEP_TAG = "sagemaker:pipeline-execution-arn", "sagemaker:pipeline-step-name"
TOP_TRAINING_JOBS = 50
"""How many of a tuning step's best training jobs its TrainingJobSummaries property holds."""


@dataclass(frozen=True)
class JobStepKind:
    """A step that runs one job of a job family."""

    job_kind: str
    """The job family's kind (TrainingJob), also its Metadata member less ``Job``."""
    metadata_key: str
    service: JobService[Any]

    @property
    def name_member(self) -> str:
        return self.service.family.name_member

    def start(
        self, step: Step, arguments: Any, job_name: str | None, scope: Scope, context: StepContext
    ) -> Started:
        if job_name is None:
            raise ValueError(f"a {step.type} step needs a job name")
        request = copy.deepcopy(arguments) if isinstance(arguments, dict) else {}
        request[self.name_member] = job_name
        tags = [
            t for t in request.get("Tags") or [] if t.get("Key") not in (EXECUTION_TAG, STEP_TAG)
        ]
        request["Tags"] = [
            *tags,
            {"Key": EXECUTION_TAG, "Value": context.execution_arn},
            {"Key": STEP_TAG, "Value": step.name},
        ]
        answer = self.service.create(request)
        arn = answer[self.service.family.arn_member]
        return Started(
            EXECUTING,
            {self.metadata_key: {"Arn": arn}},
            job={"kind": self.job_kind, "name": job_name},
        )

    def status(self, record: Mapping[str, Any], context: StepContext) -> Progress:
        job = record["_sagebox"]["job"]
        found = self.service.record(job["name"])
        if found is None:
            return Progress(
                STEP_FAILED,
                f"InternalServerError: the step's {self.service.family.noun} {job['name']} is gone.",
            )
        state = self.service.states.state_of(found)
        if state in ACTIVE:
            return Progress(EXECUTING)
        if state == COMPLETED:
            return Progress(STEP_SUCCEEDED)
        if state == FAILED:
            return Progress(STEP_FAILED, found.document.get("FailureReason") or "The job failed.")
        if state == STOPPED:
            return Progress(STEP_STOPPED)
        return Progress(EXECUTING)

    def stop(self, record: Mapping[str, Any], context: StepContext) -> bool:
        job = record["_sagebox"]["job"]
        with contextlib.suppress(ServiceError):  # it may have ended on its own meanwhile
            self.service.stop(job["name"])
        return True

    def properties(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        name = record["_sagebox"]["job"]["name"]
        described = self.service.describe(name)
        if self.job_kind == "HyperParameterTuningJob":
            described = {**described, "TrainingJobSummaries": self._best_trials(name, described)}
        return described

    def _best_trials(self, name: str, described: Mapping[str, Any]) -> list[dict[str, Any]]:
        config = described.get("HyperParameterTuningJobConfig") or {}
        objective = config.get("HyperParameterTuningJobObjective") or {}
        order = "Descending" if objective.get("Type") == "Maximize" else "Ascending"
        listing = self.service.list_trials(  # type: ignore[attr-defined]
            {
                "HyperParameterTuningJobName": name,
                "SortBy": "FinalObjectiveMetricValue",
                "SortOrder": order,
                "MaxResults": TOP_TRAINING_JOBS,
            }
        )
        return list(listing["TrainingJobSummaries"])
