"""The checks CreatePipeline, UpdatePipeline and StartPipelineExecution make before anything runs.

A definition is refused, naming what is wrong, when a step refers to a step, parameter,
execution variable, property or property file that does not exist, names an unknown step
in DependsOn, has a malformed expression or condition, or when its steps depend on each
other in a cycle. Start parameters are checked against the declared ones: names, types,
enum values, and a value for every parameter without a default. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sagebox.services.pipelines.conditions import ConditionError, check, operands
from sagebox.services.pipelines.definition import (
    DefinitionError,
    Parameter,
    PipelineDefinition,
    Step,
)
from sagebox.services.pipelines.expressions import (
    EXECUTION_VARIABLES,
    ExecutionRef,
    ExpressionError,
    ParameterRef,
    PropertyFileRef,
    PropertyRef,
    Reference,
    references,
)
from sagebox.services.pipelines.graph import PipelineGraph
from sagebox.services.pipelines.properties import property_problem

_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def validate(definition: PipelineDefinition) -> PipelineGraph:
    """The definition's graph once every check passes; DefinitionError names the first failure."""
    steps = definition.steps
    for step in steps.values():
        for dependency in step.depends_on:
            if dependency not in steps:
                raise DefinitionError(
                    f"Step '{step.name}' DependsOn '{dependency}', which is not a step of the pipeline."
                )
            if dependency == step.name:
                raise DefinitionError(f"Step '{step.name}' cannot depend on itself.")
        _check_step_shape(step)
        for value in _expression_trees(step):
            _check_references(definition, step.name, _references(value, f"step '{step.name}'"))
    if definition.experiment_config:
        _check_references(
            definition,
            None,
            _references(dict(definition.experiment_config), "PipelineExperimentConfig"),
        )
    graph = PipelineGraph(definition)
    cycle = graph.find_cycle()
    if cycle:
        raise DefinitionError(
            "The pipeline's steps depend on each other in a cycle: "
            + " -> ".join(cycle)
            + " (each step needs the next, through DependsOn or a property reference)."
        )
    return graph


def _expression_trees(step: Step) -> Iterable[Any]:
    if step.type == "Condition":
        return [value for condition in step.conditions for value in operands(condition)]
    return [step.arguments]


def _check_step_shape(step: Step) -> None:
    if step.type == "Condition":
        if not step.conditions:
            raise DefinitionError(f"Condition step '{step.name}' needs at least one condition.")
        for index, condition in enumerate(step.conditions):
            try:
                check(condition, f"Condition step '{step.name}' Conditions[{index}]")
            except ConditionError as exc:
                raise DefinitionError(str(exc)) from exc
    elif step.type == "Callback" and not isinstance(step.raw.get("SqsQueueUrl"), str):
        raise DefinitionError(f"Callback step '{step.name}' must give SqsQueueUrl.")
    elif step.type == "Lambda" and not isinstance(step.raw.get("FunctionArn"), str):
        raise DefinitionError(f"Lambda step '{step.name}' must give FunctionArn.")
    elif step.type not in ("Condition", "Callback", "Lambda", "Fail") and not isinstance(
        step.arguments, dict
    ):
        raise DefinitionError(
            f"Step '{step.name}' of Type {step.type} must give its Arguments as an object."
        )
    for file in step.property_files:
        if step.type != "Processing":
            raise DefinitionError(
                f"Step '{step.name}' declares PropertyFiles, which only Processing steps have."
            )
        outputs = ((step.arguments or {}).get("ProcessingOutputConfig") or {}).get("Outputs") or []
        if file.output_name not in [o.get("OutputName") for o in outputs if isinstance(o, dict)]:
            raise DefinitionError(
                f"Step '{step.name}' PropertyFile '{file.name}' names OutputName '{file.output_name}', "
                "which is not one of the step's ProcessingOutputConfig outputs."
            )


def _references(value: Any, where: str) -> list[Reference]:
    try:
        return list(references(value))
    except ExpressionError as exc:
        raise DefinitionError(f"In {where}: {exc}.") from exc


def _check_references(
    definition: PipelineDefinition, owner: str | None, found: list[Reference]
) -> None:
    where = f"Step '{owner}'" if owner else "PipelineExperimentConfig"
    steps = definition.steps
    for reference in found:
        if isinstance(reference, ParameterRef):
            if definition.parameter(reference.name) is None:
                raise DefinitionError(
                    f"{where} refers to Parameters.{reference.name}, which is not a parameter of the pipeline."
                )
        elif isinstance(reference, ExecutionRef):
            if reference.name not in EXECUTION_VARIABLES:
                raise DefinitionError(
                    f"{where} refers to Execution.{reference.name}, which is not an execution variable "
                    f"({', '.join(EXECUTION_VARIABLES)})."
                )
        elif reference.step not in steps:
            text = (
                reference.text
                if isinstance(reference, PropertyRef)
                else f"Steps.{reference.step}.PropertyFiles.{reference.file}"
            )
            raise DefinitionError(
                f"{where} refers to {text}, but there is no step named '{reference.step}'."
            )
        elif reference.step == owner:
            raise DefinitionError(
                f"{where} refers to its own properties, which exist only once it has run."
            )
        elif isinstance(reference, PropertyFileRef):
            target = steps[reference.step]
            if reference.file not in [f.name for f in target.property_files]:
                raise DefinitionError(
                    f"{where} refers to property file '{reference.file}' of step '{reference.step}', "
                    "which declares no such PropertyFile."
                )
        else:
            problem = property_problem(steps[reference.step], reference)
            if problem:
                raise DefinitionError(
                    f"{where} refers to an unknown property {reference.text}: {problem}."
                )


def resolve_parameters(
    definition: PipelineDefinition, given: list[Mapping[str, str]] | None
) -> dict[str, Any]:
    """Every parameter's value for one execution, typed as declared; DefinitionError says
    which given parameter does not fit, or which parameter without a default was not given."""
    values: dict[str, Any] = {}
    seen: set[str] = set()
    for item in given or []:
        name, text = item["Name"], item["Value"]
        parameter = definition.parameter(name)
        if parameter is None:
            declared = ", ".join(p.name for p in definition.parameters) or "none"
            raise DefinitionError(
                f"Parameter '{name}' is not a parameter of the pipeline (declared: {declared})."
            )
        if name in seen:
            raise DefinitionError(f"Parameter '{name}' is given more than once.")
        seen.add(name)
        values[name] = typed_value(parameter, text)
    for parameter in definition.parameters:
        if parameter.name in values:
            continue
        if not parameter.has_default:
            raise DefinitionError(
                f"Parameter '{parameter.name}' has no default value, so StartPipelineExecution must give one."
            )
        values[parameter.name] = parameter.default
    return values


def typed_value(parameter: Parameter, text: str) -> Any:
    """A start parameter's string as a value of the parameter's type, within its enum values."""
    value: Any
    if parameter.type == "Integer":
        try:
            value = int(text)
        except ValueError:
            raise DefinitionError(
                f"Parameter '{parameter.name}' is an Integer; '{text}' is not an integer."
            ) from None
    elif parameter.type == "Float":
        try:
            value = float(text)
        except ValueError:
            raise DefinitionError(
                f"Parameter '{parameter.name}' is a Float; '{text}' is not a number."
            ) from None
    elif parameter.type == "Boolean":
        if text.strip().lower() not in (*_TRUE, *_FALSE):
            raise DefinitionError(
                f"Parameter '{parameter.name}' is a Boolean; '{text}' is not true or false."
            )
        value = text.strip().lower() in _TRUE
    else:
        value = text
    if parameter.enum_values is not None and value not in parameter.enum_values:
        allowed = ", ".join(str(v) for v in parameter.enum_values)
        raise DefinitionError(
            f"Parameter '{parameter.name}' value '{text}' is not one of its EnumValues: {allowed}."
        )
    return value
