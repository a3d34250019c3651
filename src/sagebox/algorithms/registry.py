"""Which built-in algorithm a training image or algorithm name stands for.

SageMaker publishes each built-in algorithm as an image in a per-region registry,
e.g. ``683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1``. The
repository name (the last path segment, before ``:tag`` or ``@digest``) identifies
the algorithm whatever the registry host; anything else is a custom image.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sagebox.algorithms.hyperparameters import HyperparameterSpace
from sagebox.algorithms.xgboost.hyperparameters import XGBOOST_HYPERPARAMETERS
from sagebox.algorithms.xgboost.metrics import METRIC_DEFINITIONS as XGBOOST_METRICS


@dataclass(frozen=True)
class AlgorithmSpec:
    """A built-in algorithm: how to recognise it, run it and validate a job for it."""

    name: str
    image_repositories: tuple[str, ...]
    entry_module: str
    """Run as ``python -m <entry_module>`` inside the job's folder."""
    hyperparameters: HyperparameterSpace
    metric_definitions: tuple[dict[str, str], ...]
    channels: tuple[str, ...]
    required_channels: tuple[str, ...]
    content_types: tuple[str, ...]
    default_content_type: str

    def validate_hyperparameters(self, raw: Mapping[str, Any]) -> dict[str, object]:
        """Typed hyperparameters with defaults filled; raises ``HyperparameterError``."""
        return self.hyperparameters.validate(raw)


XGBOOST = AlgorithmSpec(
    name="xgboost",
    image_repositories=("sagemaker-xgboost", "xgboost"),
    entry_module="sagebox.algorithms.xgboost",
    hyperparameters=XGBOOST_HYPERPARAMETERS,
    metric_definitions=XGBOOST_METRICS,
    channels=("train", "validation"),
    required_channels=("train",),
    content_types=("text/csv", "text/libsvm", "text/x-libsvm", "csv", "libsvm"),
    default_content_type="text/libsvm",
)

ALGORITHMS: tuple[AlgorithmSpec, ...] = (
    XGBOOST,
)


def _split_image(training_image: str) -> tuple[str, str | None]:
    """(repository, tag) of an image URI; the tag is None for digests or no tag."""
    reference = training_image.strip().partition("@")[0]
    last_segment = reference.rpartition("/")[2]
    repository, colon, tag = last_segment.partition(":")
    return repository.lower(), (tag if colon and tag else None)


def _by_repository(repository: str) -> AlgorithmSpec | None:
    for spec in ALGORITHMS:
        if repository in spec.image_repositories:
            return spec
    return None


def image_version(training_image: str) -> str | None:
    """The tag of an image URI (``1.7-1`` in ``.../sagemaker-xgboost:1.7-1``), if any."""
    return _split_image(training_image)[1]


def resolve(
    training_image: str | None = None, algorithm_name: str | None = None
) -> AlgorithmSpec | None:
    """The built-in algorithm behind a training image or an ``AlgorithmName``.

    ``algorithm_name`` may be a short name (``xgboost``), an image repository name
    (``sagemaker-xgboost``) or an algorithm ARN ending in ``algorithm/xgboost``.
    Returns None for anything else (a custom image).
    """
    if training_image:
        spec = _by_repository(_split_image(training_image)[0])
        if spec is not None:
            return spec
    if algorithm_name:
        name = algorithm_name.strip().lower()
        if name.startswith("arn:"):
            name = name.rpartition(":")[2].removeprefix("algorithm/")
        for spec in ALGORITHMS:
            if name == spec.name or name in spec.image_repositories:
                return spec
    return None
