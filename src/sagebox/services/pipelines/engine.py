"""One pipeline execution running: the scheduler that starts ready steps and follows them.

The loop starts every ready step (its inputs have succeeded, its branch was taken) up to
MaxParallelExecutionSteps at a time, through the step's kind (`step_kinds.py`): jobs go
to the job services and run in their job slots, this loop holding none while it waits.
A job's end wakes the loop at once (the service forwards the job's Ended event), so a
step follows its inputs within milliseconds. A failed step is retried as its retry
policies say; otherwise no further step starts and the execution fails once the running
steps end, naming the failed step. A stop stops the running steps (a callback step waits
for its token, a Lambda function for its return) and ends the execution Stopped.

Every step change is written to the step's record first, so a restarted server resumes
the execution from its records: steps that succeeded stay done, running jobs are followed
again, and a step whose job the server's stop interrupted runs again as a new attempt.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sagebox.services.errors import ResourceLimitExceeded, ServiceError
from sagebox.services.job_states import COMPLETED, FAILED, STOPPED
from sagebox.services.jobs import Ending, JobContext, JobRun
from sagebox.services.pipelines import graph as states
from sagebox.services.pipelines.cache import cache_key, parse_duration
from sagebox.services.pipelines.definition import PipelineDefinition, Step, parse_definition
from sagebox.services.pipelines.expressions import ExpressionError, evaluate
from sagebox.services.pipelines.graph import PipelineGraph
from sagebox.services.pipelines.naming import job_name
from sagebox.services.pipelines.retry import (
    RESOURCE_LIMIT,
    SERVICE_FAULT,
    THROTTLING,
    failure_type,
    retry_delay,
)
from sagebox.services.pipelines.scope import ExecutionScope, iso_time
from sagebox.services.pipelines.step_kinds import Progress, Started, StepContext, StepKind
from sagebox.services.pipelines.step_records import StepRecords

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
"""How often running steps are looked at when nothing wakes the loop."""
INTERRUPTED_PREFIX = "InternalServerError: the sagebox server stopped"
CACHEABLE = (
    "Processing",
    "Training",
    "Tuning",
    "Transform",
    "AutoML",
    "Callback",
    "Lambda",
    "EMR",
    "ClarifyCheck",
    "QualityCheck",
)
FAILURE_LIMIT = 1024


@dataclass(frozen=True)
class EngineParts:
    """What an execution's run works with, from its service."""

    kinds: Mapping[str, StepKind]
    steps: StepRecords
    context: StepContext
    on_step_change: Callable[[dict[str, Any]], None]
    """Called with a step's document after each change (the execution publishes what is new)."""


class ExecutionRun(JobRun):
    """The loop of one execution. A server shutdown interrupts it and leaves the execution
    Executing for the next server to resume."""

    def __init__(
        self, name: str, document: dict[str, Any], context: JobContext, parts: EngineParts
    ) -> None:
        super().__init__(name, document, context)
        own = internal_of(document)
        self.arn = document["PipelineExecutionArn"]
        self.definition: PipelineDefinition = parse_definition(own["definition"])
        self.graph = PipelineGraph(self.definition)
        self._parts = parts
        self._kinds = parts.kinds
        self._records = parts.steps
        self._context = parts.context
        self.max_parallel = int(
            (document.get("ParallelismConfiguration") or {}).get("MaxParallelExecutionSteps") or 50
        )
        self._selected = set(own.get("selected_steps") or [])
        self._reused = self.graph.upstream(self._selected) if self._selected else set()
        self._source_arn = own.get("source_execution_arn")
        self._wake = threading.Event()
        self._steps: dict[str, dict[str, Any]] = {
            r.document["StepName"]: r.document for r in self._records.of_execution(self.arn)
        }
        self._properties: dict[str, Mapping[str, Any]] = {}
        variables = {
            "PipelineExecutionId": self._context.execution_id,
            "PipelineExecutionArn": self.arn,
            "PipelineName": self._context.pipeline_name,
            "PipelineArn": self._context.pipeline_arn,
            "StartDateTime": iso_time(float(document["CreationTime"])),
        }
        self.scope = ExecutionScope(
            self.definition,
            own["parameters"],
            variables,
            self._properties_of,
            self._context.objects,
        )

    # -- control (any thread) --------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        super().stop()
        self.wake()

    def conclude(self, ending: Ending) -> None:
        if not self.interrupted:
            super().conclude(ending)

    # -- the loop -----------------------------------------------------------------------------

    @property
    def stop_requested(self) -> bool:
        """StopPipelineExecution was called (a server shutdown interrupts without stopping steps;
        `interrupted` is set before the stop signal, so a stop seen here without it is a user's)."""
        return self.stopping and not self.interrupted

    def run(self) -> Ending:
        while not self.interrupted:
            self._wake.clear()
            self._follow_running()
            if self.interrupted:
                break
            if self.stop_requested:
                self._stop_running()
                if not self._running():
                    return Ending(STOPPED)
            else:
                started = self._start_ready()
                if not self._running() and not started and not self._waiting():
                    return self._ending()
                if started:
                    continue
            self._wake.wait(self._next_timeout())
        return Ending(FAILED, "interrupted")

    def _running(self) -> list[str]:
        return [
            n
            for n, d in self._steps.items()
            if d["StepStatus"] in states.ACTIVE_STATES and not internal_of(d).get("retry_at")
        ]

    def _waiting(self) -> list[str]:
        """Steps waiting to be retried."""
        return [
            n
            for n, d in self._steps.items()
            if d["StepStatus"] in states.ACTIVE_STATES and internal_of(d).get("retry_at")
        ]

    def _next_timeout(self) -> float:
        retry_times = [internal_of(self._steps[n])["retry_at"] for n in self._waiting()]
        if not retry_times:
            return POLL_SECONDS
        return max(0.0, min(POLL_SECONDS, min(retry_times) - time.time()))

    def _outcomes(self) -> dict[str, bool]:
        return {
            n: bool((internal_of(d).get("properties") or {}).get("Outcome"))
            for n, d in self._steps.items()
            if self.definition.steps[n].type == "Condition" and d["StepStatus"] == states.SUCCEEDED
        }

    def _start_ready(self) -> bool:
        """Starts due retries and ready steps within the parallelism limit; True if any started."""
        started = False
        now = time.time()
        for name in self._waiting():
            if (
                internal_of(self._steps[name])["retry_at"] <= now
                and len(self._running()) < self.max_parallel
            ):
                self._attempt(name)
                started = True
        if any(d["StepStatus"] in (states.FAILED, states.STOPPED) for d in self._steps.values()):
            return started  # a failed step: nothing new starts; the running steps finish
        view = {n: d["StepStatus"] for n, d in self._steps.items()}
        for name in self.graph.next_steps(view, self._outcomes()).ready:
            if len(self._running()) >= self.max_parallel:
                break
            if self._selected and name not in self._selected:
                if name in self._reused:
                    self._reuse(name)
                    started = True
                continue
            self._begin(name)
            started = True
        return started

    def _ending(self) -> Ending:
        """Succeeded when no step failed; else Failed, naming the first step that failed (a step
        whose job was stopped from outside the pipeline counts as failed: what needs it never ran)."""
        ended_badly = (states.FAILED, states.STOPPED)
        failed = sorted(
            (n for n, d in self._steps.items() if d["StepStatus"] in ended_badly),
            key=lambda n: self._steps[n].get("EndTime") or 0,
        )
        if not failed:
            return Ending(COMPLETED)
        first = self._steps[failed[0]]
        cause = first.get("FailureReason") or (
            "its job was stopped" if first["StepStatus"] == states.STOPPED else "no reason given"
        )
        reason = f"Step failure: {failed[0]} failed: {cause}"
        if len(failed) > 1:
            reason += f" (also failed: {', '.join(failed[1:])})"
        return Ending(FAILED, reason[:FAILURE_LIMIT])

    # -- starting steps -------------------------------------------------------------------

    def _begin(self, name: str) -> None:
        step = self.definition.steps[name]
        now = time.time()
        document: dict[str, Any] = {
            "StepName": name,
            "StartTime": now,
            "StepStatus": states.STARTING,
            "AttemptCount": 0,
            "_sagebox": {
                "type": step.type,
                "first_attempt_at": now,
                "pipeline_arn": self._context.pipeline_arn,
            },
        }
        if step.display_name:
            document["StepDisplayName"] = step.display_name
        if step.description:
            document["StepDescription"] = step.description
        self._steps[name] = document
        self._attempt(name)

    def _attempt(self, name: str) -> None:
        step = self.definition.steps[name]
        document = self._steps[name]
        own = internal_of(document)
        own.pop("retry_at", None)
        own.pop("job", None)
        document["AttemptCount"] = int(document.get("AttemptCount") or 0) + 1
        kind = self._kinds[step.type]
        name_for_job = (
            job_name(kind.job_kind, self._context.execution_id, name) if kind.job_kind else None
        )
        self.scope.job_name = name_for_job
        try:
            arguments = (
                step.arguments if step.type == "Condition" else evaluate(step.arguments, self.scope)
            )
        except ExpressionError as exc:
            self._conclude(name, Progress(states.FAILED, f"ClientError: {exc}"))
            return
        finally:
            self.scope.job_name = None
        if self._cache_hit(step, arguments):
            return
        try:
            outcome = kind.start(step, arguments, name_for_job, self.scope, self._context)
        except ServiceError as exc:
            self._failed_start(name, exc)
            return
        except ExpressionError as exc:
            self._conclude(name, Progress(states.FAILED, f"ClientError: {exc}"))
            return
        except Exception as exc:
            log.exception("pipeline step %s of %s could not start", name, self.arn)
            self._retry_or_fail(
                name, SERVICE_FAULT, f"InternalServerError: the step could not start: {exc!r}"
            )
            return
        self._started(name, outcome)

    def _failed_start(self, name: str, error: ServiceError) -> None:
        if isinstance(error, ResourceLimitExceeded):
            self._retry_or_fail(name, RESOURCE_LIMIT, f"ResourceLimitExceeded: {error.message}")
        elif error.code in ("ThrottlingException", "Throttling"):
            self._retry_or_fail(name, THROTTLING, f"ThrottlingException: {error.message}")
        else:
            self._conclude(
                name, Progress(states.FAILED, f"ClientError: {error.message}"), retryable=False
            )

    def _started(self, name: str, outcome: Started) -> None:
        document = self._steps[name]
        own = internal_of(document)
        document["Metadata"] = dict(outcome.metadata)
        if outcome.job is not None:
            own["job"] = dict(outcome.job)
        own.update(outcome.state_data)
        if outcome.properties is not None:
            own["properties"] = _plain(outcome.properties)
        if outcome.state == states.EXECUTING:
            document["StepStatus"] = states.EXECUTING
            self._save(name)
            return
        # A step that failed as it started (a Fail step, an unsupported type) is not retried.
        self._conclude(name, Progress(outcome.state, outcome.reason), retryable=False)

    def _cache_hit(self, step: Step, arguments: Any) -> bool:
        """Reuses an earlier successful run with the same cache key, when the step's CacheConfig
        allows. Every run of a cacheable step keeps its key, so a pipeline that turns caching on
        finds the runs made before."""
        if step.type not in CACHEABLE:
            return False
        extra = {
            k: step.raw.get(k)
            for k in ("FunctionArn", "SqsQueueUrl", "OutputParameters")
            if k in step.raw
        }
        key = cache_key(self._context.pipeline_arn, step.name, step.type, arguments, extra or None)
        document = self._steps[step.name]
        internal_of(document)["cache_key"] = key
        if step.cache is None or not step.cache.enabled:
            return False
        expiry = parse_duration(step.cache.expire_after) if step.cache.expire_after else None
        hit = self._records.cached(key, time.time() - expiry if expiry is not None else None)
        if hit is None:
            return False
        source = hit.document
        origin = (source.get("CacheHitResult") or {}).get(
            "SourcePipelineExecutionArn"
        ) or hit.parent_arn
        document["Metadata"] = copy.deepcopy(source.get("Metadata") or {})
        document["CacheHitResult"] = {"SourcePipelineExecutionArn": origin}
        for member in ("job", "properties"):
            if member in internal_of(source):
                internal_of(document)[member] = copy.deepcopy(internal_of(source)[member])
        self._conclude(step.name, Progress(states.SUCCEEDED))
        return True

    def _reuse(self, name: str) -> None:
        """A step left out of a selective execution: its run in the source execution stands."""
        source = self._records.get(self._source_id(), name)
        now = time.time()
        document: dict[str, Any] = {
            "StepName": name,
            "StartTime": now,
            "StepStatus": states.STARTING,
            "AttemptCount": 0,
            "_sagebox": {"type": self.definition.steps[name].type, "first_attempt_at": now},
        }
        self._steps[name] = document
        if source is None or source.document.get("StepStatus") != states.SUCCEEDED:
            self._conclude(
                name,
                Progress(
                    states.FAILED,
                    (
                        f"ClientError: step {name} did not succeed in the source execution {self._source_arn}, "
                        "so a selective execution cannot reuse it."
                    ),
                ),
            )
            return
        document["Metadata"] = copy.deepcopy(source.document.get("Metadata") or {})
        document["AttemptCount"] = source.document.get("AttemptCount", 1)
        document["SelectiveExecutionResult"] = {"SourcePipelineExecutionArn": self._source_arn}
        for member in ("job", "properties"):
            if member in internal_of(source.document):
                internal_of(document)[member] = copy.deepcopy(internal_of(source.document)[member])
        self._conclude(name, Progress(states.SUCCEEDED))

    def _source_id(self) -> str:
        return str(self._source_arn).rsplit("/", 1)[-1]

    # -- following and ending steps ---------------------------------------------------------

    def _follow_running(self) -> None:
        for name in self._running():
            step = self.definition.steps[name]
            kind = self._kinds[step.type]
            document = self._steps[name]
            if step.type == "Callback":  # its token comes back through the API, into the record
                fresh = self._records.get(self._context.execution_id, name)
                if fresh is not None:
                    self._steps[name] = document = fresh.document
                if document["StepStatus"] not in states.ACTIVE_STATES:
                    self._parts.on_step_change(document)
                continue
            progress = kind.status(document, self._context)
            if progress.state != states.EXECUTING:
                self._conclude(name, progress)

    def _stop_running(self) -> None:
        if self.interrupted:
            return
        for name in self._waiting():
            self._conclude(name, Progress(states.STOPPED))
        for name in self._running():
            document = self._steps[name]
            own = internal_of(document)
            if own.get("stop_requested"):
                continue
            step = self.definition.steps[name]
            ends_by_itself = self._kinds[step.type].stop(document, self._context)
            own["stop_requested"] = True
            if ends_by_itself:
                document["StepStatus"] = (
                    states.STOPPING
                    if step.type not in ("Callback", "Lambda")
                    else document["StepStatus"]
                )
                self._save(name)
            else:
                self._conclude(name, Progress(states.STOPPED))

    def _conclude(self, name: str, progress: Progress, *, retryable: bool = True) -> None:
        if (
            retryable
            and progress.state == states.FAILED
            and self._retry_later(name, progress.reason)
        ):
            return
        document = self._steps[name]
        own = internal_of(document)
        now = time.time()
        document["StepStatus"] = progress.state
        document["EndTime"] = now
        own["ended_at"] = now
        own.pop("retry_at", None)
        if progress.metadata is not None:
            document["Metadata"] = dict(progress.metadata)
        if progress.properties is not None:
            own["properties"] = _plain(progress.properties)
        if progress.state == states.FAILED:
            document["FailureReason"] = (progress.reason or "The step failed.")[:FAILURE_LIMIT]
        else:
            document.pop("FailureReason", None)
        if progress.state != states.SUCCEEDED:
            own.pop("cache_key", None)  # only a success is a cache entry
        self._save(name)

    def _retry_later(self, name: str, reason: str | None) -> bool:
        """Schedules another attempt when the failure allows one; False when the step fails."""
        if self.stop_requested:
            return False
        text = reason or ""
        if text.startswith(INTERRUPTED_PREFIX):  # the server's stop, not the step's doing
            return self._schedule(name, 0.0, text)
        step = self.definition.steps[name]
        document = self._steps[name]
        delay = retry_delay(
            step.retry_policies,
            failure_type(text),
            int(document.get("AttemptCount") or 1),
            float(internal_of(document)["first_attempt_at"]),
            time.time(),
        )
        return delay is not None and self._schedule(name, delay, text)

    def _retry_or_fail(self, name: str, exception_type: str, reason: str) -> None:
        """A start that failed with `exception_type`: another attempt if a policy allows one."""
        step = self.definition.steps[name]
        document = self._steps[name]
        delay = retry_delay(
            step.retry_policies,
            exception_type,
            int(document.get("AttemptCount") or 1),
            float(internal_of(document)["first_attempt_at"]),
            time.time(),
        )
        if delay is not None and not self.stop_requested:
            self._schedule(name, delay, reason)
        else:
            self._conclude(name, Progress(states.FAILED, reason), retryable=False)

    def _schedule(self, name: str, delay: float, reason: str) -> bool:
        document = self._steps[name]
        own = internal_of(document)
        own["retry_at"] = time.time() + delay
        own["last_failure"] = reason[:FAILURE_LIMIT]
        document["StepStatus"] = states.EXECUTING
        self._save(name)
        return True

    def _save(self, name: str) -> None:
        document = self._steps[name]
        existing = self._records.get(self._context.execution_id, name)
        if existing is None:
            self._records.create(self._context.execution_id, self.arn, document)
        else:

            def replace(record: Any) -> None:
                answered = record.document.get("StepStatus") not in states.ACTIVE_STATES
                if answered and document["StepStatus"] in states.ACTIVE_STATES:
                    self._steps[name] = (
                        record.document
                    )  # a callback's answer came meanwhile: it stands
                    return
                record.document = document

            self._records.modify(self._context.execution_id, name, replace)
        self._parts.on_step_change(self._steps[name])

    # -- properties ------------------------------------------------------------------------------

    def _properties_of(self, name: str) -> Mapping[str, Any]:
        if name in self._properties:
            return self._properties[name]
        document = self._steps.get(name)
        if document is None or document["StepStatus"] != states.SUCCEEDED:
            raise ExpressionError(
                f"step '{name}' has not succeeded, so its properties have no values"
            )
        step = self.definition.steps[name]
        found = _plain(self._kinds[step.type].properties(document))
        self._properties[name] = found
        return found


def internal_of(document: dict[str, Any]) -> dict[str, Any]:
    return document.setdefault("_sagebox", {})


def _plain(value: Any) -> Any:
    """A properties document as JSON keeps it (times as epoch seconds)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "timestamp"):
        return value.timestamp()
    return value
