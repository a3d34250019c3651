"""A pipeline definition (schema version 2020-12-01) read into plain, immutable objects.

This is the JSON the SageMaker Python SDK's ``Pipeline.definition()`` emits: parameters
with their types, defaults and enum values, and steps with their arguments (which hold
expressions, see `expressions.py`), DependsOn, retry policies, cache configuration and
property files. A Condition step's IfSteps and ElseSteps are steps of the pipeline like
any other; each remembers the branch (condition step, outcome) that lets it run.

Only the shape is checked here (DefinitionError names the member and what is wrong);
what the expressions refer to is checked by `validation.py`. Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sagebox.services.pipelines.cache import parse_duration

SCHEMA_VERSION = "2020-12-01"
PARAMETER_TYPES = ("String", "Integer", "Float", "Boolean")
STEP_NAME = re.compile(r"[A-Za-z0-9\-_]{1,64}")
PARAMETER_NAME = re.compile(r"[A-Za-z0-9\-_]{1,256}")
STEP_TYPES = (
    "Training",
    "Processing",
    "Tuning",
    "Transform",
    "Model",
    "RegisterModel",
    "Condition",
    "Fail",
    "Callback",
    "Lambda",
    "ClarifyCheck",
    "QualityCheck",
    "EMR",
    "AutoML",
    "EndpointConfig",
    "Endpoint",
)
RETRY_EXCEPTION_TYPES = (
    "Step.SERVICE_FAULT",
    "Step.THROTTLING",
    "SageMaker.JOB_INTERNAL_ERROR",
    "SageMaker.CAPACITY_ERROR",
    "SageMaker.RESOURCE_LIMIT",
)
MAX_RETRY_ATTEMPTS = 20
MAX_EXPIRE_AFTER_MINUTES = 14400


class DefinitionError(ValueError):
    """The definition cannot be run; the message names what is wrong and where."""


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: Any = None
    has_default: bool = False
    enum_values: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class RetryPolicy:
    exception_types: tuple[str, ...]
    interval_seconds: float = 1.0
    backoff_rate: float = 2.0
    max_attempts: int | None = None
    """Retries after the first attempt (SageMaker's MaxAttempts)."""
    expire_after_minutes: float | None = None


@dataclass(frozen=True)
class CacheConfig:
    enabled: bool
    expire_after: str | None = None
    """An ISO 8601 duration (PT1H, P30D, ...), see `cache.py`."""


@dataclass(frozen=True)
class PropertyFile:
    name: str
    output_name: str
    file_path: str


@dataclass(frozen=True)
class Branch:
    """The condition step whose outcome lets a step run."""

    condition_step: str
    outcome: bool


@dataclass(frozen=True)
class Step:
    name: str
    type: str
    arguments: Any
    depends_on: tuple[str, ...] = ()
    display_name: str | None = None
    description: str | None = None
    retry_policies: tuple[RetryPolicy, ...] = ()
    cache: CacheConfig | None = None
    property_files: tuple[PropertyFile, ...] = ()
    branch: Branch | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    """The step's whole JSON object (SqsQueueUrl, OutputParameters, FunctionArn, ...)."""

    @property
    def output_parameters(self) -> tuple[str, ...]:
        """The names a Callback or Lambda step declares in OutputParameters."""
        return tuple(
            str(o.get("OutputName"))
            for o in self.raw.get("OutputParameters") or []
            if isinstance(o, dict)
        )

    @property
    def conditions(self) -> list[Any]:
        arguments = self.arguments if isinstance(self.arguments, dict) else {}
        return list(arguments.get("Conditions") or [])


@dataclass(frozen=True)
class PipelineDefinition:
    version: str
    parameters: tuple[Parameter, ...]
    steps: Mapping[str, Step]
    """Every step by name, in definition order (branch steps after their condition step)."""
    experiment_config: Mapping[str, Any] | None = None
    text: str = ""

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)


def parse_definition(text: str) -> PipelineDefinition:
    """Reads a PipelineDefinition string; DefinitionError says what is malformed."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DefinitionError(f"PipelineDefinition is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise DefinitionError(
            "PipelineDefinition must be a JSON object with Version, Parameters and Steps."
        )
    version = document.get("Version")
    if version != SCHEMA_VERSION:
        raise DefinitionError(
            f"PipelineDefinition Version {version!r} is not supported; the supported version is {SCHEMA_VERSION}."
        )
    parameters = tuple(
        _parameter(p, i) for i, p in enumerate(_list(document, "Parameters", "PipelineDefinition"))
    )
    names = [p.name for p in parameters]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise DefinitionError(
            f"Parameter names must be unique; '{duplicate}' is declared more than once."
        )
    raw_steps = _list(document, "Steps", "PipelineDefinition")
    if not raw_steps:
        raise DefinitionError("PipelineDefinition Steps must hold at least one step.")
    steps: dict[str, Step] = {}
    _collect(raw_steps, None, steps, "Steps")
    experiment = document.get("PipelineExperimentConfig")
    if experiment is not None and not isinstance(experiment, dict):
        raise DefinitionError(
            "PipelineExperimentConfig must be an object with ExperimentName and TrialName."
        )
    return PipelineDefinition(version, parameters, steps, experiment, text)


def _list(container: Mapping[str, Any], member: str, where: str) -> list[Any]:
    value = container.get(member)
    if value is None:
        return []
    if not isinstance(value, list):
        raise DefinitionError(f"{where}.{member} must be a list, not {type(value).__name__}.")
    return value


def _parameter(raw: Any, index: int) -> Parameter:
    where = f"Parameters[{index}]"
    if not isinstance(raw, dict):
        raise DefinitionError(f"{where} must be an object with Name and Type.")
    name, kind = raw.get("Name"), raw.get("Type", "String")
    if not isinstance(name, str) or not PARAMETER_NAME.fullmatch(name):
        raise DefinitionError(
            f"{where}.Name {name!r} is not valid: 1 to 256 letters, digits, '-' or '_'."
        )
    if kind not in PARAMETER_TYPES:
        raise DefinitionError(
            f"Parameter '{name}' has Type {kind!r}; allowed: {', '.join(PARAMETER_TYPES)}."
        )
    enum = raw.get("EnumValues")
    if enum is not None:
        if not isinstance(enum, list) or not enum:
            raise DefinitionError(f"Parameter '{name}' EnumValues must be a non-empty list.")
        for value in enum:
            _check_type(name, kind, value, "an EnumValues entry")
    has_default = "DefaultValue" in raw and raw["DefaultValue"] is not None
    default = raw.get("DefaultValue")
    if has_default:
        _check_type(name, kind, default, "DefaultValue")
        if enum is not None and default not in enum:
            raise DefinitionError(
                f"Parameter '{name}' DefaultValue {default!r} is not one of its EnumValues {enum}."
            )
    return Parameter(name, kind, default, has_default, tuple(enum) if enum is not None else None)


def _check_type(name: str, kind: str, value: Any, what: str) -> None:
    fits = {
        "String": isinstance(value, str),
        "Integer": isinstance(value, int) and not isinstance(value, bool),
        "Float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "Boolean": isinstance(value, bool),
    }[kind]
    if not fits:
        raise DefinitionError(f"Parameter '{name}' is of Type {kind}, but {what} {value!r} is not.")


def _collect(
    raw_steps: list[Any], branch: Branch | None, steps: dict[str, Step], where: str
) -> None:
    for index, raw in enumerate(raw_steps):
        step = _step(raw, branch, f"{where}[{index}]")
        if step.name in steps:
            raise DefinitionError(
                f"Step names must be unique in a pipeline; '{step.name}' is used more than once."
            )
        steps[step.name] = step
        if step.type == "Condition":
            arguments = raw.get("Arguments") or {}
            for member, outcome in (("IfSteps", True), ("ElseSteps", False)):
                nested = _list(arguments, member, f"step '{step.name}' Arguments")
                _collect(nested, Branch(step.name, outcome), steps, f"{step.name}.{member}")


def _step(raw: Any, branch: Branch | None, where: str) -> Step:
    if not isinstance(raw, dict):
        raise DefinitionError(f"{where} must be an object with Name, Type and Arguments.")
    name, kind = raw.get("Name"), raw.get("Type")
    if not isinstance(name, str) or not STEP_NAME.fullmatch(name):
        raise DefinitionError(
            f"{where}.Name {name!r} is not valid: 1 to 64 letters, digits, '-' or '_'."
        )
    if kind not in STEP_TYPES:
        raise DefinitionError(
            f"Step '{name}' has Type {kind!r}, which is not a step type; allowed: {', '.join(STEP_TYPES)}."
        )
    depends_on = raw.get("DependsOn") or []
    if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
        raise DefinitionError(f"Step '{name}' DependsOn must be a list of step names.")
    arguments = raw.get("Arguments", {})
    if kind == "Condition":
        if not isinstance(arguments, dict) or not isinstance(arguments.get("Conditions"), list):
            raise DefinitionError(
                f"Condition step '{name}' must give Arguments.Conditions as a list."
            )
        arguments = {"Conditions": arguments["Conditions"]}
    return Step(
        name=name,
        type=kind,
        arguments=arguments,
        depends_on=tuple(depends_on),
        display_name=raw.get("DisplayName"),
        description=raw.get("Description"),
        retry_policies=tuple(
            _retry_policy(name, p, i) for i, p in enumerate(_list(raw, "RetryPolicies", name))
        ),
        cache=_cache(name, raw.get("CacheConfig")),
        property_files=tuple(_property_file(name, f) for f in _list(raw, "PropertyFiles", name)),
        branch=branch,
        raw={k: v for k, v in raw.items() if k not in ("Arguments",)},
    )


def _retry_policy(step: str, raw: Any, index: int) -> RetryPolicy:
    where = f"Step '{step}' RetryPolicies[{index}]"
    if not isinstance(raw, dict):
        raise DefinitionError(f"{where} must be an object.")
    types = raw.get("ExceptionType") or []
    if not isinstance(types, list) or not types:
        raise DefinitionError(
            f"{where}.ExceptionType must list at least one of {', '.join(RETRY_EXCEPTION_TYPES)}."
        )
    unknown = [t for t in types if t not in RETRY_EXCEPTION_TYPES]
    if unknown:
        raise DefinitionError(
            f"{where}.ExceptionType {unknown[0]!r} is not one of {', '.join(RETRY_EXCEPTION_TYPES)}."
        )
    attempts, expire = raw.get("MaxAttempts"), raw.get("ExpireAfterMin")
    if (attempts is None) == (expire is None):
        raise DefinitionError(f"{where} must give exactly one of MaxAttempts and ExpireAfterMin.")
    if attempts is not None and not (
        isinstance(attempts, int) and 1 <= attempts <= MAX_RETRY_ATTEMPTS
    ):
        raise DefinitionError(
            f"{where}.MaxAttempts {attempts!r} must be an integer from 1 to {MAX_RETRY_ATTEMPTS}."
        )
    if expire is not None and not (
        isinstance(expire, (int, float)) and 0 < expire <= MAX_EXPIRE_AFTER_MINUTES
    ):
        raise DefinitionError(
            f"{where}.ExpireAfterMin {expire!r} must be from 1 to {MAX_EXPIRE_AFTER_MINUTES} minutes."
        )
    interval, backoff = raw.get("IntervalSeconds", 1), raw.get("BackoffRate", 2.0)
    for member, value in (("IntervalSeconds", interval), ("BackoffRate", backoff)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise DefinitionError(f"{where}.{member} {value!r} must be a non-negative number.")
    return RetryPolicy(tuple(types), float(interval), float(backoff), attempts, expire)


def _cache(step: str, raw: Any) -> CacheConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("Enabled"), bool):
        raise DefinitionError(f"Step '{step}' CacheConfig must give Enabled as true or false.")
    expire = raw.get("ExpireAfter")
    if expire is not None:
        try:
            parse_duration(expire)
        except ValueError as exc:
            raise DefinitionError(f"Step '{step}' CacheConfig.ExpireAfter: {exc}") from exc
    return CacheConfig(raw["Enabled"], expire)


def _property_file(step: str, raw: Any) -> PropertyFile:
    if not isinstance(raw, dict) or not all(
        isinstance(raw.get(k), str) for k in ("PropertyFileName", "OutputName", "FilePath")
    ):
        raise DefinitionError(
            f"Step '{step}' PropertyFiles entries must give PropertyFileName, OutputName and FilePath."
        )
    return PropertyFile(raw["PropertyFileName"], raw["OutputName"], raw["FilePath"])
