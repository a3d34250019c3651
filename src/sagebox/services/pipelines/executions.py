"""Pipeline executions: StartPipelineExecution, Describe, List, Stop, Update, Retry, the steps,
parameters and definition of an execution, and the answers of callback steps.

An execution is a job of the shared lifecycle (`services/jobs.py`) whose statuses are
SageMaker's Executing / Stopping / Stopped / Failed / Succeeded. Its run (`engine.py`)
has a thread of its own, as a tuning job's loop does, and holds no job slot while its
steps' jobs wait for theirs, so pipelines never deadlock with max_concurrent_jobs. The
jobs' Ended events wake the run of the execution that owns them. After a restart, every
execution that was running resumes from its step records.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sagebox.config import Settings
from sagebox.objects import ObjectStore
from sagebox.runtime.executor import Executor
from sagebox.runtime.scheduler import JobScheduler
from sagebox.services.automl import AutoMLJobService
from sagebox.services.callers import user_context
from sagebox.services.errors import ResourceNotFound, ServiceError, ValidationError
from sagebox.services.events import CREATED, ENDED, UPDATED, EventBus, ResourceEvent
from sagebox.services.families import PIPELINE_EXECUTION
from sagebox.services.hosting.models import ModelService
from sagebox.services.job_states import (
    ACTIVE,
    FAILED,
    IN_PROGRESS,
    STOPPED,
    STOPPING,
    JobStates,
    internal,
    public,
    to_datetime,
)
from sagebox.services.jobs import JobService
from sagebox.services.listing import page_of
from sagebox.services.pipelines import naming
from sagebox.services.pipelines.callback_answers import CallbackAnswers
from sagebox.services.pipelines.callback_steps import CallbackStepKind
from sagebox.services.pipelines.control_steps import (
    UNSUPPORTED_REASONS,
    ConditionStepKind,
    FailStepKind,
    UnsupportedStepKind,
)
from sagebox.services.pipelines.definition import (
    DefinitionError,
    PipelineDefinition,
    parse_definition,
)
from sagebox.services.pipelines.engine import EngineParts, ExecutionRun
from sagebox.services.pipelines.expressions import ExpressionError, as_text, evaluate
from sagebox.services.pipelines.job_steps import JobStepKind
from sagebox.services.pipelines.lambda_steps import LambdaStepKind
from sagebox.services.pipelines.model_steps import ModelStepKind, RegisterModelStepKind
from sagebox.services.pipelines.pipelines import PipelineService, checked_definition
from sagebox.services.pipelines.scope import ExecutionScope
from sagebox.services.pipelines.selective import check_selection
from sagebox.services.pipelines.step_kinds import StepContext, StepKind
from sagebox.services.pipelines.step_records import StepRecords
from sagebox.services.pipelines.validation import resolve_parameters
from sagebox.services.processing import ProcessingJobService
from sagebox.services.registry.groups import ModelPackageGroupService
from sagebox.services.registry.packages import ModelPackageService
from sagebox.services.run_threads import RunThreads
from sagebox.services.training import TrainingJobService
from sagebox.services.transform import TransformJobService
from sagebox.services.tuning import TuningJobService
from sagebox.store import (
    AllOf,
    ColumnSort,
    Condition,
    InvalidNextToken,
    MetadataStore,
    ResourceRecord,
)
from sagebox.store.query import Expression

log = logging.getLogger(__name__)

STATUS_WORDS = {"InProgress": "Executing", "Completed": "Succeeded"}
"""SageMaker's words for the lifecycle's states; Stopping, Stopped and Failed are the same."""
STEP_EVENT_KIND = "PipelineExecutionStep"
"""The kind of the events a step publishes when it gets a job or model, or ends."""
JOB_KINDS = ("TrainingJob", "ProcessingJob", "TransformJob", "HyperParameterTuningJob", "AutoMLJob")
DEFAULT_PAGE_SIZE = 10
STEPS_PAGE_SIZE = 100
RETRYABLE = (FAILED, STOPPED)


class PipelineExecutionService(JobService[ExecutionRun]):
    family = PIPELINE_EXECUTION
    states = JobStates(PIPELINE_EXECUTION, words=STATUS_WORDS)

    def __init__(
        self,
        settings: Settings,
        store: MetadataStore,
        objects: ObjectStore,
        scheduler: JobScheduler,
        executor: Executor,
        events: EventBus,
        pipelines: PipelineService,
        training: TrainingJobService,
        processing: ProcessingJobService,
        transform: TransformJobService,
        tuning: TuningJobService,
        models: ModelService,
        model_packages: ModelPackageService,
        model_package_groups: ModelPackageGroupService,
        automl: AutoMLJobService,
    ) -> None:
        super().__init__(settings, store, objects, scheduler, executor)
        self.events = events
        self._objects = objects
        self._pipelines = pipelines
        self._steps = StepRecords(store)
        self._kinds: dict[str, StepKind] = {
            "Training": JobStepKind("TrainingJob", "TrainingJob", training),
            "Processing": JobStepKind("ProcessingJob", "ProcessingJob", processing),
            "Transform": JobStepKind("TransformJob", "TransformJob", transform),
            "Tuning": JobStepKind("HyperParameterTuningJob", "TuningJob", tuning),
            "AutoML": JobStepKind("AutoMLJob", "AutoMLJob", automl),
            "Model": ModelStepKind(models),
            "RegisterModel": RegisterModelStepKind(model_packages, model_package_groups),
            "Condition": ConditionStepKind(),
            "Fail": FailStepKind(),
            "Callback": CallbackStepKind(),
            "Lambda": LambdaStepKind(),
            **{kind: UnsupportedStepKind(kind) for kind in UNSUPPORTED_REASONS},
        }
        self.callbacks = CallbackAnswers(self._steps, self._definition_of, self._wake_arn)
        self._threads = RunThreads("pipeline")
        self._published: dict[str, set[str]] = {}
        events.subscribe(self._job_event, kinds=set(JOB_KINDS))

    def not_found(self, name: str) -> ServiceError:
        return ResourceNotFound(f"Pipeline execution '{name}' does not exist.")

    def new_document(self, request: dict[str, Any], arn: str, now: float) -> dict[str, Any]:
        raise NotImplementedError("pipeline executions are made by StartPipelineExecution (start)")

    # -- StartPipelineExecution ------------------------------------------------------------

    def start(self, request: dict[str, Any]) -> dict[str, Any]:
        pipeline = self._pipelines.get(request["PipelineName"])
        version = self._pipelines.version_of(
            pipeline, request.get("PipelineVersionId"), request.get("PipelineVersionAlias")
        )
        version_id = (
            int(version.document["PipelineVersionId"])
            if version
            else self._pipelines.current_version(pipeline)
        )
        text = self._pipelines.versions.definition(
            version or self._pipelines.versions.get(pipeline, version_id)
        )
        definition = checked_definition(text)
        token = request.get("ClientRequestToken")
        earlier = self._by_token(pipeline.arn, token)
        if earlier is not None:
            return {"PipelineExecutionArn": earlier.arn}
        try:
            parameters = resolve_parameters(definition, request.get("PipelineParameters"))
        except DefinitionError as exc:
            raise ValidationError(str(exc)) from exc
        selection = check_selection(
            self, pipeline, definition, request.get("SelectiveExecutionConfig")
        )
        execution = naming.execution_id()
        arn = naming.execution_arn(pipeline.arn, execution)
        now = round(time.time(), 3)
        caller = user_context(self._settings.account_id)
        document: dict[str, Any] = {
            "PipelineArn": pipeline.arn,
            "PipelineExecutionArn": arn,
            "PipelineExecutionDisplayName": request.get("PipelineExecutionDisplayName")
            or f"execution-{int(now * 1000)}",
            "PipelineExecutionStatus": self.states.word(IN_PROGRESS),
            "PipelineExecutionDescription": request.get("PipelineExecutionDescription"),
            "CreationTime": now,
            "LastModifiedTime": now,
            "CreatedBy": caller,
            "LastModifiedBy": caller,
            "ParallelismConfiguration": request.get("ParallelismConfiguration")
            or pipeline.document.get("ParallelismConfiguration"),
            "SelectiveExecutionConfig": selection.config if selection else None,
            "PipelineVersionId": version_id,
            "RoleArn": request.get("RoleArn") or pipeline.document.get("RoleArn"),
            "_sagebox": {
                "definition": text,
                "parameters": parameters,
                "client_token": token,
                "launched": True,
                "selected_steps": selection.steps if selection else None,
                "source_execution_arn": selection.source_arn if selection else None,
            },
        }
        experiment = self._experiment_config(definition, parameters, pipeline, execution, arn, now)
        if experiment:
            document["PipelineExperimentConfig"] = experiment
        document = {k: v for k, v in document.items() if v is not None}
        record = ResourceRecord(
            self.family.kind,
            execution,
            arn,
            self.states.word(IN_PROGRESS),
            to_datetime(now),
            to_datetime(now),
            document,
            parent_arn=pipeline.arn,
        )
        self.leases.claim(arn, self._lost_listener(execution))  # a new ARN: no other server holds it
        try:
            self._repo.create(record)
        except BaseException:
            self.leases.release(arn)
            raise
        self._pipelines.note_execution(pipeline, version_id, arn, now)
        self._publish(CREATED, record)
        self.launch(execution)
        return {"PipelineExecutionArn": arn}

    @property
    def step_records(self) -> StepRecords:
        return self._steps

    def latest_arn(self, pipeline_arn: str) -> str | None:
        """The ARN of the pipeline's latest execution, if it has one."""
        records, _ = self._repo.query(
            Condition(("PipelineArn",), "Equals", pipeline_arn),
            ColumnSort("CreationTime", "Descending"),
            max_results=1,
        )
        return records[0].arn if records else None

    def _by_token(self, pipeline_arn: str, token: str | None) -> ResourceRecord | None:
        if not token:
            return None
        found, _ = self._repo.query(
            AllOf(
                [
                    Condition(("PipelineArn",), "Equals", pipeline_arn),
                    Condition(("_sagebox", "client_token"), "Equals", token),
                ]
            ),
            max_results=1,
        )
        return found[0] if found else None

    def _experiment_config(
        self,
        definition: PipelineDefinition,
        parameters: dict[str, Any],
        pipeline: ResourceRecord,
        execution: str,
        arn: str,
        now: float,
    ) -> dict[str, str] | None:
        if not definition.experiment_config:
            return None
        variables = {
            "PipelineExecutionId": execution,
            "PipelineExecutionArn": arn,
            "PipelineName": pipeline.name,
            "PipelineArn": pipeline.arn,
            "StartDateTime": str(now),
        }
        scope = ExecutionScope(definition, parameters, variables, lambda step: {}, self._objects)
        try:
            resolved = evaluate(dict(definition.experiment_config), scope)
        except ExpressionError as exc:
            raise ValidationError(f"PipelineExperimentConfig: {exc}") from exc
        return {
            k: as_text(v)
            for k, v in resolved.items()
            if k in ("ExperimentName", "TrialName") and v is not None
        }

    # -- reading executions ----------------------------------------------------------------

    def get(self, arn: str) -> ResourceRecord:
        execution = naming.execution_id_of(arn)
        record = self._repo.get(execution) if execution else None
        if record is None or record.arn != arn:
            raise self.not_found(arn)
        return record

    def describe(self, arn: str) -> dict[str, Any]:
        return public(self.get(arn).document)

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        pipeline = self._pipelines.get(request["PipelineName"])
        conditions: list[Expression] = [Condition(("PipelineArn",), "Equals", pipeline.arn)]
        if request.get("PipelineVersionAlias"):
            version = self._pipelines.versions.with_alias(pipeline, request["PipelineVersionAlias"])
            conditions.append(
                Condition(
                    ("PipelineVersionId",), "Equals", int(version.document["PipelineVersionId"])
                )
            )
        if request.get("CreatedAfter") is not None:
            conditions.append(
                Condition(("CreationTime",), "GreaterThan", request["CreatedAfter"].timestamp())
            )
        if request.get("CreatedBefore") is not None:
            conditions.append(
                Condition(("CreationTime",), "LessThan", request["CreatedBefore"].timestamp())
            )
        by = "Name" if request.get("SortBy") == "PipelineExecutionArn" else "CreationTime"
        try:
            records, token = self._repo.query(
                AllOf(conditions),
                ColumnSort(by, request.get("SortOrder") or "Descending"),
                max_results=request.get("MaxResults") or DEFAULT_PAGE_SIZE,
                next_token=request.get("NextToken"),
            )
        except InvalidNextToken as exc:
            raise ValidationError(
                f"Invalid pagination token: {request.get('NextToken')!r}"
            ) from exc
        return {
            "PipelineExecutionSummaries": [self.summary(r) for r in records],
            "NextToken": token,
        }

    def summary(self, record: ResourceRecord) -> dict[str, Any]:
        document = record.document
        summary = {
            "PipelineExecutionArn": record.arn,
            "StartTime": document["CreationTime"],
            "PipelineExecutionStatus": document["PipelineExecutionStatus"],
            "PipelineExecutionDescription": document.get("PipelineExecutionDescription"),
            "PipelineExecutionDisplayName": document.get("PipelineExecutionDisplayName"),
            "PipelineExecutionFailureReason": document.get("FailureReason"),
        }
        return {k: v for k, v in summary.items() if v is not None}

    def list_steps(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self.get(request.get("PipelineExecutionArn") or "")
        try:
            steps, token = self._steps.page(
                record.arn,
                request.get("SortOrder") or "Descending",
                request.get("MaxResults") or STEPS_PAGE_SIZE,
                request.get("NextToken"),
            )
        except InvalidNextToken as exc:
            raise ValidationError(
                f"Invalid pagination token: {request.get('NextToken')!r}"
            ) from exc
        for step in steps:
            if step.get("StepStatus") == "Starting":
                step["StepStatus"] = "Executing"
        return {"PipelineExecutionSteps": steps, "NextToken": token}

    def list_parameters(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self.get(request["PipelineExecutionArn"])
        values = internal(record)["parameters"]
        parameters = [{"Name": k, "Value": as_text(v)} for k, v in values.items()]
        page, token = page_of(parameters, request, default_size=50)
        return {"PipelineParameters": page, "NextToken": token}

    def describe_definition(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self.get(request["PipelineExecutionArn"])
        return {
            "PipelineDefinition": internal(record)["definition"],
            "CreationTime": record.document["CreationTime"],
        }

    def _definition_of(self, execution_arn: str) -> PipelineDefinition:
        return parse_definition(internal(self.get(execution_arn))["definition"])

    # -- changing executions -------------------------------------------------------------------

    def stop(self, arn: str) -> dict[str, Any]:
        record = self.get(arn)

        def stopping(execution: ResourceRecord) -> None:
            state = self.states.state_of(execution)
            if state == STOPPING:
                return
            if state != IN_PROGRESS:
                raise ValidationError(
                    f"Pipeline execution '{execution.arn}' is {execution.status}; only an Executing execution can be stopped."
                )
            self.states.advance(execution, STOPPING, time.time())

        self._repo.modify(record.name, stopping)
        with self._lock:
            run = self._runs.get(record.name)
        if run is not None:
            run.stop()
        return {"PipelineExecutionArn": record.arn}

    def update(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self.get(request["PipelineExecutionArn"])

        def change(execution: ResourceRecord) -> None:
            for member in (
                "PipelineExecutionDescription",
                "PipelineExecutionDisplayName",
                "ParallelismConfiguration",
            ):
                if request.get(member) is not None:
                    execution.document[member] = request[member]
            now = time.time()
            execution.document["LastModifiedTime"] = now
            execution.document["LastModifiedBy"] = user_context(self._settings.account_id)
            execution.last_modified_time = to_datetime(now)

        updated = self._repo.modify(record.name, change)
        with self._lock:
            run = self._runs.get(record.name)
        if run is not None and request.get("ParallelismConfiguration"):
            run.max_parallel = int(request["ParallelismConfiguration"]["MaxParallelExecutionSteps"])
            run.wake()
        self._publish(UPDATED, updated)
        return {"PipelineExecutionArn": record.arn}

    def retry(self, request: dict[str, Any]) -> dict[str, Any]:
        """RetryPipelineExecution: the failed and stopped steps run again; the others stand."""
        record = self.get(request["PipelineExecutionArn"])
        with self._lock:
            if record.name in self._runs:
                raise ValidationError(
                    f"Pipeline execution '{record.arn}' is still running; it cannot be retried."
                )

        def again(execution: ResourceRecord) -> None:
            if self.states.state_of(execution) not in RETRYABLE:
                raise ValidationError(
                    f"Pipeline execution '{execution.arn}' is {execution.status}; only a Failed or Stopped "
                    "execution can be retried."
                )
            execution.document.pop("FailureReason", None)
            if request.get("ParallelismConfiguration"):
                execution.document["ParallelismConfiguration"] = request["ParallelismConfiguration"]
            self.states.advance(execution, IN_PROGRESS, time.time())

        if not self.leases.claim(record.arn, self._lost_listener(record.name)):
            raise ValidationError(f"Pipeline execution '{record.arn}' is still running; it cannot be retried.")
        try:
            self._repo.modify(record.name, again)
        except BaseException:
            self.leases.release(record.arn)
            raise
        now = time.time()
        for step in self._steps.of_execution(record.arn):
            if step.document.get("StepStatus") in ("Failed", "Stopped"):
                self._steps.modify(*step.name.split("/", 1), lambda r: _retry_step(r, now))
        self.launch(record.name)
        return {"PipelineExecutionArn": record.arn}

    # -- the runs ---------------------------------------------------------------------------

    def launch(self, name: str) -> None:
        """An execution's loop runs in its own thread; only its steps' jobs take job slots."""
        self._threads.start(self.execute, name)

    def _execute(self, name: str) -> None:
        record = self._repo.get(name)
        if record is None or self.states.state_of(record) not in ACTIVE:
            return
        try:
            run = self.build_run(record)
        except Exception as exc:
            log.exception("pipeline execution %s could not be prepared", name)
            self._end(
                name, FAILED, f"InternalServerError: sagebox could not run the execution: {exc!r}"
            )
            return
        with self._lock:
            self._runs[name] = run
        if self.states.state_of(record) == STOPPING:
            run.stop()
        try:
            run.execute()
        finally:
            with self._lock:
                self._runs.pop(name, None)
                self._published.pop(record.arn, None)
        ended = self._repo.get(name)
        if ended is not None and self.states.is_terminal(ended):
            self._publish(ENDED, ended)

    def build_run(self, record: ResourceRecord) -> ExecutionRun:
        pipeline_name = self._pipelines.get(str(record.parent_arn)).name
        context = StepContext(
            settings=self._settings,
            objects=self._objects,
            pipeline_name=pipeline_name,
            pipeline_arn=str(record.parent_arn),
            execution_id=record.name,
            execution_arn=record.arn,
            role_arn=record.document.get("RoleArn"),
            api=self.context.api.environment(),
            wake=lambda: self._wake_name(record.name),
        )
        parts = EngineParts(
            self._kinds, self._steps, context, lambda step: self._step_changed(record.arn, step)
        )
        return ExecutionRun(record.name, record.document, self.context, parts)

    def _wake_name(self, name: str) -> None:
        with self._lock:
            run = self._runs.get(name)
        if run is not None:
            run.wake()

    def _wake_arn(self, arn: str) -> None:
        execution = naming.execution_id_of(arn)
        if execution:
            self._wake_name(execution)

    def _job_event(self, event: ResourceEvent) -> None:
        """A job ended: the run of the execution that named it goes on at once."""
        if event.change == ENDED and event.name.startswith("pipelines-"):
            self._wake_name(event.name.split("-")[1])

    def _step_changed(self, execution_arn: str, step: dict[str, Any]) -> None:
        """Publishes a step once for each job, model or status it gets (the execution's lineage
        follows these events)."""
        metadata = step.get("Metadata") or {}
        if not metadata:
            return
        key = f"{step['StepName']}:{metadata}:{step.get('StepStatus')}"
        seen = self._published.setdefault(execution_arn, set())
        if key in seen:
            return
        seen.add(key)
        name = f"{naming.execution_id_of(execution_arn)}/{step['StepName']}"
        arn = f"{execution_arn}/step/{step['StepName']}"
        self.events.publish(ResourceEvent(STEP_EVENT_KIND, name, arn, UPDATED, public(step)))

    def recover_record(self, record: ResourceRecord) -> None:
        """An execution whose server stopped goes on from its step records."""
        self.launch(record.name)

    def shutdown(self) -> None:
        """Interrupts every run (the executions stay Executing for the next server) and waits."""
        super().shutdown()
        self._threads.join()


def _retry_step(record: ResourceRecord, now: float) -> None:
    document = record.document
    document["StepStatus"] = "Executing"
    document.pop("EndTime", None)
    document.pop("FailureReason", None)
    own = internal(record)
    own.update(retry_at=now, first_attempt_at=now)
    own.pop("stop_requested", None)
