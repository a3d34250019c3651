"""One execution's values, as its expressions see them (the `Scope` of `expressions.py`).

Parameters hold the execution's typed values; execution variables are the execution's
id, ARN, pipeline and times, and the name of the job being made (TrainingJobName /
ProcessingJobName); a step's properties come from the step's kind (a job's Describe
answer, a model's, an Outcome), read once per execution; a property file is the JSON
object a processing step wrote under its output's S3 URI.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sagebox.objects import ObjectStore, ObjectStoreError
from sagebox.services.pipelines.definition import PipelineDefinition
from sagebox.services.pipelines.expressions import (
    ExpressionError,
    PropertyFileRef,
    PropertyRef,
    step_into,
)

PropertiesOf = Callable[[str], Mapping[str, Any]]
"""The properties of a step that has succeeded (ExpressionError for one that has not)."""


def iso_time(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{int(epoch * 1000) % 1000:03d}Z"
    )


class ExecutionScope:
    def __init__(
        self,
        definition: PipelineDefinition,
        parameters: Mapping[str, Any],
        variables: Mapping[str, Any],
        properties_of: PropertiesOf,
        objects: ObjectStore,
    ) -> None:
        self._definition = definition
        self._parameters = parameters
        self._variables = dict(variables)
        self._properties_of = properties_of
        self._objects = objects
        self._files: dict[tuple[str, str], Any] = {}
        self.job_name: str | None = None
        """The name of the job being made, for Execution.TrainingJobName / ProcessingJobName."""

    def parameter(self, name: str) -> Any:
        if name not in self._parameters:
            raise ExpressionError(f"Parameters.{name} has no value in this execution")
        return self._parameters[name]

    def execution_variable(self, name: str) -> Any:
        if name == "CurrentDateTime":
            return iso_time(time.time())
        if name in ("TrainingJobName", "ProcessingJobName"):
            if self.job_name is None:
                raise ExpressionError(
                    f"Execution.{name} has a value only in the arguments of a step that makes a job"
                )
            return self.job_name
        if name not in self._variables:
            raise ExpressionError(f"Execution.{name} is not an execution variable")
        return self._variables[name]

    def step_property(self, reference: PropertyRef) -> Any:
        value: Any = self._properties_of(reference.step)
        for token in reference.path:
            value = step_into(value, token, reference.text)
        return value

    def property_file(self, reference: PropertyFileRef) -> Any:
        key = (reference.step, reference.file)
        if key not in self._files:
            self._files[key] = self.json_at(self._property_file_uri(reference))
        return self._files[key]

    def _property_file_uri(self, reference: PropertyFileRef) -> str:
        step = self._definition.steps[reference.step]
        declared = next(f for f in step.property_files if f.name == reference.file)
        job = self._properties_of(reference.step)
        outputs = (job.get("ProcessingOutputConfig") or {}).get("Outputs") or []
        output = next((o for o in outputs if o.get("OutputName") == declared.output_name), None)
        uri = ((output or {}).get("S3Output") or {}).get("S3Uri")
        if not uri:
            raise ExpressionError(
                f"property file '{reference.file}' of step '{reference.step}': the job has no output '{declared.output_name}'"
            )
        return f"{uri.rstrip('/')}/{declared.file_path.lstrip('/')}"

    def json_at(self, s3_uri: str) -> Any:
        try:
            data = self._objects.read_bytes(s3_uri)
        except (ObjectStoreError, ValueError) as exc:
            raise ExpressionError(f"the JSON file {s3_uri} cannot be read: {exc}") from exc
        try:
            return json.loads(data)
        except ValueError as exc:
            raise ExpressionError(f"{s3_uri} does not hold JSON: {exc}") from exc
