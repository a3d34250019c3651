"""What every kind of step does, as the engine sees it: start, report, stop, and properties.

A step either finishes as it starts (a Condition, a Fail, a model made or registered:
`Started.state` is Succeeded or Failed) or starts work that runs on (a job, a callback
waiting for its token, a Lambda function: `Started.state` is Executing, and `status`
says when it ends). `properties` is the document a later step's ``Get`` reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sagebox.config import Settings
from sagebox.objects import ObjectStore
from sagebox.services.pipelines.definition import Step
from sagebox.services.pipelines.expressions import Scope
from sagebox.services.pipelines.graph import EXECUTING, FAILED, STOPPED, SUCCEEDED

__all__ = [
    "EXECUTING",
    "FAILED",
    "STOPPED",
    "SUCCEEDED",
    "Progress",
    "Started",
    "StepContext",
    "StepKind",
]


@dataclass(frozen=True)
class StepContext:
    """One execution, as the steps it runs see it."""

    settings: Settings
    objects: ObjectStore
    pipeline_name: str
    pipeline_arn: str
    execution_id: str
    execution_arn: str
    role_arn: str | None
    api: Mapping[str, str]
    """How a process a step starts reaches this server's API (services/job_api_access.py)."""
    wake: Callable[[], None]
    """Tells the engine that a step may have moved on (a job ended, a callback arrived)."""


@dataclass(frozen=True)
class Started:
    state: str
    """Executing, or Succeeded / Failed when the step finished as it started."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """The step's Metadata as ListPipelineExecutionSteps shows it."""
    job: Mapping[str, str] | None = None
    """``{"kind": ..., "name": ...}`` of the job (or other work) the step is waiting for."""
    properties: Mapping[str, Any] | None = None
    """The properties of a step that made no job (a model's Describe answer, an Outcome)."""
    reason: str | None = None
    state_data: Mapping[str, Any] = field(default_factory=dict)
    """What the kind keeps in the step's record to follow it (a callback token)."""


@dataclass(frozen=True)
class Progress:
    state: str
    reason: str | None = None
    metadata: Mapping[str, Any] | None = None
    """The step's Metadata when ending changes it (a callback's OutputParameters)."""
    properties: Mapping[str, Any] | None = None


class StepKind(Protocol):
    """One step type's behaviour; `job_kind` is the kind of resource it names its work after."""

    job_kind: str | None

    def start(
        self, step: Step, arguments: Any, job_name: str | None, scope: Scope, context: StepContext
    ) -> Started:
        """Starts the step with its resolved arguments (ServiceError when the call is refused)."""

    def status(self, record: Mapping[str, Any], context: StepContext) -> Progress:
        """Where a started step is, from its record's bookkeeping (``_sagebox``)."""

    def stop(self, record: Mapping[str, Any], context: StepContext) -> bool:
        """Asks the step's work to stop; True when the step will end by itself (a job stopping),
        False when the step is to be marked Stopped now."""

    def properties(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        """The document a ``Get`` of the step's properties reads."""
