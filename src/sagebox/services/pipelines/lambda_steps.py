"""Lambda steps: a local Python function stands for the Lambda function the step names.

There is no Lambda service here, so a function is registered by putting its code where
its ARN's function name says: ``<sagebox home>/lambda/<function name>/``, with the
handler ``lambda_function.lambda_handler`` (Lambda's default for Python), or the
``module.function`` written in a file named ``handler`` in that folder. The step calls
``handler(event, context)`` in a process of its own (this machine's Python, the folder
as its working directory and first on its path, AWS_ENDPOINT_URL pointing at this
server), with the step's resolved Arguments as the event; the dict it returns gives the
step's declared OutputParameters, converted to their OutputType. A function that raises,
returns something else or lacks a declared output fails the step, saying why. As on
SageMaker, stopping an execution waits for a running function to finish.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sagebox.config import Settings
from sagebox.services.job_api_access import with_api_access
from sagebox.services.pipelines.callback_steps import declared_outputs, typed_output
from sagebox.services.pipelines.definition import Step
from sagebox.services.pipelines.expressions import Scope, as_text
from sagebox.services.pipelines.step_kinds import (
    EXECUTING,
    FAILED,
    SUCCEEDED,
    Progress,
    Started,
    StepContext,
)

DEFAULT_HANDLER = "lambda_function.lambda_handler"
TIMEOUT_SECONDS = 900
INTERRUPTED = (
    "InternalServerError: the sagebox server stopped while the Lambda function was running."
)
_BOOTSTRAP = """
import importlib, json, sys, time
folder, handler, output, name, TIMEOUT = *sys.argv[1:5], float(sys.argv[5])
sys.path.insert(0, folder)
module_name, _, function_name = handler.rpartition(".")
started = time.time()
class Context:
    function_name = name
    function_version = "$LATEST"
    aws_request_id = output.rsplit("/", 1)[-1]
    def get_remaining_time_in_millis(self):
        return int(max(0.0, TIMEOUT - (time.time() - started)) * 1000)
result = getattr(importlib.import_module(module_name), function_name)(json.load(sys.stdin), Context())
with open(output, "w") as handle:
    json.dump(result, handle)
"""


def function_name(function_arn: str) -> str:
    """The function name in ``arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`` (or a name)."""
    parts = function_arn.split(":")
    if len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function":
        return parts[6]
    return function_arn


def function_folder(settings: Settings, function_arn: str) -> Path:
    return settings.home / "lambda" / function_name(function_arn)


@dataclass
class LambdaStepKind:
    """Runs functions in background threads; their results wait here until the engine asks."""

    job_kind: str | None = None
    _results: dict[str, Progress] = field(default_factory=dict)
    _running: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(
        self, step: Step, arguments: Any, job_name: str | None, scope: Scope, context: StepContext
    ) -> Started:
        arn = str(step.raw.get("FunctionArn"))
        key = f"{context.execution_id}/{step.name}/{job_name}"
        with self._lock:
            self._running.add(key)
        event = arguments if isinstance(arguments, dict) else {}
        thread = threading.Thread(
            target=self._invoke,
            args=(key, step, arn, event, context),
            name=f"lambda-{step.name}",
            daemon=True,
        )
        thread.start()
        return Started(EXECUTING, {"Lambda": {"Arn": arn}}, job={"kind": "Lambda", "name": key})

    def status(self, record: Mapping[str, Any], context: StepContext) -> Progress:
        key = record["_sagebox"]["job"]["name"]
        with self._lock:
            if key in self._running:
                return Progress(EXECUTING)
            result = self._results.pop(key, None)
        return result or Progress(FAILED, INTERRUPTED)

    def stop(self, record: Mapping[str, Any], context: StepContext) -> bool:
        return True  # a running function cannot be stopped; the step ends when it returns

    def properties(self, record: Mapping[str, Any]) -> Mapping[str, Any]:
        return record["_sagebox"].get("properties") or {"OutputParameters": {}}

    def _invoke(
        self, key: str, step: Step, arn: str, event: dict[str, Any], context: StepContext
    ) -> None:
        try:
            progress = self._call(step, arn, event, context)
        except Exception as exc:  # noqa: BLE001 - whatever happens, the step must end
            progress = Progress(
                FAILED, f"InternalServerError: sagebox could not run the Lambda function: {exc!r}"
            )
        with self._lock:
            self._running.discard(key)
            self._results[key] = progress
        context.wake()

    def _call(self, step: Step, arn: str, event: dict[str, Any], context: StepContext) -> Progress:
        name = function_name(arn)
        folder = function_folder(context.settings, arn)
        if not folder.is_dir():
            return Progress(
                FAILED,
                (
                    f"ClientError: the Lambda function '{name}' ({arn}) is not registered with sagebox: put its code "
                    f"in {folder} (handler {DEFAULT_HANDLER}, or the module.function named in a file 'handler' there)."
                ),
            )
        handler_file = folder / "handler"
        handler = handler_file.read_text().strip() if handler_file.is_file() else DEFAULT_HANDLER
        env = with_api_access(os.environ, context.api, None)
        with tempfile.TemporaryDirectory(prefix="sagebox-lambda-") as scratch:
            output = Path(scratch) / "result.json"
            try:
                finished = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        _BOOTSTRAP,
                        str(folder),
                        handler,
                        str(output),
                        name,
                        str(TIMEOUT_SECONDS),
                    ],
                    input=json.dumps(event),
                    capture_output=True,
                    text=True,
                    cwd=folder,
                    env=env,
                    timeout=TIMEOUT_SECONDS,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                return Progress(
                    FAILED,
                    f"ClientError: the Lambda function '{name}' timed out after {TIMEOUT_SECONDS} s.",
                )
            if finished.returncode != 0:
                lines = [line for line in finished.stderr.splitlines() if line.strip()]
                return Progress(
                    FAILED,
                    f"ClientError: the Lambda function '{name}' failed: {lines[-1] if lines else 'no output'}",
                )
            result = json.loads(output.read_text())
        return _outputs(step, name, arn, result)


def _outputs(step: Step, name: str, arn: str, result: Any) -> Progress:
    declared = declared_outputs(step)
    if declared and not isinstance(result, dict):
        return Progress(
            FAILED,
            f"ClientError: the Lambda function '{name}' returned {type(result).__name__}, not an object with its outputs.",
        )
    values: dict[str, Any] = {}
    for output, kind in declared.items():
        if output not in result:
            return Progress(
                FAILED, f"ClientError: the Lambda function '{name}' returned no output '{output}'."
            )
        try:
            values[output] = typed_output(kind, result[output])
        except (TypeError, ValueError) as exc:
            return Progress(
                FAILED,
                f"ClientError: the Lambda output '{output}' is not of OutputType {kind}: {exc}",
            )
    shown = [{"Name": k, "Value": as_text(v)} for k, v in values.items()]
    return Progress(
        SUCCEEDED,
        metadata={"Lambda": {"Arn": arn, "OutputParameters": shown}},
        properties={"OutputParameters": values},
    )
