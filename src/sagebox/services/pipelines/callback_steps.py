"""Callback steps: a message with a token goes out, and the step waits for the token to come back.

SageMaker sends the message to the step's SQS queue; sagebox has no queue, so the
message becomes a record: it is kept in the step's record and written, one JSON body per
event, to the CloudWatch Logs group ``/aws/sagemaker/Pipelines/CallbackMessages``, in the
stream named after the queue (the last part of SqsQueueUrl), where a consumer reads it
with GetLogEvents or FilterLogEvents. ListPipelineExecutionSteps shows the token and the
queue in the step's Metadata. SendPipelineExecutionStepSuccess (with the step's declared
OutputParameters) or SendPipelineExecutionStepFailure ends the step. Stopping the
execution sends a second message with ``"status": "Stopping"`` and the step keeps
waiting for its token, as SageMaker's callback steps do.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagebox.config import Settings
from sagebox.runtime.logs import append_event
from sagebox.services.pipelines.definition import Step
from sagebox.services.pipelines.expressions import Scope
from sagebox.services.pipelines.naming import callback_token
from sagebox.services.pipelines.step_kinds import EXECUTING, Progress, Started, StepContext

MESSAGES_GROUP = "/aws/sagemaker/Pipelines/CallbackMessages"
OUTPUT_TYPES = ("String", "Integer", "Boolean", "Float")


def messages_dir(settings: Settings) -> Path:
    return settings.home / "pipelines" / "callback-messages"


def queue_name(queue_url: str) -> str:
    name = queue_url.rstrip("/").rsplit("/", 1)[-1]
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name) or "queue"


def send_message(settings: Settings, queue_url: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Records one message for `queue_url`: its log event and what the step record keeps."""
    folder = messages_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(body, sort_keys=True)
    now = time.time()
    append_event(folder / f"{queue_name(queue_url)}.jsonl", text, now)
    return {"SqsQueueUrl": queue_url, "Body": text, "SentTime": now}


def typed_output(kind: str, value: Any) -> Any:
    """An output parameter's value as its declared OutputType (ValueError when it is not one)."""
    if kind == "Integer":
        return int(value)
    if kind == "Float":
        return float(value)
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in ("true", "false"):
            raise ValueError(f"{value!r} is not true or false")
        return text == "true"
    return (
        value
        if isinstance(value, str)
        else json.dumps(value)
        if isinstance(value, (dict, list))
        else str(value)
    )


def declared_outputs(step: Step) -> dict[str, str]:
    return {
        str(o.get("OutputName")): str(o.get("OutputType") or "String")
        for o in step.raw.get("OutputParameters") or []
        if isinstance(o, dict)
    }


@dataclass(frozen=True)
class CallbackStepKind:
    job_kind: str | None = None

    def start(
        self, step: Step, arguments: Any, job_name: str | None, scope: Scope, context: StepContext
    ) -> Started:
        token = callback_token()
        queue = str(step.raw.get("SqsQueueUrl"))
        message = send_message(
            context.settings,
            queue,
            {
                "token": token,
                "pipelineExecutionArn": context.execution_arn,
                "arguments": arguments if isinstance(arguments, dict) else {},
                "status": "Executing",
            },
        )
        return Started(
            EXECUTING,
            {"Callback": {"CallbackToken": token, "SqsQueueUrl": queue}},
            job={"kind": "Callback", "name": token},
            state_data={"callback_token": token, "messages": [message], "arguments": arguments},
        )

    def status(self, record: Mapping[str, Any], context: StepContext) -> Progress:
        return Progress(record.get("StepStatus", EXECUTING))

    def stop(self, record: Mapping[str, Any], context: StepContext) -> bool:
        """The step waits for its token; the queue hears that the execution is stopping."""
        own = record["_sagebox"]
        if not own.get("stop_sent"):
            queue = record["Metadata"]["Callback"]["SqsQueueUrl"]
            send_message(
                context.settings,
                queue,
                {
                    "token": own["callback_token"],
                    "pipelineExecutionArn": context.execution_arn,
                    "arguments": own.get("arguments") or {},
                    "status": "Stopping",
                },
            )
        return True

    def properties(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return record["_sagebox"].get("properties") or {"OutputParameters": {}}
