"""SendPipelineExecutionStepSuccess / SendPipelineExecutionStepFailure: a callback token comes back.

The token finds its step's record; the answer ends the step there (Succeeded with its
OutputParameters, typed as the step declares them, or Failed with the FailureReason),
and the execution's loop is woken to go on. A token of a step that has already ended is
refused, unless the same ClientRequestToken sends the same answer again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sagebox.services.errors import ValidationError
from sagebox.services.job_states import internal
from sagebox.services.pipelines.callback_steps import declared_outputs, typed_output
from sagebox.services.pipelines.definition import PipelineDefinition
from sagebox.services.pipelines.graph import ACTIVE_STATES, FAILED, SUCCEEDED
from sagebox.services.pipelines.step_records import StepRecords
from sagebox.store import ResourceRecord


class CallbackAnswers:
    def __init__(
        self,
        steps: StepRecords,
        definition_of: Callable[[str], PipelineDefinition],
        wake: Callable[[str], None],
    ) -> None:
        self._steps = steps
        self._definition_of = definition_of
        """The definition an execution runs, by the execution's ARN."""
        self._wake = wake
        """Wakes the loop of the execution with this ARN."""

    def succeed(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self._step(request["CallbackToken"])
        execution_arn = str(record.parent_arn)
        step = self._definition_of(execution_arn).steps[record.document["StepName"]]
        declared = declared_outputs(step)
        given = request.get("OutputParameters") or []
        values: dict[str, Any] = {}
        for item in given:
            name, value = item["Name"], item["Value"]
            if name not in declared:
                raise ValidationError(
                    f"OutputParameters: '{name}' is not an output of callback step '{step.name}' "
                    f"(declared: {', '.join(declared) or 'none'})."
                )
            try:
                values[name] = typed_output(declared[name], value)
            except (TypeError, ValueError) as exc:
                raise ValidationError(
                    f"OutputParameters: '{name}' must be of OutputType {declared[name]}: {exc}"
                ) from exc

        def succeed(step_record: ResourceRecord) -> None:
            document = step_record.document
            if self._answered_before(step_record, request, SUCCEEDED):
                return
            callback = dict((document.get("Metadata") or {}).get("Callback") or {})
            callback["OutputParameters"] = [{"Name": i["Name"], "Value": i["Value"]} for i in given]
            document["Metadata"] = {"Callback": callback}
            internal(step_record)["properties"] = {"OutputParameters": values}
            self._end(step_record, SUCCEEDED, request)

        self._steps.modify(*self._names(record), succeed)
        self._wake(execution_arn)
        return {"PipelineExecutionArn": execution_arn}

    def fail(self, request: dict[str, Any]) -> dict[str, Any]:
        record = self._step(request["CallbackToken"])
        execution_arn = str(record.parent_arn)

        def fail(step_record: ResourceRecord) -> None:
            if self._answered_before(step_record, request, FAILED):
                return
            step_record.document["FailureReason"] = (
                request.get("FailureReason") or "The callback step failed."
            )
            self._end(step_record, FAILED, request)

        self._steps.modify(*self._names(record), fail)
        self._wake(execution_arn)
        return {"PipelineExecutionArn": execution_arn}

    def _step(self, token: str) -> ResourceRecord:
        record = self._steps.by_callback_token(token)
        if record is None:
            raise ValidationError(f"CallbackToken '{token}' is not the token of any callback step.")
        return record

    @staticmethod
    def _names(record: ResourceRecord) -> tuple[str, str]:
        execution, _, step = record.name.partition("/")
        return execution, step

    @staticmethod
    def _answered_before(record: ResourceRecord, request: dict[str, Any], status: str) -> bool:
        """True for a repeat of the answer already given; ValidationError for a late one."""
        document = record.document
        if document.get("StepStatus") in ACTIVE_STATES:
            return False
        token = request.get("ClientRequestToken")
        if (
            token
            and internal(record).get("answer_token") == token
            and document.get("StepStatus") == status
        ):
            return True
        raise ValidationError(
            f"Callback step '{document.get('StepName')}' has already ended ({document.get('StepStatus')}); "
            f"its token '{internal(record).get('callback_token')}' cannot be used again."
        )

    @staticmethod
    def _end(record: ResourceRecord, status: str, request: dict[str, Any]) -> None:
        now = time.time()
        document = record.document
        document["StepStatus"] = status
        document["EndTime"] = now
        internal(record)["ended_at"] = now
        internal(record)["answer_token"] = request.get("ClientRequestToken")
        if status == SUCCEEDED:
            document.pop("FailureReason", None)
