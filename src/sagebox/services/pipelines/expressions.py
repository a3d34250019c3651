"""The expressions of a pipeline definition: where they refer, and what they evaluate to.

- ``{"Get": "Parameters.<name>"}``, ``{"Get": "Execution.<variable>"}`` and
  ``{"Get": "Steps.<step>.<property path>"}`` (a path such as
  ``ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri`` or
  ``TrainingJobSummaries[0].TrainingJobName``);
- ``{"Std:Join": {"On": ..., "Values": [...]}}``;
- ``{"Std:JsonGet": {"PropertyFile": {"Get": "Steps.<step>.PropertyFiles.<name>"}, "Path": ...}}``
  or ``{"Std:JsonGet": {"S3Uri": <expression>, "Path": ...}}`` (a ``@step`` function's JSON
  result).

Everything else in a step's arguments is a literal. `references` lists what an argument
tree refers to (for validation and for the data dependencies between steps); `evaluate`
resolves it against a `Scope`, which the execution engine implements. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

GET, JOIN, JSON_GET = "Get", "Std:Join", "Std:JsonGet"
EXECUTION_VARIABLES = (
    "PipelineExecutionId",
    "PipelineExecutionArn",
    "StartDateTime",
    "CurrentDateTime",
    "PipelineName",
    "PipelineArn",
    "TrainingJobName",
    "ProcessingJobName",
)
_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


class ExpressionError(ValueError):
    """An expression is malformed or cannot be evaluated; the message says which and why."""


@dataclass(frozen=True)
class Attribute:
    name: str


@dataclass(frozen=True)
class Index:
    position: int


@dataclass(frozen=True)
class Key:
    key: str


PathToken = Attribute | Index | Key


@dataclass(frozen=True)
class ParameterRef:
    name: str


@dataclass(frozen=True)
class ExecutionRef:
    name: str


@dataclass(frozen=True)
class PropertyRef:
    step: str
    path: tuple[PathToken, ...]
    text: str
    """The Get expression as written (Steps.<step>.<path>)."""


@dataclass(frozen=True)
class PropertyFileRef:
    step: str
    file: str


Reference = ParameterRef | ExecutionRef | PropertyRef | PropertyFileRef


def parse_path(text: str) -> tuple[PathToken, ...]:
    """``A.B['x'][0].C`` as tokens; ExpressionError when it is not such a path."""
    tokens: list[PathToken] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position or (position == 0 and text.startswith(".")):
            raise ExpressionError(f"'{text}' is not a property path (at '{text[position:]}')")
        name, index, single, double = match.groups()
        if name is not None:
            tokens.append(Attribute(name))
        elif index is not None:
            tokens.append(Index(int(index)))
        else:
            tokens.append(Key(single if single is not None else double))
        position = match.end()
    return tuple(tokens)


def parse_get(text: Any) -> Reference:
    """What a ``Get`` refers to; ExpressionError for anything else."""
    if not isinstance(text, str):
        raise ExpressionError(f"Get takes a string such as 'Parameters.Name', not {text!r}")
    root, _, rest = text.partition(".")
    if root == "Parameters" and rest:
        return ParameterRef(rest)
    if root == "Execution" and rest:
        return ExecutionRef(rest)
    if root == "Steps" and rest:
        step, _, path = rest.partition(".")
        if not step or not path:
            raise ExpressionError(f"'{text}' names no property of step '{step}'")
        tokens = parse_path(path)
        if (
            tokens[0] == Attribute("PropertyFiles")
            and len(tokens) == 2
            and isinstance(tokens[1], Attribute)
        ):
            return PropertyFileRef(step, tokens[1].name)
        return PropertyRef(step, tokens, text)
    raise ExpressionError(
        f"'{text}' is not a Get of Parameters.<name>, Execution.<variable> or Steps.<step>.<property>"
    )


def is_expression(value: Any) -> bool:
    return (
        isinstance(value, dict) and len(value) == 1 and next(iter(value)) in (GET, JOIN, JSON_GET)
    )


def references(value: Any) -> Iterator[Reference]:
    """Every reference inside an argument tree (ExpressionError for a malformed expression)."""
    if isinstance(value, dict):
        if is_expression(value):
            operator, operand = next(iter(value.items()))
            if operator == GET:
                yield parse_get(operand)
            elif operator == JOIN:
                yield from references(_join_values(operand))
            else:
                source, _ = _json_get_operands(operand)
                if isinstance(source, dict) and GET in source and len(source) == 1:
                    reference = parse_get(source[GET])
                    if not isinstance(reference, PropertyFileRef):
                        raise ExpressionError(
                            f"Std:JsonGet PropertyFile must Get Steps.<step>.PropertyFiles.<name>, not {source[GET]!r}"
                        )
                    yield reference
                else:
                    yield from references(source)
            return
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


class Scope(Protocol):
    """What expressions are evaluated against: one execution's state."""

    def parameter(self, name: str) -> Any: ...

    def execution_variable(self, name: str) -> Any: ...

    def step_property(self, reference: PropertyRef) -> Any: ...

    def property_file(self, reference: PropertyFileRef) -> Any:
        """The parsed JSON of a processing step's property file."""

    def json_at(self, s3_uri: str) -> Any:
        """The parsed JSON object stored at `s3_uri`."""


def evaluate(value: Any, scope: Scope) -> Any:
    """`value` with every expression replaced by its value."""
    if isinstance(value, dict):
        if is_expression(value):
            operator, operand = next(iter(value.items()))
            if operator == GET:
                return _get(parse_get(operand), scope)
            if operator == JOIN:
                on = operand.get("On", "") if isinstance(operand, dict) else ""
                return str(on).join(
                    as_text(evaluate(item, scope)) for item in _join_values(operand)
                )
            return _json_get(operand, scope)
        return {key: evaluate(item, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [evaluate(item, scope) for item in value]
    return value


def _get(reference: Reference, scope: Scope) -> Any:
    if isinstance(reference, ParameterRef):
        return scope.parameter(reference.name)
    if isinstance(reference, ExecutionRef):
        return scope.execution_variable(reference.name)
    if isinstance(reference, PropertyFileRef):
        return scope.property_file(reference)
    return scope.step_property(reference)


def _join_values(operand: Any) -> list[Any]:
    if not isinstance(operand, dict) or not isinstance(operand.get("Values"), list):
        raise ExpressionError(
            f"Std:Join takes {{'On': <string>, 'Values': [...]}}, not {operand!r}"
        )
    return list(operand["Values"])


def _json_get_operands(operand: Any) -> tuple[Any, str]:
    if not isinstance(operand, dict) or not isinstance(operand.get("Path"), str):
        raise ExpressionError(
            f"Std:JsonGet takes a PropertyFile or S3Uri and a Path, not {operand!r}"
        )
    if "PropertyFile" in operand:
        return operand["PropertyFile"], operand["Path"]
    if "S3Uri" in operand:
        return operand["S3Uri"], operand["Path"]
    raise ExpressionError(f"Std:JsonGet needs a PropertyFile or an S3Uri, not {operand!r}")


def _json_get(operand: Any, scope: Scope) -> Any:
    source, path = _json_get_operands(operand)
    if "PropertyFile" in operand:
        document = evaluate(source, scope)
    else:
        uri = evaluate(source, scope)
        if not isinstance(uri, str):
            raise ExpressionError(f"Std:JsonGet S3Uri evaluated to {uri!r}, not an s3:// URI")
        document = scope.json_at(uri)
    return json_path(document, path)


def json_path(document: Any, path: str) -> Any:
    """The value at a JsonGet Path (``regression_metrics.mse.value``, ``a[0].b``, ``$.x``)."""
    text = path.strip()
    if text.startswith("$"):
        text = text[1:].lstrip(".")
    if not text:
        return document
    value = document
    for token in parse_path(text):
        value = step_into(value, token, path)
    return value


def step_into(value: Any, token: PathToken, path: str) -> Any:
    """One step down a property or JSON path; ExpressionError when it leads nowhere."""
    if isinstance(token, Attribute):
        if isinstance(value, dict) and token.name in value:
            return value[token.name]
        raise ExpressionError(f"'{path}': there is no '{token.name}' here")
    if isinstance(token, Index):
        if isinstance(value, list) and -len(value) <= token.position < len(value):
            return value[token.position]
        size = len(value) if isinstance(value, list) else 0
        raise ExpressionError(
            f"'{path}': index {token.position} is out of range (the list holds {size})"
        )
    if isinstance(value, dict):
        if token.key in value:
            return value[token.key]
        raise ExpressionError(f"'{path}': there is no key '{token.key}'")
    if isinstance(value, list):  # a list of named items: Outputs['train'] is the one named train
        for item in value:
            if isinstance(item, dict) and any(
                k.endswith("Name") and v == token.key for k, v in item.items()
            ):
                return item
    raise ExpressionError(f"'{path}': nothing is named '{token.key}' here")


def as_text(value: Any) -> str:
    """How Std:Join (and a job's string members) write a value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if value is None:
        return ""
    return str(value)
