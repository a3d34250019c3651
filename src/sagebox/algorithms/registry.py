"""Which built-in algorithm a training image or algorithm name stands for.

SageMaker publishes each built-in algorithm as an image in a per-region registry,
e.g. ``683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1``. The
repository name (the last path segment, before ``:tag`` or ``@digest``) identifies
the algorithm whatever the registry host; anything else is a custom image.
"""

from __future__ import annotations

from sagebox.algorithms.algorithm import AlgorithmSpec
from sagebox.algorithms.automl_ensemble.spec import AUTOML_ENSEMBLE
from sagebox.algorithms.factorization_machines.spec import FACTORIZATION_MACHINES
from sagebox.algorithms.forecasting.spec import FORECASTING
from sagebox.algorithms.kmeans.spec import KMEANS
from sagebox.algorithms.knn.spec import KNN
from sagebox.algorithms.linear_learner.spec import LINEAR_LEARNER
from sagebox.algorithms.pca.spec import PCA
from sagebox.algorithms.random_cut_forest.spec import RANDOM_CUT_FOREST
from sagebox.algorithms.xgboost.spec import XGBOOST

__all__ = ["ALGORITHMS", "AlgorithmSpec", "image_version", "resolve", "split_image", "supported_images"]

ALGORITHMS: tuple[AlgorithmSpec, ...] = (
    XGBOOST,
    LINEAR_LEARNER,
    KMEANS,
    PCA,
    KNN,
    RANDOM_CUT_FOREST,
    FACTORIZATION_MACHINES,
    FORECASTING,  # Autopilot's time-series candidates
    AUTOML_ENSEMBLE,
)


def split_image(training_image: str) -> tuple[str, str | None]:
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
    return split_image(training_image)[1]


def resolve(
    training_image: str | None = None, algorithm_name: str | None = None
) -> AlgorithmSpec | None:
    """The built-in algorithm behind a training image or an ``AlgorithmName``.

    ``algorithm_name`` may be a short name (``xgboost``), an image repository name
    (``sagemaker-xgboost``) or an algorithm ARN ending in ``algorithm/xgboost``.
    Returns None for anything else (a custom image).
    """
    if training_image:
        spec = _by_repository(split_image(training_image)[0])
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

def supported_images() -> str:
    """A phrase naming what sagebox runs, for error messages."""
    repositories = ", ".join(f"'{spec.image_repositories[0]}'" for spec in ALGORITHMS)
    return (
        f"the built-in algorithms' images (repositories {repositories}, on any registry host, "
        "e.g. 683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1)"
    )
