"""Which properties each step type has, checked against botocore's shapes as the SDK builds them.

A step's properties are the answer of the Describe call of what it made (the SDK's
``step.properties`` are built from the same shapes): a training step's are
DescribeTrainingJobResponse, a tuning step's DescribeHyperParameterTuningJobResponse
together with ListTrainingJobsForHyperParameterTuningJobResponse (``TrainingJobSummaries``,
best first), a model step's DescribeModelOutput. A Condition step has ``Outcome``, a
Callback or Lambda step the ``OutputParameters['<name>']`` it declares, the check steps
their baselines. `property_problem` says why a ``Get`` cannot name a property of a step,
or None when it can. It reads only botocore's service model, no state.
"""

from __future__ import annotations

from collections.abc import Mapping

from botocore.model import Shape

from sagebox.service_models import service_model
from sagebox.services.pipelines.definition import Step
from sagebox.services.pipelines.expressions import Attribute, Index, Key, PathToken, PropertyRef

ROOT_SHAPES: Mapping[str, tuple[str, ...]] = {
    "Training": ("DescribeTrainingJobResponse",),
    "Processing": ("DescribeProcessingJobResponse",),
    "Tuning": (
        "DescribeHyperParameterTuningJobResponse",
        "ListTrainingJobsForHyperParameterTuningJobResponse",
    ),
    "Transform": ("DescribeTransformJobResponse",),
    "Model": ("DescribeModelOutput",),
    "RegisterModel": ("DescribeModelPackageOutput",),
    "AutoML": ("DescribeAutoMLJobResponse",),
    "EndpointConfig": ("DescribeEndpointConfigOutput",),
    "Endpoint": ("DescribeEndpointOutput",),
}
CHECK_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    "ClarifyCheck": ("CalculatedBaselineConstraints", "BaselineUsedForDriftCheckConstraints"),
    "QualityCheck": (
        "CalculatedBaselineStatistics",
        "CalculatedBaselineConstraints",
        "BaselineUsedForDriftCheckStatistics",
        "BaselineUsedForDriftCheckConstraints",
    ),
}


def property_problem(step: Step, reference: PropertyRef) -> str | None:
    """Why `reference` names no property of `step`, or None when it does."""
    path = reference.path
    if step.type == "Fail":
        return f"a Fail step has no properties, so '{reference.text}' names nothing"
    if step.type == "Condition":
        return (
            None
            if path == (Attribute("Outcome"),)
            else f"a Condition step's only property is Outcome, not '{_text(path)}'"
        )
    if step.type in ("Callback", "Lambda"):
        return _output_parameter_problem(step, path)
    if step.type in CHECK_PROPERTIES:
        names = CHECK_PROPERTIES[step.type]
        if len(path) == 1 and isinstance(path[0], Attribute) and path[0].name in names:
            return None
        return f"a {step.type} step's properties are {', '.join(names)}, not '{_text(path)}'"
    if step.type == "EMR":
        return None  # the EMR service's own shapes; an EMR step fails when it runs anyway
    roots = ROOT_SHAPES[step.type]
    problems = []
    for root in roots:
        problem = _walk(service_model("sagemaker").shape_for(root), path)
        if problem is None:
            return None
        problems.append(problem)
    return f"{' or '.join(roots)}: {problems[0]}"


def _output_parameter_problem(step: Step, path: tuple[PathToken, ...]) -> str | None:
    declared = step.output_parameters
    if (
        len(path) == 2
        and path[0] == Attribute("OutputParameters")
        and isinstance(path[1], Key)
        and path[1].key in declared
    ):
        return None
    return (
        f"a {step.type} step's properties are OutputParameters['<name>'] for the OutputParameters it declares "
        f"({', '.join(declared) or 'none'}), not '{_text(path)}'"
    )


def _walk(shape: Shape, path: tuple[PathToken, ...]) -> str | None:
    for token in path:
        kind = shape.type_name
        if isinstance(token, Attribute):
            members = getattr(shape, "members", {}) if kind == "structure" else {}
            if token.name not in members:
                return f"{shape.name} has no member '{token.name}'"
            shape = members[token.name]
        elif kind == "list":
            shape = shape.member  # type: ignore[attr-defined]
            if isinstance(token, Key) and shape.type_name != "structure":
                return f"{shape.name} items have no names to select '{token.key}' by"
        elif kind == "map" and isinstance(token, Key):
            shape = shape.value  # type: ignore[attr-defined]
        else:
            what = f"[{token.position}]" if isinstance(token, Index) else f"['{token.key}']"
            return f"{shape.name} is a {kind}, which cannot be indexed with {what}"
    return None


def _text(path: tuple[PathToken, ...]) -> str:
    parts = []
    for token in path:
        if isinstance(token, Attribute):
            parts.append(("." if parts else "") + token.name)
        elif isinstance(token, Index):
            parts.append(f"[{token.position}]")
        else:
            parts.append(f"['{token.key}']")
    return "".join(parts)
