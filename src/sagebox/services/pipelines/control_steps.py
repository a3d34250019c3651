"""Condition and Fail steps, and the step types sagebox does not run (yet), each failing clearly.

A Condition step evaluates its conditions when its inputs are ready; its Outcome picks
the branch (IfSteps or ElseSteps) that runs. A Fail step ends the execution Failed with
its ErrorMessage (a ``Std:Join`` is resolved). ClarifyCheck and QualityCheck need the
Clarify and Model Monitor processing containers, EMR an EMR cluster: such a step fails
saying so, and the execution fails with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagebox.services.pipelines.conditions import ConditionError, holds_all
from sagebox.services.pipelines.definition import Step
from sagebox.services.pipelines.expressions import Scope, as_text, evaluate
from sagebox.services.pipelines.step_kinds import FAILED, SUCCEEDED, Progress, Started, StepContext

UNSUPPORTED_REASONS = {
    "ClarifyCheck": (
        "ClientError: ClarifyCheck steps are not available in sagebox yet: they run the SageMaker Clarify "
        "processing container, which sagebox does not provide until Clarify is built in."
    ),
    "QualityCheck": (
        "ClientError: QualityCheck steps are not available in sagebox yet: they run the Model Monitor "
        "processing container, which sagebox does not provide until Model Monitor is built in."
    ),
    "EMR": (
        "ClientError: EMR steps are not supported by sagebox: they run on an Amazon EMR cluster, "
        "which a local sagebox has no way to reach."
    ),
    "EndpointConfig": "ClientError: EndpointConfig steps are not supported by sagebox yet; use a Lambda step.",
    "Endpoint": "ClientError: Endpoint steps are not supported by sagebox yet; use a Lambda step.",
}


@dataclass(frozen=True)
class ConditionStepKind:
    job_kind: str | None = None

    def start(
        self, step: Step, arguments: Any, job_name: str | None, scope: Scope, context: StepContext
    ) -> Started:
        try:
            outcome = holds_all(step.conditions, scope)
        except ConditionError as exc:
            return Started(FAILED, {}, reason=f"ClientError: {exc}")
        shown = "True" if outcome else "False"
        return Started(
            SUCCEEDED, {"Condition": {"Outcome": shown}}, properties={"Outcome": outcome}
        )

    def status(self, record: Mapping[str, Any], context: StepContext) -> Progress:
        return Progress(record.get("StepStatus", SUCCEEDED))

    def stop(self, record: Mapping[str, Any], context: StepContext) -> bool:
        return False

    def properties(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return record["_sagebox"].get("properties") or {}


@dataclass(frozen=True)
class FailStepKind:
    job_kind: str | None = None

    def start(
        self, step: Step, arguments: Any, job_name: str | None, scope: Scope, context: StepContext
    ) -> Started:
        given = arguments.get("ErrorMessage") if isinstance(arguments, dict) else None
        message = as_text(evaluate(given, scope)) if given is not None else ""
        return Started(FAILED, {"Fail": {"ErrorMessage": message}}, reason=message)

    def status(self, record: Mapping[str, Any], context: StepContext) -> Progress:
        return Progress(record.get("StepStatus", FAILED))

    def stop(self, record: Mapping[str, Any], context: StepContext) -> bool:
        return False

    def properties(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return {}


@dataclass(frozen=True)
class UnsupportedStepKind:
    step_type: str
    job_kind: str | None = None

    def start(
        self, step: Step, arguments: Any, job_name: str | None, scope: Scope, context: StepContext
    ) -> Started:
        return Started(FAILED, {}, reason=UNSUPPORTED_REASONS[self.step_type])

    def status(self, record: Mapping[str, Any], context: StepContext) -> Progress:
        return Progress(record.get("StepStatus", FAILED))

    def stop(self, record: Mapping[str, Any], context: StepContext) -> bool:
        return False

    def properties(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return {}
