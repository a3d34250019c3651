"""Training jobs with AlgorithmSpecification.ContainerEntrypoint: which ones sagebox runs.

A ContainerEntrypoint (with its ContainerArguments) replaces the image's own start-up;
the SageMaker Python SDK v3's ModelTrainer sends ``/bin/bash -c "... sm_train.sh"``
with its driver scripts in an ``sm_drivers`` channel and the user's code in ``code``.
sagebox runs the command as a local process with the image's framework installed
locally, so it takes framework images only; `entrypoint_setup` makes the command run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagebox.algorithms.registry import resolve
from sagebox.services.errors import ValidationError
from sagebox.services.training.frameworks import (
    Framework,
    framework_for_image,
    framework_repositories,
)


@dataclass(frozen=True)
class EntrypointPlan:
    """A framework image running the job's ContainerEntrypoint + ContainerArguments."""

    framework: Framework
    image: str
    command: tuple[str, ...]


def _image_kind(spec: Mapping[str, Any]) -> str:
    """How a message names the job's image: a built-in algorithm, or an image sagebox cannot run."""
    image, name = spec.get("TrainingImage"), spec.get("AlgorithmName")
    if name:
        return (
            f"AlgorithmName '{name}' is an algorithm resource, which runs its own training program"
        )
    algorithm = resolve(training_image=image, algorithm_name=None) if image else None
    if algorithm is not None:
        return (
            f"TrainingImage '{image}' is the built-in {algorithm.name} algorithm, which runs its own "
            "training program"
        )
    return f"TrainingImage '{image or ''}' is not a framework image"


def resolve_entrypoint(spec: Mapping[str, Any]) -> EntrypointPlan | None:
    """The plan of a job giving a ContainerEntrypoint, else None; raises ValidationError."""
    entrypoint = list(spec.get("ContainerEntrypoint") or [])
    arguments = list(spec.get("ContainerArguments") or [])
    if not entrypoint:
        if arguments:
            raise ValidationError(
                "AlgorithmSpecification.ContainerArguments: sagebox runs ContainerArguments only "
                "with a ContainerEntrypoint (it has no image ENTRYPOINT to pass them to); give the "
                "program in ContainerEntrypoint."
            )
        return None
    image = spec.get("TrainingImage")
    framework = None if spec.get("AlgorithmName") else framework_for_image(image)
    if framework is None or not image:
        raise ValidationError(
            f"AlgorithmSpecification.ContainerEntrypoint: {_image_kind(spec)}; sagebox runs a "
            f"ContainerEntrypoint only in framework images (repositories {framework_repositories()})."
        )
    if not entrypoint[0]:
        raise ValidationError(
            "AlgorithmSpecification.ContainerEntrypoint: the first element (the program) is empty."
        )
    return EntrypointPlan(framework=framework, image=image, command=(*entrypoint, *arguments))
